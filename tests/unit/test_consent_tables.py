"""Every rule of the tables the code runs on, in every mode and status it claims, checked
against what the rule says it does; a rule that can never fire is a failure."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from msgspec.structs import replace

from processor.domain.classify.classifier import classify
from processor.domain.consent.command_rules import (
    COMMAND_PERMISSIONS,
    COMMAND_RULES,
    CommandRule,
    decide_command,
    match_command_rule,
)
from processor.domain.consent.inbound_rules import (
    INBOUND_RULES,
    InboundRule,
    Scope,
    Trigger,
    _trigger,
    decide_inbound,
    match_inbound_rule,
)
from processor.domain.consent.send_rules import (
    MAX_HELD,
    SEND_RULES,
    SendContext,
    decide_send,
    match_send_rule,
    rules_on,
)
from processor.domain.consent.state import PhoneState, SendLog
from processor.domain.consent.statuses import IN, OUT, PENDING, PHONE_SOURCES
from processor.domain.gateways.config import GatewayConfig
from processor.domain.gateways.config import Gateways as GatewaysConfig
from processor.domain.gateways.modes import GatewayMode, OptInFlow, modes_of
from processor.domain.models.enums import (
    CommandType,
    ConsentSource,
    ConsentStatus,
    ImportStatus,
    ReplyKind,
    SendDebug,
    SendKind,
    SendStatus,
)
from processor.domain.models.subscription import GLOBAL_GATEWAY, Subscription
from tests.support.consent_helpers import (
    HOUR,
    NIGHT,
    NOW,
    command,
    gateway,
    gateways,
    inbound,
    send,
    state,
    sub,
)

BODY = {
    Trigger.OPT_OUT: "STOP", Trigger.SCOPE_OPT_OUT: "STOP VOLUNTEER", Trigger.OPT_IN: "START",
    Trigger.VERIFY: "YES", Trigger.CAMPAIGN: "VOLUNTEER", Trigger.HELP: "HELP",
    Trigger.OTHER: "see you at the game tonight",
}
SCOPED = {Trigger.SCOPE_OPT_OUT, Trigger.CAMPAIGN}
# The texts an event keeps as evidence: opt-ins and opt-outs, never other words.
TEXT_KEPT = {Trigger.OPT_OUT, Trigger.SCOPE_OPT_OUT, Trigger.OPT_IN, Trigger.VERIFY,
             Trigger.CAMPAIGN}
PLAIN_MODES = set(modes_of(OptInFlow.KEYWORD))


def target(status: ConsentStatus, keyword: str | None, window: str | None,
           gw: str = "gw1") -> Subscription:
    if window == "open":
        return sub(status, gw, keyword=keyword, pending_until=NOW + HOUR)
    if window == "closed":
        return sub(status, gw, keyword=keyword, pending_until=NOW - 1, window_closed=True)
    return sub(status, gw, keyword=keyword)


def brand_of(mode: GatewayMode) -> GatewaysConfig:
    """gw1 (default mode) received the text; gw2, in ``mode``, is another gateway of its brand,
    whose revocation scope is the brand."""
    return gateways(gw1={}, gw2={"mode": mode.value},
                    brands={"Acme": {"revocation_scope": "brand"}})


InboundCase = tuple[InboundRule, GatewayConfig, Subscription, Trigger]


def inbound_cases() -> Iterator[InboundCase]:
    for rule in INBOUND_RULES:
        for mode in sorted(mode for flow in rule.flows for mode in modes_of(flow)):
            creates = [True, False] if mode in PLAIN_MODES else [False]
            for create, status, trigger in (
                    (c, s, t) for c in creates for s in sorted(rule.statuses)
                    for t in sorted(rule.triggers)):
                config = gateway(mode.value, create_opt_in_on_incoming=create)
                keyword = "VOLUNTEER" if trigger in SCOPED else None
                windows = ["open", "closed"] if status is ConsentStatus.OPT_IN_PENDING else [None]
                for window in windows:
                    gw = "gw2" if rule.scope is Scope.BRAND else "gw1"
                    yield rule, config, target(status, keyword, window, gw), trigger


def test_every_inbound_rule_does_what_it_says_wherever_it_is_the_first_match() -> None:
    fired: set[str] = set()
    for rule, case_config, subscription, trigger in inbound_cases():
        body = BODY[trigger]
        config, receiving, brand = case_config, case_config, ()
        if rule.scope is Scope.BRAND:
            configs = brand_of(case_config.mode)
            receiving, config = configs.get("gw1"), configs.get("gw2")
            brand = configs.brand_gateways(receiving)
        classification = classify(body, receiving.keywords)
        assert _trigger(classification, receiving) is trigger, body
        if match_inbound_rule(trigger, config, subscription, NOW, rule.scope) is not rule:
            continue  # an earlier rule decides this case; it is checked on its own turn
        fired.add(rule.name)
        decision = decide_inbound(state(subscription), inbound(body), classification, receiving,
                                  NOW, brand)
        where = f"{rule.name} mode={config.mode} status={subscription.status}"
        mine = [e for e in decision.events
                if (e.gateway, e.keyword) == (subscription.gateway, subscription.keyword)]
        if rule.to is None:
            assert mine == [], where
        else:
            (event,) = mine
            assert (event.previous_status, event.status, event.source) == (
                subscription.status, rule.to, rule.source), where
            assert event.version == subscription.version + 1, where
            new = next(s for s in decision.changed if s.keyword == subscription.keyword)
            assert (new.pending_until == NOW + config.pending_window_ms) == rule.opens_window
        kinds = [o.reply_kind for o in decision.outbound]
        if rule.scope is Scope.BRAND:
            # The gateway the phone texted confirms its own opt-out, once; the brand's other
            # gateways send nothing to the phone.
            assert kinds == [ReplyKind.OPT_OUT_CONFIRMATION], where
            assert all(o.gateway == "gw1" for o in decision.outbound), where
            if rule.to is not None:
                assert mine[0].detail == "Opt-out keyword: STOP (to gw1, revoking every Acme " \
                                         "gateway)", where
        else:
            assert kinds == ([rule.reply] if rule.reply else []), where
        assert [n.kind for n in decision.notices] == ([rule.notice] if rule.notice else []), where
        assert all(e.message_text == (body if trigger in TEXT_KEPT else None)
                   and e.message_id == decision.cause_id for e in decision.events), where
    assert fired == {r.name for r in INBOUND_RULES}, "rules that can never fire"


def command_cases() -> Iterator[tuple[CommandRule, CommandType, Subscription,
                                      ImportStatus | None]]:
    for rule in COMMAND_RULES:
        for kind in sorted(rule.commands):
            gw = GLOBAL_GATEWAY if kind.value.startswith("global") else "gw1"
            imports = sorted(rule.import_statuses) if rule.import_statuses else [None]
            for status in sorted(rule.statuses):
                for source in (ConsentSource.KEYWORD, ConsentSource.MANUAL):
                    for import_status in imports:
                        yield rule, kind, sub(status, gw, source=source), import_status


def test_every_command_rule_does_what_it_says_wherever_it_is_the_first_match() -> None:
    fired: set[str] = set()
    every_permission = set().union(*COMMAND_PERMISSIONS.values())
    for rule, kind, subscription, import_status in command_cases():
        cmd = command(kind, None if subscription.gateway == GLOBAL_GATEWAY else "gw1",
                      permissions=every_permission, import_status=import_status)
        before = state(subscription)
        if match_command_rule(cmd, subscription, before.get(subscription.gateway)) is not rule:
            continue
        fired.add(rule.name)
        decision = decide_command(before, cmd, gateways(gw1={}), NOW)
        result = decision.command_result
        assert result is not None
        where = f"{rule.name} {kind} {subscription.status} {subscription.source}"
        assert result.result is rule.outcome, where
        if rule.to is None:
            assert decision.events == (), where
            assert result.reason == rule.reason or (rule.reason is None
                                                    and result.reason == "no change"), where
        else:
            assert [(e.status, e.source) for e in decision.events] == [
                (rule.to, rule.source)], where
            assert result.event_ids == tuple(e.event_id for e in decision.events)
    assert fired == {r.name for r in COMMAND_RULES}, "rules that can never fire"


def test_refused_opt_in_exactly_when_the_phone_opted_out_itself() -> None:
    for source in ConsentSource:
        before = state(sub(ConsentStatus.OPT_OUT, source=source))
        cmd = command(CommandType.MANUAL_OPT_IN,
                      permissions=set().union(*COMMAND_PERMISSIONS.values()))
        rule = match_command_rule(cmd, before.get("gw1"), before.get("gw1"))
        assert rule is not None
        assert (rule.name == "opt_in_refused") == (source in PHONE_SOURCES), source


SendScenario = Callable[[], SendContext]


def ctx(mode: str = "default", *subs: Subscription, keyword: str | None = None,
        kind: SendKind = SendKind.ONE_TO_ONE, sent: tuple[int, ...] = (), at: int = NOW,
        **settings: object) -> SendContext:
    """A send request at ``at`` (NOW: noon in Washington, D.C.) to a phone with the
    subscriptions, and campaign sends forwarded from gw1 at the times ``sent``."""
    config = gateway(mode, **settings)
    before: PhoneState = state(*subs)
    if sent:
        before = before.with_changes((), [SendLog("gw1", None, sent, 1)])
    return SendContext(send(keyword=keyword, kind=kind), config, before,
                       before.get("gw1", keyword), before.get("gw1"), at)


CAP = {"max": 3, "window": "24h"}


SEND_SCENARIOS: dict[str, tuple[SendScenario, SendStatus, SendDebug | None]] = {
    "global_opt_out": (lambda: ctx("default", sub(OUT, GLOBAL_GATEWAY)),
                       SendStatus.ERROR, SendDebug.GLOBAL_OPT_OUT),
    "previous_opt_out": (lambda: ctx("default", sub(OUT)),
                         SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT),
    "gateway_opt_out": (lambda: ctx("default", sub(OUT),
                                    sub(IN, keyword="NEWS", source=ConsentSource.IMPORT),
                                    keyword="NEWS"),
                        SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT),
    "held_full": (lambda: ctx("consent_request", sub(PENDING, pending_until=NOW + 1,
                                                     held=(send(),) * MAX_HELD)),
                  SendStatus.ERROR, SendDebug.OPT_IN_PENDING),
    "hold_for_consent": (lambda: ctx("consent_request", sub(PENDING, pending_until=NOW + 1)),
                         SendStatus.HELD, None),
    "opt_in_pending": (lambda: ctx("double_opt_in", sub(PENDING, pending_until=NOW + 1)),
                       SendStatus.ERROR, SendDebug.OPT_IN_PENDING),
    "keyword_not_opted_in": (lambda: ctx("default", keyword="VOLUNTEER"),
                             SendStatus.ERROR, SendDebug.NO_OPT_IN),
    "campaign_needs_opt_in": (lambda: ctx("default", kind=SendKind.CAMPAIGN),
                              SendStatus.ERROR, SendDebug.NO_OPT_IN),
    "request_consent": (lambda: ctx("consent_request", consent_request_to_new_numbers=True),
                        SendStatus.HELD, None),
    "consent_required": (lambda: ctx("mandatory"), SendStatus.ERROR, SendDebug.NO_OPT_IN),
    "no_opted_in_keyword": (lambda: ctx("default", keyword_scoped=True),
                            SendStatus.ERROR, SendDebug.NO_OPT_IN),
    "frequency_cap": (lambda: ctx("default", sub(IN), kind=SendKind.CAMPAIGN,
                                  sent=(NOW - 23 * HOUR, NOW - HOUR, NOW - 1),
                                  frequency_cap=CAP),
                      SendStatus.ERROR, SendDebug.FREQUENCY_CAP),
    "quiet_hours_full": (lambda: ctx("default", sub(IN, held=(send(kind=SendKind.CAMPAIGN),)
                                                    * MAX_HELD, held_until=NOW),
                                     kind=SendKind.CAMPAIGN, at=NIGHT),
                         SendStatus.ERROR, SendDebug.FREQUENCY_CAP),
    "quiet_hours": (lambda: ctx("default", sub(IN), kind=SendKind.CAMPAIGN, at=NIGHT),
                    SendStatus.HELD, None),
    "forward": (lambda: ctx("default"), SendStatus.FORWARDED, None),
}


def test_every_send_rule_has_a_scenario() -> None:
    assert set(SEND_SCENARIOS) == {r.name for r in SEND_RULES}


@pytest.mark.parametrize("name", sorted(SEND_SCENARIOS))
def test_send_rule_scenario(name: str) -> None:
    build, status, debug = SEND_SCENARIOS[name]
    context = build()
    rule = match_send_rule(context)
    assert (rule.name, rule.status, rule.debug) == (name, status, debug)
    (result,) = decide_send(context.state, context.request, context.gw, context.now).results
    assert (result.status, result.debug) == (status, debug)


@pytest.mark.parametrize("name", sorted(SEND_SCENARIOS))
def test_a_send_rule_that_applies_is_among_its_gateways_rules(name: str) -> None:
    """match_send_rule skips the rules a gateway's configuration rules out (on_gateway): a
    rule that applies must never be one of them."""
    context = SEND_SCENARIOS[name][0]()
    for rule in SEND_RULES:
        if rule.applies(context):
            assert rule.on_gateway(context.gw), rule.name
            assert rule in rules_on(context.gw), rule.name


def test_window_variants_cover_pending_rules() -> None:
    rule = next(r for r in INBOUND_RULES if r.name == "late_confirmation")
    closed = target(ConsentStatus.OPT_IN_PENDING, None, "closed")
    assert match_inbound_rule(Trigger.VERIFY, gateway("double_opt_in"), closed, NOW) is rule
    still_open = replace(closed, window_closed=False, pending_until=NOW + 1)
    assert match_inbound_rule(Trigger.VERIFY, gateway("double_opt_in"), still_open,
                              NOW) is not rule
