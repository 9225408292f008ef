"""The send decision: every send request gets exactly one final result.

``SEND_RULES`` is checked in order and the first rule that applies decides (the tests iterate
the same table). The order is the product's promise: a global opt-out beats everything, an
opt-out beats any opt-in, nothing is forwarded without the consent the gateway's mode asks
for, and a campaign (marketing) send that consent allows still waits for the gateway's
frequency cap and the recipient's quiet hours.

A held request is decided again by the same table when it is released (``release_held``): by
the phone's answer to a consent request, by the timer when its quiet hours end, or by any
change of its subscription meanwhile (a STOP wins).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import msgspec
from msgspec.structs import replace

from processor.domain.consent.state import Decision, Effects, PhoneState, SendLog, window_open
from processor.domain.consent.statuses import IN, OUT, PENDING, PHONE_SOURCES
from processor.domain.gateways.config import GatewayConfig
from processor.domain.gateways.modes import GatewayMode, OptInFlow
from processor.domain.models.enums import ConsentSource, ReplyKind, SendDebug, SendKind, SendStatus
from processor.domain.models.inputs import SendRequest
from processor.domain.models.subscription import Subscription
from processor.domain.quiet_hours import Blocked, QuietHours, format_instant, recipient_of

# The most requests held for one subscription while its phone is asked for consent.
MAX_HELD = 10
_CONSENT_FLOW = OptInFlow.CONSENT_REQUEST


class SendContext(msgspec.Struct, frozen=True, gc=False):
    """What a rule may look at: the request, its gateway, and the subscriptions involved."""

    request: SendRequest
    gw: GatewayConfig
    state: PhoneState
    target: Subscription  # the keyword scope for a keyword send, else the gateway level
    gateway_level: Subscription
    now: int

    @property
    def scoped(self) -> bool:
        return self.request.keyword is not None


@dataclass(frozen=True, slots=True)
class SendRule:
    name: str
    applies: Callable[[SendContext], bool]
    status: SendStatus
    debug: SendDebug | None
    detail: Callable[[SendContext], str | None]
    # The gateways the rule can apply on at all (``applies`` is never true elsewhere), so a
    # send is checked only against the rules its gateway's configuration leaves possible.
    on_gateway: Callable[[GatewayConfig], bool] = lambda gw: True


def _gateway_opt_out_blocks_scope(ctx: SendContext) -> bool:
    """After the phone texted STOP to the gateway, a keyword scope opened by someone else
    (an import, a manual or API opt-in) does not reach it: only the phone's own opt-in keyword
    does. Stricter than MobileConnect's import rule, as the FCC's revocation rule requires."""
    gl = ctx.gateway_level
    return (ctx.scoped and gl.status is OUT and gl.source in PHONE_SOURCES
            and ctx.target.source not in PHONE_SOURCES)


def _no_opted_in_keyword(ctx: SendContext) -> bool:
    return not any(s.status is IN for s in ctx.state.scopes(ctx.gw.id)[1:])


def _cap_log(ctx: SendContext) -> SendLog:
    """The send log the gateway's frequency cap counts this request in."""
    cap = ctx.gw.frequency_cap
    keyword = ctx.request.keyword if cap is not None and cap.per_keyword else None
    return ctx.state.send_log(ctx.gw.id, keyword)


def _sent_in_window(ctx: SendContext) -> int:
    cap = ctx.gw.frequency_cap
    if cap is None:
        return 0
    since = ctx.now - cap.window_ms
    return sum(1 for at in _cap_log(ctx).times if at > since)


def _over_cap(ctx: SendContext) -> bool:
    cap = ctx.gw.frequency_cap
    return (ctx.request.kind is SendKind.CAMPAIGN and cap is not None
            and _sent_in_window(ctx) >= cap.max_sends)


def _cap_text(ctx: SendContext) -> str:
    cap = ctx.gw.frequency_cap
    assert cap is not None
    subject = f" for keyword {ctx.request.keyword}" if cap.per_keyword and ctx.request.keyword \
        else ""
    return (f"{_sent_in_window(ctx)} campaign sends{subject} to this phone in the last "
            f"{cap.window}; the gateway's cap is {cap.describe()}")


