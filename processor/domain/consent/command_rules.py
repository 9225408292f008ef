"""Commands (manual, API, import, global opt-out, number change): ``COMMAND_RULES``, the
permissions they need, and the timer's window expiry. Here lives the rule that a manual or API
opt-in is refused after the phone itself texted STOP (``opt_in_refused``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from msgspec.structs import replace

from processor.domain.consent.send_rules import release_held
from processor.domain.consent.state import Decision, Effects, Evidence, PhoneState, has_open_window
from processor.domain.consent.statuses import ANY_STATUS, IN, NO, OUT, PENDING, PHONE_SOURCES
from processor.domain.gateways.config import (
    API_PERMISSION,
    MANUAL_PERMISSION,
    GatewayConfig,
    Gateways,
)
from processor.domain.gateways.modes import OptInFlow
from processor.domain.models.enums import (
    CommandOutcome,
    CommandType,
    ConsentSource,
    ConsentStatus,
    ImportStatus,
    ReplyKind,
)
from processor.domain.models.inputs import Command
from processor.domain.models.outputs import CommandResult
from processor.domain.models.subscription import GLOBAL_GATEWAY, Subscription


@dataclass(frozen=True, slots=True)
class CommandRule:
    name: str
    commands: frozenset[CommandType]
    statuses: frozenset[ConsentStatus]
    outcome: CommandOutcome = CommandOutcome.APPLIED
    to: ConsentStatus | None = None
    source: ConsentSource | None = None
    detail: str = ""  # "{actor}" is the command's actor
    reason: str | None = None
    # None: either; True: only when the Opt-Out came from the phone itself (a keyword).
    phone_opted_out: bool | None = None
    import_statuses: frozenset[ImportStatus] | None = None

    def matches(self, command: Command, sub: Subscription, gateway_level: Subscription) -> bool:
        if command.type not in self.commands or sub.status not in self.statuses:
            return False
        if self.import_statuses is not None and command.import_status not in self.import_statuses:
            return False
        if self.phone_opted_out is not None:
            return _opted_out_by_phone(sub, gateway_level) == self.phone_opted_out
        return True


def _opted_out_by_phone(sub: Subscription, gateway_level: Subscription) -> bool:
    """The phone texted an opt-out to this subscription or to its whole gateway."""
    return any(s.status is OUT and s.source in PHONE_SOURCES for s in (sub, gateway_level))


_MANUAL_OUT = frozenset({CommandType.MANUAL_OPT_OUT})
_API_OUT = frozenset({CommandType.API_OPT_OUT})
_MANUAL_IN = frozenset({CommandType.MANUAL_OPT_IN})
_API_IN = frozenset({CommandType.API_OPT_IN})
_OPT_INS = _MANUAL_IN | _API_IN
_IMPORT = frozenset({CommandType.IMPORT})
_JOIN = frozenset({ImportStatus.ACTIVE, ImportStatus.SUBSCRIBE})
_LEAVE = frozenset({ImportStatus.UNSUBSCRIBE})

# The permission each command type needs; a command without it is rejected (Mogli's
# permission set). Opting out is always allowed to an actor who holds the permission.
COMMAND_PERMISSIONS: Mapping[CommandType, frozenset[str]] = MappingProxyType({
    CommandType.MANUAL_OPT_IN: frozenset({MANUAL_PERMISSION}),
    CommandType.MANUAL_OPT_OUT: frozenset({MANUAL_PERMISSION}),
    CommandType.API_OPT_IN: frozenset({API_PERMISSION}),
    CommandType.API_OPT_OUT: frozenset({API_PERMISSION}),
    CommandType.GLOBAL_OPT_OUT_CLEAR: frozenset({MANUAL_PERMISSION}),
    # It undoes every opt-out of the old number: a person or a system allowed to do that.
    CommandType.NUMBER_CHANGED: frozenset({MANUAL_PERMISSION, API_PERMISSION}),
})

COMMAND_RULES: tuple[CommandRule, ...] = (
    # 6/7. Manual and API opt-out: always allowed.
    CommandRule("manual_opt_out", _MANUAL_OUT, frozenset({NO, PENDING, IN}), to=OUT,
                source=ConsentSource.MANUAL, detail="Manual opt-out by {actor}"),
    CommandRule("api_opt_out", _API_OUT, frozenset({NO, PENDING, IN}), to=OUT,
                source=ConsentSource.API, detail="API opt-out by {actor}"),
    CommandRule("opt_out_repeat", _MANUAL_OUT | _API_OUT, frozenset({OUT}),
                reason="already Opt-Out"),
    # 6/7. Only the phone can undo an opt-out it texted (Mogli).
    CommandRule("opt_in_refused", _OPT_INS, ANY_STATUS, outcome=CommandOutcome.REJECTED,
                phone_opted_out=True,
                reason="the phone opted out by keyword; only the phone can opt back in, by "
                       "texting an opt-in keyword such as START"),
    CommandRule("manual_opt_in", _MANUAL_IN, frozenset({NO, PENDING, OUT}), to=IN,
                source=ConsentSource.MANUAL, detail="Manual opt-in by {actor}"),
    CommandRule("api_opt_in", _API_IN, frozenset({NO, PENDING, OUT}), to=IN,
                source=ConsentSource.API, detail="API opt-in by {actor}"),
    CommandRule("opt_in_repeat", _OPT_INS, frozenset({IN}), reason="already Opt-In"),
    # 8. Imports opt in only where the phone never opted out (MobileConnect).
    CommandRule("import_refused", _IMPORT, frozenset({OUT}), outcome=CommandOutcome.REJECTED,
                import_statuses=_JOIN,
                reason="an import cannot opt in a subscription that is Opt-Out"),
    CommandRule("import_opt_in", _IMPORT, frozenset({NO, PENDING}), to=IN,
                source=ConsentSource.IMPORT, detail="Opt-in by import ({actor})",
                import_statuses=_JOIN),
    CommandRule("import_repeat", _IMPORT, frozenset({IN}), import_statuses=_JOIN,
                reason="already Opt-In"),
    CommandRule("import_opt_out", _IMPORT, frozenset({NO, PENDING, IN}), to=OUT,
                source=ConsentSource.IMPORT, detail="Opt-out by import ({actor})",
                import_statuses=_LEAVE),
    CommandRule("import_opt_out_repeat", _IMPORT, frozenset({OUT}), import_statuses=_LEAVE,
                reason="already Opt-Out"),
    # 9. The record-level opt-out that blocks every send.
    CommandRule("global_opt_out", frozenset({CommandType.GLOBAL_OPT_OUT_SET}),
                frozenset({NO, PENDING, IN}), to=OUT, source=ConsentSource.GLOBAL,
                detail="Global opt-out by {actor}"),
    CommandRule("global_opt_out_repeat", frozenset({CommandType.GLOBAL_OPT_OUT_SET}),
                frozenset({OUT}), reason="global opt-out already set"),
    CommandRule("global_opt_out_cleared", frozenset({CommandType.GLOBAL_OPT_OUT_CLEAR}),
                frozenset({OUT}), to=NO, source=ConsentSource.GLOBAL,
                detail="Global opt-out cleared by {actor}"),
    CommandRule("global_opt_out_not_set", frozenset({CommandType.GLOBAL_OPT_OUT_CLEAR}),
                frozenset({NO, PENDING, IN}), reason="no global opt-out to clear"),
    # 10. Twilio for Salesforce: a changed number must opt in again.
    CommandRule("number_changed", frozenset({CommandType.NUMBER_CHANGED}),
                frozenset({PENDING, IN, OUT}), to=NO, source=ConsentSource.NUMBER_CHANGE,
                detail="Number changed"),
    CommandRule("number_changed_no_opt_in", frozenset({CommandType.NUMBER_CHANGED}),
                frozenset({NO})),
)


# The rules that name each command type, in table order: the others cannot match it.
_COMMAND_BY_TYPE: Mapping[CommandType, tuple[CommandRule, ...]] = MappingProxyType({
    kind: tuple(r for r in COMMAND_RULES if kind in r.commands) for kind in CommandType})


def match_command_rule(command: Command, sub: Subscription,
                       gateway_level: Subscription) -> CommandRule | None:
    for rule in _COMMAND_BY_TYPE[command.type]:
        if rule.matches(command, sub, gateway_level):
            return rule
    return None


_OPT_OUT_COMMANDS = _MANUAL_OUT | _API_OUT


def _command_targets(state: PhoneState, command: Command) -> list[Subscription]:
    if command.type in {CommandType.GLOBAL_OPT_OUT_SET, CommandType.GLOBAL_OPT_OUT_CLEAR}:
        return [state.global_opt_out]
    if command.type is CommandType.NUMBER_CHANGED:
        # The global opt-out stays: it was an explicit instruction, cleared only by a command.
        # Sorted: the order of events must not depend on how the state was stored.
        return sorted((s for s in state.subscriptions.values() if s.gateway != GLOBAL_GATEWAY),
                      key=lambda s: (s.gateway, s.keyword or ""))
    assert command.gateway is not None  # the codec requires a gateway for these types
    leaving = (command.type in _OPT_OUT_COMMANDS
               or command.import_status is ImportStatus.UNSUBSCRIBE)
    if leaving and command.keyword is None:
        return state.scopes(command.gateway)  # like STOP: the whole gateway
    return [state.get(command.gateway, command.keyword)]


def decide_command(state: PhoneState, command: Command, gateways: Gateways,
                   now: int) -> Decision:
    """Applies one command; it yields exactly one command result, applied or rejected."""
    if command.type is CommandType.EXPIRE_WINDOW:
        assert command.gateway is not None  # the codec requires it
        return decide_expiry(state, command, gateways.get(command.gateway), now)
    fx = Effects(command.command_id, state.phone, now, Evidence(command_id=command.command_id))
    needed = COMMAND_PERMISSIONS.get(command.type, frozenset())
    if needed and needed.isdisjoint(command.permissions):
        return fx.decision(_command_result(
            command, fx, CommandOutcome.REJECTED,
            f"actor {command.actor!r} lacks the permission "
            f"{' or '.join(repr(p) for p in sorted(needed))}"))
    reasons: list[str] = []
    for target in _command_targets(state, command):
        rule = match_command_rule(command, target, state.get(target.gateway))
        if rule is None:
            continue
        if rule.outcome is CommandOutcome.REJECTED:
            # A rejected target rejects the command: it never applies halfway.
            untouched = Effects(command.command_id, state.phone, now)
            return untouched.decision(
                _command_result(command, untouched, CommandOutcome.REJECTED, rule.reason))
        if rule.to is not None and rule.source is not None:
            sub = fx.transition(target, rule.to, rule.source,
                                rule.detail.format(actor=command.actor), actor=command.actor)
            fx.settle_held(state, sub, gateways.get(sub.gateway))
        elif rule.reason:
            reasons.append(rule.reason)
    reason = None if fx.events else ("; ".join(sorted(set(reasons))) or "no change")
    return fx.decision(_command_result(command, fx, CommandOutcome.APPLIED, reason))


def _command_result(command: Command, fx: Effects, outcome: CommandOutcome,
                    reason: str | None) -> CommandResult:
    return CommandResult(
        command_id=command.command_id, type=command.type, phone=command.phone,
        result=outcome, decided_at=fx.now, gateway=command.gateway, keyword=command.keyword,
        reason=reason, event_ids=tuple(e.event_id for e in fx.events),
    )


# Window expiry ----------------------------------------------------------------------------


def decide_expiry(state: PhoneState, command: Command, gw: GatewayConfig, now: int) -> Decision:
    """An ``expire_window`` tick from the timer. A confirmation window that closed (rule 3):
    the subscription stays Opt-In Pending, now treated as opted out, and an expiry event says
    so. Sends held for quiet hours that became sendable: they are decided again, in order. A
    stale or early tick (the phone confirmed, a newer window opened, the holds left or moved,
    the clock is not there yet) decides nothing."""
    fx = Effects(command.command_id, state.phone, now)
    sub = state.get(gw.id, command.keyword)
    until = command.until
    if sub.held and sub.held_until is not None and not has_open_window(sub):
        if until is None or sub.held_until != until or now < until:
            return fx.decision(_command_result(command, fx, CommandOutcome.APPLIED,
                                               "no held sends due at this time"))
        release_held(fx, state, sub, gw)
        return fx.decision(_command_result(command, fx, CommandOutcome.APPLIED, None))
    if (sub.status is not PENDING or sub.window_closed or until is None
            or sub.pending_until != until or now < until):
        return fx.decision(_command_result(command, fx, CommandOutcome.APPLIED,
                                           "no open window to expire"))
    closed = fx.transition(sub, PENDING, ConsentSource.EXPIRY,
                           "Opt-in window closed without confirmation", actor=None)
    closed = fx.store(replace(closed, window_closed=True, pending_until=until))
    if gw.flow is OptInFlow.CONSENT_REQUEST:
        fx.notice(gw, closed, ReplyKind.NOTICE_EXPIRED)
    fx.settle_held(state, closed, gw)
    return fx.decision(_command_result(command, fx, CommandOutcome.APPLIED, None))
