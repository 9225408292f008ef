"""The consent state machine: inbound messages, commands and timer ticks -> transitions.

Pure functions over frozen data. Two ordered tables drive everything, and the tests iterate
the same tables: ``INBOUND_RULES`` (what a classified inbound message does to a subscription,
on the gateway that received it and, with a brand-wide revocation scope, on the other gateways
of its brand) and ``COMMAND_RULES`` (manual/API/import/global/number-change commands). The first
rule that matches wins. The send decision lives in ``processor.domain.policy``; a transition
that settles held send requests has them decided there again.

Every event carries its evidence: the text that made it (with the phone's exact words when
they were an opt-in or opt-out), or the command.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import msgspec
from msgspec.structs import replace

from processor.domain.gateways import (
    API_PERMISSION,
    MANUAL_PERMISSION,
    GatewayConfig,
    GatewayMode,
    Gateways,
)

if TYPE_CHECKING:
    from processor.domain.policy import Release
from processor.domain.classify.classification import Classification
from processor.domain.ids import derived_id
from processor.domain.models.enums import (
    CommandOutcome,
    CommandType,
    ConsentSource,
    ConsentStatus,
    ImportStatus,
    Intent,
    ReplyKind,
    SendDebug,
    SendStatus,
)
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.outputs import (
    CommandResult,
    ConsentEvent,
    Notice,
    OutboundMessage,
    SendResult,
)
from processor.domain.models.subscription import GLOBAL_GATEWAY, Subscription

NO = ConsentStatus.NO_OPT_IN
PENDING = ConsentStatus.OPT_IN_PENDING
IN = ConsentStatus.OPT_IN
OUT = ConsentStatus.OPT_OUT
ANY_STATUS = frozenset(ConsentStatus)
ALL_MODES = frozenset(GatewayMode)

# Sources that mean "the phone itself said so": only the phone can undo such an opt-out.
PHONE_SOURCES = frozenset({ConsentSource.KEYWORD, ConsentSource.CONFIRMATION})

SubKey = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class SendLog:
    """When campaign sends to the phone were forwarded from one gateway (or one of its
    campaign keywords), for the gateway's frequency cap: the times inside the cap's window,
    oldest first, and a version the store fences like a subscription's. Kept in the consent
    store only (not on a topic): the decision a replay repeats is in the stored outcome."""

    gateway: str
    keyword: str | None = None
    times: tuple[int, ...] = ()
    version: int = 0

    @property
    def key(self) -> SubKey:
        return self.gateway, self.keyword


class PhoneState(msgspec.Struct, frozen=True, gc=False):
    """Every subscription of one phone, keyed by (gateway, keyword scope), and its campaign
    send logs (frequency caps). A Struct: one is built per phone and batch, and per decision
    that changes it."""

    phone: str
    subscriptions: Mapping[SubKey, Subscription] = msgspec.field(default_factory=dict)
    send_logs: Mapping[SubKey, SendLog] = msgspec.field(default_factory=dict)

    def get(self, gateway: str, keyword: str | None = None) -> Subscription:
        found = self.subscriptions.get((gateway, keyword))
        return found if found is not None else Subscription(self.phone, gateway, keyword)

    def scopes(self, gateway: str) -> list[Subscription]:
        """The gateway-level subscription first, then its keyword scopes in name order."""
        scoped = sorted((s for (g, k), s in self.subscriptions.items() if g == gateway and k),
                        key=lambda s: s.keyword or "")
        return [self.get(gateway), *scoped]

    @property
    def global_opt_out(self) -> Subscription:
        return self.get(GLOBAL_GATEWAY)

    def send_log(self, gateway: str, keyword: str | None = None) -> SendLog:
        found = self.send_logs.get((gateway, keyword))
        return found if found is not None else SendLog(gateway, keyword)

    def with_changes(self, changed: Iterable[Subscription],
                     logs: Iterable[SendLog] = ()) -> PhoneState:
        subs = dict(self.subscriptions)
        for sub in changed:
            subs[(sub.gateway, sub.keyword)] = sub
        sends = self.send_logs
        if logs:
            sends = dict(sends)
            for log in logs:
                sends[log.key] = log
            sends = MappingProxyType(sends)
        return PhoneState(self.phone, MappingProxyType(subs), sends)


class Decision(msgspec.Struct, frozen=True, gc=False):
    """Everything one input (or one window expiry) produced (one per input: a Struct)."""

    cause_id: str
    changed: tuple[Subscription, ...] = ()
    events: tuple[ConsentEvent, ...] = ()
    outbound: tuple[OutboundMessage, ...] = ()
    results: tuple[SendResult, ...] = ()
    notices: tuple[Notice, ...] = ()
    command_result: CommandResult | None = None
    send_logs: tuple[SendLog, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """What made a change, as every consent event records it (ConsentEvent's evidence)."""

    message_id: str | None = None
    message_text: str | None = None
    gateway_number: str | None = None
    received_at: int | None = None
    command_id: str | None = None


NO_EVIDENCE = Evidence()


class Effects:
    """Collects the outputs of one decision while it is being made (never escapes a decision)."""

    __slots__ = ("cause_id", "changed", "events", "evidence", "notices", "now", "outbound",
                 "phone", "results", "send_logs")

    def __init__(self, cause_id: str, phone: str, now: int,
                 evidence: Evidence = NO_EVIDENCE) -> None:
        self.cause_id = cause_id
        self.phone = phone
        self.now = now
        self.evidence = evidence
        self.changed: dict[SubKey, Subscription] = {}
        self.send_logs: dict[SubKey, SendLog] = {}
        self.events: list[ConsentEvent] = []
        self.outbound: list[OutboundMessage] = []
        self.results: list[SendResult] = []
        self.notices: list[Notice] = []

    def current(self, sub: Subscription) -> Subscription:
        """`sub` as this decision has left it so far."""
        return self.changed.get((sub.gateway, sub.keyword), sub)

    def state(self, before: PhoneState) -> PhoneState:
        """The phone's state as this decision has left it so far."""
        if not self.changed and not self.send_logs:
            return before
        return before.with_changes(self.changed.values(), self.send_logs.values())

    def store(self, sub: Subscription) -> Subscription:
        self.changed[(sub.gateway, sub.keyword)] = sub
        return sub

    def log_send(self, log: SendLog) -> None:
        self.send_logs[log.key] = log

    def transition(self, sub: Subscription, to: ConsentStatus, source: ConsentSource,
                   detail: str, *, actor: str | None, window_ms: int | None = None,
                   requested_by: str | None = None) -> Subscription:
        """Moves `sub` to a status (or re-states it, for expiry) and records the event."""
        new = replace(
            sub, status=to, source=source, detail=detail, actor=actor,
            version=sub.version + 1, updated_at=self.now,
            pending_until=self.now + window_ms if window_ms is not None else None,
            window_closed=False,
            requested_by=requested_by if window_ms is not None else sub.requested_by,
        )
        self.events.append(ConsentEvent(
            event_id=derived_id(self.cause_id, sub.phone, sub.gateway, sub.keyword or "",
                                to.value, source.value),
            phone=sub.phone, gateway=sub.gateway, keyword=sub.keyword,
            previous_status=sub.status, status=to, source=source, detail=detail, actor=actor,
            cause_id=self.cause_id, version=new.version, occurred_at=self.now,
            message_id=self.evidence.message_id, message_text=self.evidence.message_text,
            gateway_number=self.evidence.gateway_number,
            received_at=self.evidence.received_at, command_id=self.evidence.command_id,
        ))
        return self.store(new)

    def reply(self, gw: GatewayConfig, sub: Subscription, kind: ReplyKind, *,
              in_reply_to: str | None, keyword: str | None = None) -> None:
        if any(o.reply_kind is kind for o in self.outbound):
            return  # one reply of a kind per input: e.g. one confirmation for a multi-scope STOP
        self.outbound.append(OutboundMessage(
            message_id=derived_id(self.cause_id, "reply", kind.value),
            phone=sub.phone, gateway=sub.gateway,
            body=gw.render(kind, keyword=keyword),
            auto_reply=True, consent=sub.snapshot, decided_at=self.now,
            in_reply_to=in_reply_to, reply_kind=kind,
        ))

    def notice(self, gw: GatewayConfig, sub: Subscription, kind: ReplyKind,
               request_id: str | None = None) -> None:
        recipient = sub.requested_by or gw.owner
        if recipient is None:
            return  # nobody to tell: the gateway has no owner and nobody asked
        self.notices.append(Notice(
            notice_id=derived_id(self.cause_id, "notice", kind.value, recipient),
            recipient=recipient, phone=sub.phone, gateway=sub.gateway, kind=kind,
            body=gw.render(kind), created_at=self.now, request_id=request_id,
        ))

    def result(self, request: SendRequest, status: SendStatus, sub: Subscription,
               debug: SendDebug | None, detail: str | None,
               message_id: str | None = None, sendable_at: int | None = None) -> None:
        self.results.append(SendResult(
            request_id=request.request_id, phone=request.phone, gateway=request.gateway,
            status=status, consent=sub.snapshot, decided_at=self.now, debug=debug,
            detail=detail, message_id=message_id, sendable_at=sendable_at,
        ))

    def forward(self, request: SendRequest, sub: Subscription) -> None:
        message_id = derived_id("outbound", request.request_id)
        self.outbound.append(OutboundMessage(
            message_id=message_id, phone=request.phone, gateway=request.gateway,
            body=request.body, auto_reply=False, consent=sub.snapshot, decided_at=self.now,
            request_id=request.request_id,
        ))
        self.result(request, SendStatus.FORWARDED, sub, None, None, message_id)

    def settle_held(self, state: PhoneState, sub: Subscription,
                    gw: GatewayConfig) -> Subscription:
        """Held requests leave with the subscription's change. Requests held for a consent
        answer are refused when the answer is no (or never comes); an Opt-In releases them,
        and requests held for quiet hours leave with any change: those are decided again by
        the send rules (a global opt-out, a frequency cap or quiet hours still apply).
        Nothing held is ever dropped."""
        if not sub.held or (sub.status is PENDING and not sub.window_closed):
            return sub
        if sub.held_until is None and sub.status is not IN:
            global_out = self.current(state.global_opt_out)
            for request in sub.held:
                if global_out.status is OUT:
                    # Like every result: the snapshot of the subscription the send targets.
                    self.result(request, SendStatus.ERROR, sub, SendDebug.GLOBAL_OPT_OUT,
                                global_out.detail or "Global opt-out")
                elif sub.status is OUT:
                    self.result(request, SendStatus.ERROR, sub, SendDebug.PREVIOUS_OPT_OUT,
                                "The phone declined the consent request")
                else:
                    self.result(request, SendStatus.ERROR, sub, SendDebug.NO_OPT_IN,
                                "The consent request was not answered")
            return self.store(replace(sub, held=()))
        return _release()(self, state, sub, gw)

    def decision(self, command_result: CommandResult | None = None) -> Decision:
        return Decision(
            cause_id=self.cause_id, changed=tuple(self.changed.values()),
            events=tuple(self.events), outbound=tuple(self.outbound),
            results=tuple(self.results), notices=tuple(self.notices),
            command_result=command_result, send_logs=tuple(self.send_logs.values()),
        )


def _release() -> Release:
    """The send policy's release of held requests. The policy is built on this module, so it
    is looked up when a transition needs it rather than imported at the top."""
    from processor.domain.policy import release_held

    return release_held


def has_open_window(sub: Subscription) -> bool:
    """The subscription waits for a confirmation and its window has not been closed yet (its
    close time may have passed: the timer has not expired it)."""
    return sub.status is PENDING and not sub.window_closed and sub.pending_until is not None


def window_open(sub: Subscription, now: int) -> bool:
    """The window is open at `now`: a confirmation counts."""
    return has_open_window(sub) and sub.pending_until is not None and now <= sub.pending_until


def due_at(sub: Subscription) -> int | None:
    """When the timer must tick for the subscription: its confirmation window closes, or the
    campaign sends it holds for quiet hours become sendable. None: nothing is due."""
    if has_open_window(sub):
        return sub.pending_until
    if sub.held and sub.held_until is not None:
        return sub.held_until
    return None


# Inbound messages -------------------------------------------------------------------------


class Trigger(enum.StrEnum):
    """What a classified inbound message asks for."""

    OPT_OUT = "opt_out"  # STOP family: every scope of the gateway
    SCOPE_OPT_OUT = "scope_opt_out"  # STOP <campaign keyword>: that scope only
    OPT_IN = "opt_in"  # START, UNSTOP, a custom opt-in keyword: the gateway
    VERIFY = "verify"  # the verification keyword (YES); also an opt-in keyword
    CAMPAIGN = "campaign"  # a campaign keyword: its scope
    HELP = "help"
    OTHER = "other"  # any other text


class Window(enum.Enum):
    ANY = "any"
    OPEN = "open"
    CLOSED = "closed"


class Scope(enum.Enum):
    """Which subscriptions a rule is for: those of the gateway that received the text, or
    those of the other gateways of its brand (a STOP revoking brand-wide)."""

    RECEIVING = "receiving"
    BRAND = "brand"


@dataclass(frozen=True, slots=True)
class InboundRule:
    name: str
    triggers: frozenset[Trigger]
    modes: frozenset[GatewayMode]
    statuses: frozenset[ConsentStatus]
    to: ConsentStatus | None = None  # None: no transition
    source: ConsentSource | None = None
    detail: str = ""  # "{keyword}" is the keyword the phone texted
    reply: ReplyKind | None = None
    notice: ReplyKind | None = None
    window: Window = Window.ANY  # condition on an Opt-In Pending window
    opens_window: bool = False
    needs_create_opt_in_on_incoming: bool = False
    # None: either; True/False: only when the subscription's Opt-Out is (not) the phone's own.
    phone_opted_out: bool | None = None
    scope: Scope = Scope.RECEIVING

    def matches(self, trigger: Trigger, gw: GatewayConfig, sub: Subscription, now: int,
                scope: Scope = Scope.RECEIVING) -> bool:
        if scope is not self.scope:
            return False
        if trigger not in self.triggers or gw.mode not in self.modes:
            return False
        if sub.status not in self.statuses:
            return False
        if (self.phone_opted_out is not None
                and (sub.status is OUT and sub.source in PHONE_SOURCES) != self.phone_opted_out):
            return False
        if self.needs_create_opt_in_on_incoming and not gw.create_opt_in_on_incoming:
            return False
        if self.window is Window.OPEN:
            return window_open(sub, now)
        if self.window is Window.CLOSED:
            return sub.status is PENDING and not window_open(sub, now)
        return True


_OUT_TRIGGERS = frozenset({Trigger.OPT_OUT, Trigger.SCOPE_OPT_OUT})
_IN_TRIGGERS = frozenset({Trigger.OPT_IN, Trigger.VERIFY, Trigger.CAMPAIGN})
_CONSENT = frozenset({GatewayMode.CONSENT_REQUEST})
_DOUBLE = frozenset({GatewayMode.DOUBLE_OPT_IN})
_CONFIRMING = _DOUBLE | _CONSENT
_PLAIN = ALL_MODES - _CONFIRMING

INBOUND_RULES: tuple[InboundRule, ...] = (
    # 5. HELP is answered even for opted-out phones and never changes consent.
    InboundRule("help", frozenset({Trigger.HELP}), ALL_MODES, ANY_STATUS,
                reply=ReplyKind.HELP),
    # 1. A repeated STOP: the FCC allows one confirmation, so the second gets none.
    InboundRule("opt_out_repeat", _OUT_TRIGGERS, ALL_MODES, frozenset({OUT}),
                phone_opted_out=True),
    # Otherwise the phone's own word is recorded, even over an opt-out somebody else made:
    # only then is the opt-out one that no manual or API opt-in can undo.
    InboundRule("opt_out", _OUT_TRIGGERS, ALL_MODES - _CONSENT, frozenset({NO, PENDING, IN, OUT}),
                to=OUT, source=ConsentSource.KEYWORD, detail="Opt-out keyword: {keyword}",
                reply=ReplyKind.OPT_OUT_CONFIRMATION),
    InboundRule("consent_declined", _OUT_TRIGGERS, _CONSENT, frozenset({NO, PENDING, IN, OUT}),
                to=OUT, source=ConsentSource.KEYWORD, detail="Opt-out keyword: {keyword}",
                reply=ReplyKind.CONSENT_DECLINED, notice=ReplyKind.NOTICE_OPTED_OUT),
    # 3. The verification keyword inside the window confirms; after it, the phone starts over.
    InboundRule("confirm", frozenset({Trigger.VERIFY}), _DOUBLE, frozenset({PENDING}),
                window=Window.OPEN, to=IN, source=ConsentSource.CONFIRMATION,
                detail="Opt-in confirmation: {keyword}", reply=ReplyKind.OPT_IN_CONFIRMATION),
    InboundRule("consent_confirmed", frozenset({Trigger.VERIFY}), _CONSENT,
                frozenset({PENDING}), window=Window.OPEN, to=IN,
                source=ConsentSource.CONFIRMATION, detail="Opt-in confirmation: {keyword}",
                reply=ReplyKind.CONSENT_CONFIRMED, notice=ReplyKind.NOTICE_OPTED_IN),
    InboundRule("late_confirmation", frozenset({Trigger.VERIFY}), _CONFIRMING,
                frozenset({PENDING}), window=Window.CLOSED, reply=ReplyKind.LATE_CONFIRMATION),
    InboundRule("opt_in_repeat", _IN_TRIGGERS, ALL_MODES, frozenset({IN})),
    # An opt-in keyword while a double opt-in window is open: ask for the confirmation again.
    InboundRule("double_opt_in_repeat", _IN_TRIGGERS, _DOUBLE, frozenset({PENDING}),
                window=Window.OPEN, reply=ReplyKind.DOUBLE_OPT_IN_REQUEST),
    # 2. Opt-in keyword -> Opt-In, or Opt-In Pending plus a confirmation request.
    InboundRule("double_opt_in", _IN_TRIGGERS, _DOUBLE, frozenset({NO, PENDING, OUT}),
                to=PENDING, source=ConsentSource.KEYWORD, detail="Opt-in keyword: {keyword}",
                reply=ReplyKind.DOUBLE_OPT_IN_REQUEST, opens_window=True),
    InboundRule("opt_in", _IN_TRIGGERS, _PLAIN, frozenset({NO, PENDING, OUT}),
                to=IN, source=ConsentSource.KEYWORD, detail="Opt-in keyword: {keyword}",
                reply=ReplyKind.OPT_IN_CONFIRMATION),
    InboundRule("consent_opt_in", _IN_TRIGGERS, _CONSENT, frozenset({NO, PENDING, OUT}),
                to=IN, source=ConsentSource.KEYWORD, detail="Opt-in keyword: {keyword}",
                reply=ReplyKind.CONSENT_CONFIRMED, notice=ReplyKind.NOTICE_OPTED_IN),
    # 4. Any other text opts in only with create_opt_in_on_incoming, and only from No Opt-In.
    InboundRule("opt_in_from_incoming", frozenset({Trigger.OTHER}), _PLAIN, frozenset({NO}),
                to=IN, source=ConsentSource.INCOMING_SMS, detail="Opt-in from incoming SMS",
                needs_create_opt_in_on_incoming=True),
    # Movius: the customer texts first -> they are asked for consent (the MT templates).
    InboundRule("consent_request_mt", frozenset({Trigger.OTHER}), _CONSENT, frozenset({NO}),
                to=PENDING, source=ConsentSource.CONSENT_REQUEST,
                detail="Consent requested after incoming SMS",
                reply=ReplyKind.CONSENT_REQUEST_MT, notice=ReplyKind.NOTICE_CONSENT_REQUESTED_MT,
                opens_window=True),
    # ... and asked again when they text after an unanswered request closed (never while one
    # is open, and never after an opt-out: only an opt-in keyword undoes that).
    InboundRule("consent_request_mt_again", frozenset({Trigger.OTHER}), _CONSENT,
                frozenset({PENDING}), window=Window.CLOSED, to=PENDING,
                source=ConsentSource.CONSENT_REQUEST,
                detail="Consent requested after incoming SMS",
                reply=ReplyKind.CONSENT_REQUEST_MT, notice=ReplyKind.NOTICE_CONSENT_REQUESTED_MT,
                opens_window=True),
    # The brand's revocation scope is "brand" (FCC 2024, revoke all): a STOP (keyword or plain
    # words) to one gateway opts the phone out of every gateway of the brand. The gateway that
    # received it confirms once; the others change silently, their owners told as usual.
    InboundRule("brand_opt_out_repeat", frozenset({Trigger.OPT_OUT}), ALL_MODES,
                frozenset({OUT}), phone_opted_out=True, scope=Scope.BRAND),
    InboundRule("brand_opt_out", frozenset({Trigger.OPT_OUT}), ALL_MODES - _CONSENT,
                frozenset({NO, PENDING, IN, OUT}), to=OUT, source=ConsentSource.KEYWORD,
                detail="Opt-out keyword: {keyword} (to {gateway}, revoking every {brand} "
                       "gateway)", scope=Scope.BRAND),
    InboundRule("brand_consent_declined", frozenset({Trigger.OPT_OUT}), _CONSENT,
                frozenset({NO, PENDING, IN, OUT}), to=OUT, source=ConsentSource.KEYWORD,
                detail="Opt-out keyword: {keyword} (to {gateway}, revoking every {brand} "
                       "gateway)", notice=ReplyKind.NOTICE_OPTED_OUT, scope=Scope.BRAND),
)
# Triggers whose message text is consent evidence (kept on the event); other texts never are.
_EVIDENT_TRIGGERS = _OUT_TRIGGERS | _IN_TRIGGERS


# The rules that name each trigger, in table order: the others cannot match it.
_INBOUND_BY_TRIGGER: Mapping[Trigger, tuple[InboundRule, ...]] = MappingProxyType({
    trigger: tuple(r for r in INBOUND_RULES if trigger in r.triggers) for trigger in Trigger})


def _trigger(c: Classification, gw: GatewayConfig) -> Trigger:
    if c.intent is Intent.OPT_OUT:
        return Trigger.SCOPE_OPT_OUT if c.scope else Trigger.OPT_OUT
    if c.intent is Intent.OPT_IN:
        if c.scope:
            return Trigger.CAMPAIGN
        return Trigger.VERIFY if gw.keywords.is_verification(c.keyword) else Trigger.OPT_IN
    if c.intent is Intent.HELP:
        return Trigger.HELP
    return Trigger.OTHER


def _inbound_targets(state: PhoneState, gateway: str, trigger: Trigger,
                     c: Classification, now: int) -> list[Subscription]:
    if trigger is Trigger.OPT_OUT:
        return state.scopes(gateway)  # MobileConnect: STOP opts out of every keyword
    if trigger in {Trigger.SCOPE_OPT_OUT, Trigger.CAMPAIGN}:
        return [state.get(gateway, c.scope)]
    if trigger is Trigger.VERIFY:
        pending = [s for s in state.scopes(gateway) if s.status is PENDING]
        return pending or [state.get(gateway)]
    return [state.get(gateway)]


def match_inbound_rule(trigger: Trigger, gw: GatewayConfig, sub: Subscription,
                       now: int, scope: Scope = Scope.RECEIVING) -> InboundRule | None:
    """The first rule of ``INBOUND_RULES`` for the scope that applies, or None (nothing
    happens)."""
    for rule in _INBOUND_BY_TRIGGER[trigger]:
        if rule.matches(trigger, gw, sub, now, scope):
            return rule
    return None


def decide_inbound(state: PhoneState, message: InboundMessage, c: Classification,
                   gw: GatewayConfig, now: int,
                   brand: Sequence[GatewayConfig] = ()) -> Decision:
    """Applies one classified inbound message to the phone's state. ``brand``: the other
    gateways a STOP to ``gw`` revokes (its brand's, when the brand's revocation scope is
    "brand"; ``Gateways.brand_gateways``)."""
    trigger = _trigger(c, gw)
    fx = Effects(message.message_id, state.phone, now, Evidence(
        message_id=message.message_id, gateway_number=message.to,
        received_at=message.received_at,
        message_text=message.body if trigger in _EVIDENT_TRIGGERS else None))
    keyword = c.keyword or ""
    # A window is judged by when the carrier received the message (never later than now): a
    # YES sent in time still confirms when a backlog delays its decision.
    sent = min(now, message.received_at)
    matched = []
    for target in _inbound_targets(state, gw.id, trigger, c, sent):
        rule = match_inbound_rule(trigger, gw, target, sent)
        if rule is not None:
            matched.append((rule, target, gw))
    if any(rule.to is not None for rule, _, _ in matched):
        # A late YES on one scope is moot when the same YES confirmed another.
        matched = [(r, t, g) for r, t, g in matched if r.name != "late_confirmation"]
    if trigger is Trigger.OPT_OUT:
        for other in brand:
            for target in state.scopes(other.id):
                rule = match_inbound_rule(trigger, other, target, sent, Scope.BRAND)
                if rule is not None:
                    matched.append((rule, target, other))
    for rule, target, config in matched:
        sub = target
        if rule.to is not None and rule.source is not None:
            detail = (_free_text_detail(rule, gw) if "{keyword}" in rule.detail and not keyword
                      else rule.detail.format(keyword=keyword, gateway=gw.id, brand=gw.brand))
            sub = fx.transition(
                target, rule.to, rule.source, detail, actor=None,
                window_ms=config.pending_window_ms if rule.opens_window else None,
                # The customer texted first: the gateway's owner is the one being reached.
                requested_by=config.owner if config.mode is GatewayMode.CONSENT_REQUEST
                else None,
            )
            sub = fx.settle_held(state, sub, config)
        if rule.reply is not None:
            fx.reply(gw, sub, rule.reply, in_reply_to=message.message_id, keyword=c.keyword)
        if rule.notice is not None:
            fx.notice(config, sub, rule.notice)
    if not fx.outbound and any(r.scope is Scope.BRAND and r.to is not None
                               for r, _, _ in matched):
        # The phone's STOP revoked other gateways of the brand though this one was already
        # out: that revocation gets its one confirmation, from the gateway the phone texted.
        fx.reply(gw, fx.current(state.get(gw.id)), _confirmation(gw),
                 in_reply_to=message.message_id, keyword=c.keyword)
    return fx.decision()


def _confirmation(gw: GatewayConfig) -> ReplyKind:
    if gw.mode is GatewayMode.CONSENT_REQUEST:
        return ReplyKind.CONSENT_DECLINED
    return ReplyKind.OPT_OUT_CONFIRMATION


def _free_text_detail(rule: InboundRule, gw: GatewayConfig) -> str:
    """A revocation in plain words has no keyword; say so in the audit detail."""
    text = "Opt-out request in message text" if rule.to is OUT else "Opt-in request in message text"
    if rule.scope is Scope.BRAND:
        text += f" (to {gw.id}, revoking every {gw.brand} gateway)"
    return text


# Commands ---------------------------------------------------------------------------------


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
        _release()(fx, state, sub, gw)
        return fx.decision(_command_result(command, fx, CommandOutcome.APPLIED, None))
    if (sub.status is not PENDING or sub.window_closed or until is None
            or sub.pending_until != until or now < until):
        return fx.decision(_command_result(command, fx, CommandOutcome.APPLIED,
                                           "no open window to expire"))
    closed = fx.transition(sub, PENDING, ConsentSource.EXPIRY,
                           "Opt-in window closed without confirmation", actor=None)
    closed = fx.store(replace(closed, window_closed=True, pending_until=until))
    if gw.mode is GatewayMode.CONSENT_REQUEST:
        fx.notice(gw, closed, ReplyKind.NOTICE_EXPIRED)
    fx.settle_held(state, closed, gw)
    return fx.decision(_command_result(command, fx, CommandOutcome.APPLIED, None))
