"""Gateway modes are declared in one place (processor/domain/gateways/modes.py): every mode names
its rule families, and every opt-in flow has its own inbound rules. A mode or flow added without
them fails here instead of silently getting the plain rules."""

from __future__ import annotations

import enum

import pytest

from processor.domain.consent.inbound_rules import INBOUND_RULES, Scope, Trigger, match_inbound_rule
from processor.domain.consent.statuses import IN, NO, OUT, PENDING
from processor.domain.gateways.config import GatewayConfig
from processor.domain.gateways.modes import (
    MODE_RULES,
    GatewayMode,
    OptInFlow,
    check_declared,
    modes_of,
)
from processor.domain.models.enums import ConsentStatus
from tests.support.consent_helpers import HOUR, NOW, sub

BEFORE_OPT_IN = (NO, PENDING, IN)


def test_every_mode_declares_its_rule_families() -> None:
    assert [mode for mode in GatewayMode if mode not in MODE_RULES] == []
    check_declared(GatewayMode, MODE_RULES)


def test_a_mode_without_its_declaration_is_refused() -> None:
    # What adding a member to GatewayMode without a MODE_RULES row does at import.
    extended = enum.StrEnum("Extended", {**{m.name: m.value for m in GatewayMode},
                                         "PAPER_FORM": "paper_form"})
    with pytest.raises(TypeError, match=r"'paper_form'.*processor/domain/gateways/modes\.py"):
        check_declared(extended, MODE_RULES)


@pytest.mark.parametrize("flow", list(OptInFlow))
def test_every_opt_in_flow_is_used_and_has_its_own_rules(flow: OptInFlow) -> None:
    """A flow's rules, read from the table: STOP opts out from every status, on the gateway
    that received it and brand-wide; an opt-in keyword, a campaign keyword and the verification
    keyword each do something from No Opt-In; HELP is answered."""
    assert modes_of(flow), f"no gateway mode uses {flow}"
    mine = [rule for rule in INBOUND_RULES if flow in rule.flows]

    def handled(trigger: Trigger, status: ConsentStatus, scope: Scope = Scope.RECEIVING,
                to: frozenset[ConsentStatus] | None = None) -> bool:
        return any(trigger in r.triggers and status in r.statuses and r.scope is scope
                   and r.to is not None and (to is None or r.to in to) for r in mine)

    for status in BEFORE_OPT_IN:
        for scope in Scope:
            assert handled(Trigger.OPT_OUT, status, scope, frozenset({OUT})), (flow, status, scope)
        assert handled(Trigger.SCOPE_OPT_OUT, status, to=frozenset({OUT})), (flow, status)
    for trigger in (Trigger.OPT_IN, Trigger.CAMPAIGN, Trigger.VERIFY):
        assert handled(trigger, NO, to=frozenset({IN, PENDING})), (flow, trigger)
    assert any(Trigger.HELP in r.triggers and r.reply is not None for r in mine), flow


@pytest.mark.parametrize("mode", list(GatewayMode))
def test_every_mode_runs_its_flows_rules(mode: GatewayMode) -> None:
    """Through the rule matcher, as decide_inbound uses it: each mode's STOP opts out and its
    opt-in keyword does what its flow says."""
    gw = GatewayConfig(id="gw1", mode=mode)
    declared = MODE_RULES[mode]
    assert (gw.flow, gw.requires_consent) == (declared.opt_in_flow, declared.requires_consent)
    for status in BEFORE_OPT_IN:
        rule = match_inbound_rule(Trigger.OPT_OUT, gw, sub(status, "gw1",
                                                             pending_until=NOW + HOUR), NOW)
        assert rule is not None and rule.to is OUT, (mode, status)
    opt_in = match_inbound_rule(Trigger.OPT_IN, gw, sub(NO, "gw1"), NOW)
    assert opt_in is not None and flow_of(opt_in.name) is declared.opt_in_flow, (mode, opt_in)


def flow_of(rule_name: str) -> OptInFlow:
    """The flow an opt-in rule belongs to, by the one flow it names."""
    (flow,) = next(r.flows for r in INBOUND_RULES if r.name == rule_name)
    return flow