@lru_cache(maxsize=4096)
def _quiet(rules: QuietHours, phone: str, now: int) -> Blocked | None:
    return rules.blocked(recipient_of(phone), now)


def quiet_hours_block(ctx: SendContext) -> Blocked | None:
    """Why a campaign send may not reach the phone now and when it may, or None. Only
    campaign sends wait: one-to-one and transactional texts, and every automatic reply, go
    at any hour."""
    if ctx.request.kind is not SendKind.CAMPAIGN or not ctx.gw.quiet_hours:
        return None
    return _quiet(ctx.gw.quiet_hours_rules, ctx.request.phone, ctx.now)


def _quiet_text(ctx: SendContext) -> str:
    blocked = quiet_hours_block(ctx)
    assert blocked is not None
    return f"{blocked.reason}; sendable at {format_instant(blocked.sendable_at)}"


def _window_text(ctx: SendContext) -> str:
    if window_open(ctx.target, ctx.now):
        return "Waiting for the phone to confirm its opt-in"
    return "The opt-in window closed without confirmation; the phone must opt in again"


SEND_RULES: tuple[SendRule, ...] = (
    SendRule("global_opt_out", lambda c: c.state.global_opt_out.status is OUT,
             SendStatus.ERROR, SendDebug.GLOBAL_OPT_OUT,
             lambda c: c.state.global_opt_out.detail or "Global opt-out"),
    SendRule("previous_opt_out", lambda c: c.target.status is OUT,
             SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT, lambda c: c.target.detail),
    SendRule("gateway_opt_out", _gateway_opt_out_blocks_scope,
             SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT, lambda c: c.gateway_level.detail),
    # consent_request: while the phone is being asked, requests wait (in order), a bounded
    # number: they live in the subscription's state until the phone answers.
    SendRule("held_full",
             lambda c: (c.gw.flow is _CONSENT_FLOW and window_open(c.target, c.now)
                        and len(c.target.held) >= MAX_HELD),
             SendStatus.ERROR, SendDebug.OPT_IN_PENDING,
             lambda c: f"{MAX_HELD} messages are already held until the phone answers the "
                       "consent request", on_gateway=lambda gw: gw.flow is _CONSENT_FLOW),
    SendRule("hold_for_consent",
             lambda c: c.gw.flow is _CONSENT_FLOW and window_open(c.target, c.now),
             SendStatus.HELD, None, lambda c: "Held until the phone answers the consent request",
             on_gateway=lambda gw: gw.flow is _CONSENT_FLOW),
    SendRule("opt_in_pending", lambda c: c.target.status is PENDING,
             SendStatus.ERROR, SendDebug.OPT_IN_PENDING, _window_text),
    # Twilio campaign rule: a keyword send needs an opt-in to that very keyword.
    SendRule("keyword_not_opted_in", lambda c: c.scoped and c.target.status is not IN,
             SendStatus.ERROR, SendDebug.NO_OPT_IN,
             lambda c: f"No opt-in for keyword {c.request.keyword}"),
    # Marketing needs prior express written consent (TCPA) in every mode, so a campaign send
    # needs an opt-in to its gateway (or, above, to its keyword); the default mode's "text
    # until they opt out" is for conversations, not campaigns.
    SendRule("campaign_needs_opt_in",
             lambda c: c.request.kind is SendKind.CAMPAIGN and c.target.status is not IN,
             SendStatus.ERROR, SendDebug.NO_OPT_IN,
             lambda c: "No Opt-In; campaign (marketing) sends need an opt-in in every mode"),
    # Movius "Opt-In with Consent", first contact: ask instead of sending.
    SendRule("request_consent",
             lambda c: (c.gw.flow is _CONSENT_FLOW and c.target.status is not IN
                        and c.gw.consent_request_to_new_numbers),
             SendStatus.HELD, None,
             lambda c: "The phone was sent a request to opt in",
             on_gateway=lambda gw: gw.flow is _CONSENT_FLOW),
    SendRule("consent_required", lambda c: c.gw.requires_consent and c.target.status is not IN,
             SendStatus.ERROR, SendDebug.NO_OPT_IN,
             lambda c: ("No Opt-In; consent requests to numbers that never texted are off "
                        "for this gateway" if c.gw.flow is _CONSENT_FLOW
                        else "No Opt-In"),
             on_gateway=lambda gw: gw.requires_consent),
    # MobileConnect: a keyword-scoped short code needs at least one opted-in keyword.
    SendRule("no_opted_in_keyword",
             lambda c: c.gw.keyword_scoped and not c.scoped and _no_opted_in_keyword(c),
             SendStatus.ERROR, SendDebug.NO_OPT_IN,
             lambda c: "No opted-in keyword on this short code",
             on_gateway=lambda gw: gw.keyword_scoped),
    # The gateway's frequency cap: at most N campaign sends to the phone in a rolling window,
    # counted when forwarded, with the send's time (Florida's FTSA: three on the same subject
    # in 24 hours).
    SendRule("frequency_cap", _over_cap, SendStatus.ERROR, SendDebug.FREQUENCY_CAP, _cap_text),
    # Quiet hours, by the recipient's clock: a campaign send waits in its subscription, a
    # bounded number of them, until every rule that applies to the number permits it.
    SendRule("quiet_hours_full",
             lambda c: quiet_hours_block(c) is not None and len(c.target.held) >= MAX_HELD,
             SendStatus.ERROR, SendDebug.FREQUENCY_CAP,
             lambda c: f"{MAX_HELD} campaign sends are already held for this phone's quiet "
                       "hours"),
    SendRule("quiet_hours", lambda c: quiet_hours_block(c) is not None,
             SendStatus.HELD, None, _quiet_text),
    SendRule("forward", lambda c: True, SendStatus.FORWARDED, None, lambda c: None),
)


