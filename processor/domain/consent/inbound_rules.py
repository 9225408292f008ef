"""What a classified inbound message does: ``INBOUND_RULES``, one table for every opt-in flow
(``gateways.modes.OptInFlow``), on the gateway that received it and, with a brand-wide
revocation scope, on the other gateways of its brand."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from processor.domain.classify.classification import Classification
from processor.domain.consent.state import Decision, Effects, Evidence, PhoneState, window_open
from processor.domain.consent.statuses import ANY_STATUS, IN, NO, OUT, PENDING, PHONE_SOURCES
from processor.domain.gateways.config import GatewayConfig
from processor.domain.gateways.modes import OptInFlow
from processor.domain.models.enums import ConsentSource, ConsentStatus, Intent, ReplyKind
from processor.domain.models.inputs import InboundMessage
from processor.domain.models.subscription import Subscription


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
    flows: frozenset[OptInFlow]  # the opt-in flows of the gateway modes it is for
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
        if trigger not in self.triggers or gw.flow not in self.flows:
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
# The opt-in flows (gateways.modes.OptInFlow) a rule is for. Each rule names its flows: a new
# flow gets no rule it does not name (the consent table tests fail until it has its own).
_PLAIN = frozenset({OptInFlow.KEYWORD})
_DOUBLE = frozenset({OptInFlow.DOUBLE_OPT_IN})
_CONSENT = frozenset({OptInFlow.CONSENT_REQUEST})
_CONFIRMING = _DOUBLE | _CONSENT
# Rules every flow shares by design: HELP, and a repeated opt-out or opt-in that changes nothing.
ALL_FLOWS = frozenset(OptInFlow)

INBOUND_RULES: tuple[InboundRule, ...] = (
    # 5. HELP is answered even for opted-out phones and never changes consent.
    InboundRule("help", frozenset({Trigger.HELP}), ALL_FLOWS, ANY_STATUS,
                reply=ReplyKind.HELP),
    # 1. A repeated STOP: the FCC allows one confirmation, so the second gets none.
    InboundRule("opt_out_repeat", _OUT_TRIGGERS, ALL_FLOWS, frozenset({OUT}),
                phone_opted_out=True),
    # Otherwise the phone's own word is recorded, even over an opt-out somebody else made:
    # only then is the opt-out one that no manual or API opt-in can undo.
    InboundRule("opt_out", _OUT_TRIGGERS, _PLAIN | _DOUBLE, frozenset({NO, PENDING, IN, OUT}),
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
    InboundRule("opt_in_repeat", _IN_TRIGGERS, ALL_FLOWS, frozenset({IN})),
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
    InboundRule("brand_opt_out_repeat", frozenset({Trigger.OPT_OUT}), ALL_FLOWS,
                frozenset({OUT}), phone_opted_out=True, scope=Scope.BRAND),
    InboundRule("brand_opt_out", frozenset({Trigger.OPT_OUT}), _PLAIN | _DOUBLE,
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
                requested_by=config.owner if config.flow is OptInFlow.CONSENT_REQUEST
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
    if gw.flow is OptInFlow.CONSENT_REQUEST:
        return ReplyKind.CONSENT_DECLINED
    return ReplyKind.OPT_OUT_CONFIRMATION


def _free_text_detail(rule: InboundRule, gw: GatewayConfig) -> str:
    """A revocation in plain words has no keyword; say so in the audit detail."""
    text = "Opt-out request in message text" if rule.to is OUT else "Opt-in request in message text"
    if rule.scope is Scope.BRAND:
        text += f" (to {gw.id}, revoking every {gw.brand} gateway)"
    return text
