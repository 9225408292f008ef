"""The send decision: every send request gets exactly one result.

``SEND_RULES`` is checked in order and the first rule that applies decides (the tests iterate
the same table). The order is the product's promise: a global opt-out beats everything, an
opt-out beats any opt-in, and nothing is forwarded without the consent the gateway's mode asks
for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from msgspec.structs import replace

from processor.domain.consent import (
    IN,
    OUT,
    PENDING,
    PHONE_SOURCES,
    Decision,
    Effects,
    PhoneState,
    window_open,
)
from processor.domain.gateways import GatewayConfig, GatewayMode
from processor.domain.models import (
    ConsentSource,
    ReplyKind,
    SendDebug,
    SendKind,
    SendRequest,
    SendStatus,
    Subscription,
)

# The most requests held for one subscription while its phone is asked for consent.
MAX_HELD = 10
_CONSENT_MODE = GatewayMode.CONSENT_REQUEST


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
             lambda c: (c.gw.mode is GatewayMode.CONSENT_REQUEST and window_open(c.target, c.now)
                        and len(c.target.held) >= MAX_HELD),
             SendStatus.ERROR, SendDebug.OPT_IN_PENDING,
             lambda c: f"{MAX_HELD} messages are already held until the phone answers the "
                       "consent request", on_gateway=lambda gw: gw.mode is _CONSENT_MODE),
    SendRule("hold_for_consent",
             lambda c: c.gw.mode is GatewayMode.CONSENT_REQUEST and window_open(c.target, c.now),
             SendStatus.HELD, None, lambda c: "Held until the phone answers the consent request",
             on_gateway=lambda gw: gw.mode is _CONSENT_MODE),
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
             lambda c: (c.gw.mode is GatewayMode.CONSENT_REQUEST and c.target.status is not IN
                        and c.gw.consent_request_to_new_numbers),
             SendStatus.HELD, None,
             lambda c: "The phone was sent a request to opt in",
             on_gateway=lambda gw: gw.mode is _CONSENT_MODE),
    SendRule("consent_required", lambda c: c.gw.requires_consent and c.target.status is not IN,
             SendStatus.ERROR, SendDebug.NO_OPT_IN,
             lambda c: ("No Opt-In; consent requests to numbers that never texted are off "
                        "for this gateway" if c.gw.mode is GatewayMode.CONSENT_REQUEST
                        else "No Opt-In"),
             on_gateway=lambda gw: gw.requires_consent),
    # MobileConnect: a keyword-scoped short code needs at least one opted-in keyword.
    SendRule("no_opted_in_keyword",
             lambda c: c.gw.keyword_scoped and not c.scoped and _no_opted_in_keyword(c),
             SendStatus.ERROR, SendDebug.NO_OPT_IN,
             lambda c: "No opted-in keyword on this short code",
             on_gateway=lambda gw: gw.keyword_scoped),
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


def decide_send(state: PhoneState, request: SendRequest, gw: GatewayConfig,
                now: int) -> Decision:
    """Decides one send request: forwarded, held, or rewritten into an error result."""
    gateway_level = state.get(gw.id)
    target = gateway_level if request.keyword is None else state.get(gw.id, request.keyword)
    ctx = SendContext(request, gw, state, target, gateway_level, now)
    rule = match_send_rule(ctx)
    fx = Effects(request.request_id, state.phone, now)
    if rule.name == "forward":
        _forward(fx, ctx)
    elif rule.name == "hold_for_consent":
        fx.store(replace(ctx.target, held=(*ctx.target.held, request)))
        fx.result(request, SendStatus.HELD, ctx.target, None, rule.detail(ctx))
    elif rule.name == "request_consent":
        _request_consent(fx, ctx, rule)
    else:
        fx.result(request, rule.status, ctx.target, rule.debug, rule.detail(ctx))
    return fx.decision()


def _forward(fx: Effects, ctx: SendContext) -> None:
    gl = ctx.gateway_level
    if ctx.gw.mode is GatewayMode.DISCLAIMER and not gl.disclaimer_sent:
        # Movius "Opt-In Disclaimer": the first message a phone gets is preceded by it.
        fx.reply(ctx.gw, gl, ReplyKind.DISCLAIMER, in_reply_to=None)
        fx.store(replace(gl, disclaimer_sent=True))
    fx.forward(ctx.request, ctx.target)


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