def match_send_rule(ctx: SendContext) -> SendRule:
    for rule in rules_on(ctx.gw):
        if rule.applies(ctx):
            return rule
    raise AssertionError("the last send rule always applies")


def rules_on(gw: GatewayConfig) -> tuple[SendRule, ...]:
    """``SEND_RULES`` in order, less those that cannot apply on this gateway."""
    key = (gw.mode, gw.keyword_scoped)
    rules = _RULES_ON.get(key)
    if rules is None:
        rules = _RULES_ON[key] = tuple(r for r in SEND_RULES if r.on_gateway(gw))
    return rules


# (mode, keyword_scoped) -> the rules left: on_gateway reads no other setting.
_RULES_ON: dict[tuple[GatewayMode, bool], tuple[SendRule, ...]] = {}


def context(state: PhoneState, request: SendRequest, gw: GatewayConfig, now: int) -> SendContext:
    gateway_level = state.get(gw.id)
    target = gateway_level if request.keyword is None else state.get(gw.id, request.keyword)
    return SendContext(request, gw, state, target, gateway_level, now)


def decide_send(state: PhoneState, request: SendRequest, gw: GatewayConfig,
                now: int) -> Decision:
    """Decides one send request: forwarded, held, or rewritten into an error result."""
    fx = Effects(request.request_id, state.phone, now)
    target = state.get(gw.id, request.keyword)
    if target.held and target.held_until is not None and now >= target.held_until:
        # Sends held for quiet hours that are due go first, in order, whether the timer's
        # tick or this later send reaches them first.
        release_held(fx, state, target, gw)
        state = fx.state(state)
    ctx = context(state, request, gw, now)
    _apply(fx, ctx, match_send_rule(ctx))
    return fx.decision()


