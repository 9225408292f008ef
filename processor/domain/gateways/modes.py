"""Gateway modes, declared in one place: each mode names the rule families it uses.

To add a mode, add its member to ``GatewayMode`` and its row to ``MODE_RULES``; nothing else
names a mode. A mode without a row fails at import (``check_declared``), so no mode silently
gets another's rules. A mode that needs a new way of opting in adds an ``OptInFlow`` member and
that flow's inbound rules (``processor/domain/consent/inbound_rules.py``); the consent table
tests fail for a flow without them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


class GatewayMode(enum.StrEnum):
    DEFAULT = "default"  # everyone may be texted until they opt out (Mogli default)
    MANDATORY = "mandatory"  # only Opt-In may be texted (Mogli mandatory opt-in)
    DOUBLE_OPT_IN = "double_opt_in"  # opt-in keyword -> pending; verification keyword confirms
    CONSENT_REQUEST = "consent_request"  # Movius "Opt-In with Consent"
    DISCLAIMER = "disclaimer"  # Movius "Opt-In Disclaimer"


class OptInFlow(enum.Enum):
    """How a phone comes to be opted in: the group of inbound rules (``INBOUND_RULES``) a mode
    uses, and the send rules that go with it."""

    # An opt-in keyword opts in at once (and, with create_opt_in_on_incoming, any first text).
    KEYWORD = "keyword"
    # An opt-in keyword gives Opt-In Pending and a confirmation request; the verification
    # keyword inside the window confirms.
    DOUBLE_OPT_IN = "double_opt_in"
    # The phone is asked for consent when either side texts first (Movius): its answers are
    # confirmed and reported to the gateway's owner, and sends wait (held) for the answer.
    CONSENT_REQUEST = "consent_request"


@dataclass(frozen=True, slots=True)
class ModeRules:
    """What one gateway mode means: the rule families that apply to it."""

    opt_in_flow: OptInFlow
    # Send rule consent_required: only an Opt-In subscription may be texted.
    requires_consent: bool
    # The first message forwarded to a phone is preceded by the disclaimer reply.
    disclaimer_first: bool = False

    @property
    def confirms_consent(self) -> bool:
        """Consent must be confirmed explicitly: no opt-in from an ordinary incoming text."""
        return self.opt_in_flow is not OptInFlow.KEYWORD


MODE_RULES: Mapping[GatewayMode, ModeRules] = MappingProxyType({
    GatewayMode.DEFAULT: ModeRules(OptInFlow.KEYWORD, requires_consent=False),
    GatewayMode.MANDATORY: ModeRules(OptInFlow.KEYWORD, requires_consent=True),
    GatewayMode.DOUBLE_OPT_IN: ModeRules(OptInFlow.DOUBLE_OPT_IN, requires_consent=True),
    GatewayMode.CONSENT_REQUEST: ModeRules(OptInFlow.CONSENT_REQUEST, requires_consent=True),
    GatewayMode.DISCLAIMER: ModeRules(OptInFlow.KEYWORD, requires_consent=False,
                                      disclaimer_first=True),
})


def check_declared(modes: Iterable[enum.Enum], table: Mapping[GatewayMode, ModeRules]) -> None:
    """Raises TypeError naming every mode without its row in ``table``."""
    missing = [mode.value for mode in modes if mode not in table]
    if missing:
        raise TypeError(f"gateway mode(s) {', '.join(map(repr, missing))} have no MODE_RULES "
                        "row: declare which rule families they use in "
                        "processor/domain/gateways/modes.py")


check_declared(GatewayMode, MODE_RULES)


def modes_of(flow: OptInFlow) -> tuple[GatewayMode, ...]:
    """The modes that use an opt-in flow, in declaration order."""
    return tuple(mode for mode, rules in MODE_RULES.items() if rules.opt_in_flow is flow)