def _apply(fx: Effects, ctx: SendContext, rule: SendRule) -> None:
    request = ctx.request
    if rule.name == "forward":
        _forward(fx, ctx)
    elif rule.name == "hold_for_consent":
        fx.store(replace(ctx.target, held=(*ctx.target.held, request)))
        fx.result(request, SendStatus.HELD, ctx.target, None, rule.detail(ctx))
    elif rule.name == "request_consent":
        _request_consent(fx, ctx, rule)
    elif rule.name == "quiet_hours":
        blocked = quiet_hours_block(ctx)
        assert blocked is not None
        target = ctx.target
        until = blocked.sendable_at if target.held_until is None else min(
            target.held_until, blocked.sendable_at)
        fx.store(replace(target, held=(*target.held, request), held_until=until))
        fx.result(request, SendStatus.HELD, target, None, rule.detail(ctx),
                  sendable_at=blocked.sendable_at)
    else:
        fx.result(request, rule.status, ctx.target, rule.debug, rule.detail(ctx))


def _forward(fx: Effects, ctx: SendContext) -> None:
    gl = ctx.gateway_level
    if ctx.gw.rules.disclaimer_first and not gl.disclaimer_sent:
        # Movius "Opt-In Disclaimer": the first message a phone gets is preceded by it.
        fx.reply(ctx.gw, gl, ReplyKind.DISCLAIMER, in_reply_to=None)
        fx.store(replace(gl, disclaimer_sent=True))
    cap = ctx.gw.frequency_cap
    if cap is not None and ctx.request.kind is SendKind.CAMPAIGN:
        log = _cap_log(ctx)
        since = ctx.now - cap.window_ms
        fx.log_send(replace_log(log, (*(t for t in log.times if t > since), ctx.now)))
    fx.forward(ctx.request, ctx.target)


def replace_log(log: SendLog, times: tuple[int, ...]) -> SendLog:
    return SendLog(log.gateway, log.keyword, times, log.version + 1)


# Held requests leave: decided again -------------------------------------------------------

Release = Callable[[Effects, PhoneState, Subscription, GatewayConfig], Subscription]


def release_held(fx: Effects, state: PhoneState, sub: Subscription,
                 gw: GatewayConfig) -> Subscription:
    """Decides the requests held in ``sub`` again, in arrival order, against the state as the
    decision has left it so far (each forward counts toward the frequency cap of the next).
    Each gets its final result, or stays held while it still must wait: then it gets a Held
    result only when the reason is new to it (a consent hold becoming a quiet-hours hold)."""
    waited_for_quiet = sub.held_until is not None
    held = sub.held
    fx.store(replace(sub, held=(), held_until=None))
    kept: list[SendRequest] = []
    until: int | None = None
    for request in held:
        ctx = context(fx.state(state), request, gw, fx.now)
        rule = match_send_rule(ctx)
        blocked = quiet_hours_block(ctx) if rule.name == "quiet_hours" else None
        if blocked is None:
            _apply(fx, ctx, rule)
            continue
        kept.append(request)
        until = blocked.sendable_at if until is None else min(until, blocked.sendable_at)
        if not waited_for_quiet:
            fx.result(request, SendStatus.HELD, ctx.target, None, rule.detail(ctx),
                      sendable_at=blocked.sendable_at)
    left = fx.current(sub)
    if not kept:
        return left
    return fx.store(replace(left, held=(*left.held, *kept), held_until=until))


def _request_consent(fx: Effects, ctx: SendContext, rule: SendRule) -> None:
    request = ctx.request
    pending = fx.transition(
        ctx.target, PENDING, ConsentSource.CONSENT_REQUEST,
        f"Consent requested by {request.requested_by}", actor=request.requested_by,
        window_ms=ctx.gw.pending_window_ms, requested_by=request.requested_by,
    )
    pending = fx.store(replace(pending, held=(request,)))
    # The template names the gateway's person (Movius: the employee's name), not a user id.
    fx.reply(ctx.gw, pending, ReplyKind.CONSENT_REQUEST_MO, in_reply_to=None)
    fx.notice(ctx.gw, pending, ReplyKind.NOTICE_CONSENT_REQUESTED_MO, request.request_id)
    fx.result(request, SendStatus.HELD, pending, None, rule.detail(ctx))

