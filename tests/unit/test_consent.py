"""The consent state machine, rule by rule (issue: consent state machine, rules 1-10)."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from processor.domain.classify.classifier import classify
from processor.domain.consent.inbound_rules import decide_inbound
from processor.domain.consent.state import Decision
from processor.domain.consent.statuses import IN, NO, OUT, PENDING
from processor.domain.gateways.config import API_PERMISSION, MANUAL_PERMISSION
from processor.domain.models.enums import (
    CommandOutcome,
    CommandType,
    ConsentSource,
    ConsentStatus,
    ImportStatus,
    ReplyKind,
    SendDebug,
    SendStatus,
)
from processor.domain.models.subscription import GLOBAL_GATEWAY
from tests.support.consent_helpers import (
    HOUR,
    MINUTE,
    NOW,
    OWNER,
    Conversation,
    command,
    gateway,
    gateways,
    inbound,
    state,
    sub,
)


def replies(decision: Decision) -> list[ReplyKind | None]:
    return [o.reply_kind for o in decision.outbound if o.auto_reply]


# Rule 1: opt-out keywords ------------------------------------------------------------------


def test_stop_opts_out_every_scope_of_the_gateway_with_one_confirmation() -> None:
    talk = Conversation(gateways(gw1={}, gw2={}))
    talk.text("VOLUNTEER")
    talk.text("DONATE2026")
    talk.text("START", "gw2")
    decision = talk.text("STOP")
    assert {(e.keyword, e.status) for e in decision.events} == {
        (None, OUT), ("VOLUNTEER", OUT), ("DONATE2026", OUT)}
    assert all(e.detail == "Opt-out keyword: STOP" for e in decision.events)
    assert all(e.source is ConsentSource.KEYWORD for e in decision.events)
    assert replies(decision) == [ReplyKind.OPT_OUT_CONFIRMATION]
    assert talk.status("gw2") is IN  # only the gateway the phone texted (Mogli)


def test_repeated_stop_sends_no_second_confirmation_and_changes_nothing() -> None:
    talk = Conversation(gateways(gw1={}))
    first = talk.text("STOP")
    second = talk.text("stop")
    assert replies(first) == [ReplyKind.OPT_OUT_CONFIRMATION]
    assert second.events == () and second.outbound == () and second.changed == ()


def test_stop_with_a_campaign_keyword_opts_out_of_that_scope_only() -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("VOLUNTEER")
    talk.text("START")
    decision = talk.text("STOP VOLUNTEER")
    assert [(e.keyword, e.status) for e in decision.events] == [("VOLUNTEER", OUT)]
    assert talk.status() is IN
    assert talk.status(keyword="VOLUNTEER") is OUT


def test_free_text_revocation_opts_out_and_says_so_in_the_detail() -> None:
    talk = Conversation(gateways(gw1={}))
    decision = talk.text("Please stop texting me")
    assert [e.status for e in decision.events] == [OUT]
    assert decision.events[0].detail.startswith("Opt-out")


# Rule 2: opt-in keywords -------------------------------------------------------------------


@pytest.mark.parametrize("word", ["START", "UNSTOP", "YES"])
def test_opt_in_keyword_opts_in_with_a_confirmation(word: str) -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("STOP")
    decision = talk.text(word)
    assert [(e.previous_status, e.status, e.detail) for e in decision.events] == [
        (OUT, IN, f"Opt-in keyword: {word}")]
    assert replies(decision) == [ReplyKind.OPT_IN_CONFIRMATION]


def test_custom_opt_in_keyword_of_the_gateway_opts_in() -> None:
    talk = Conversation(gateways(gw1={"keywords": {"opt_in": ["JOIN"]}}))
    decision = talk.text("join")
    assert [(e.status, e.detail) for e in decision.events] == [(IN, "Opt-in keyword: JOIN")]


def test_campaign_keyword_opts_into_its_scope_only() -> None:
    talk = Conversation(gateways(gw1={}))
    decision = talk.text("volunteer")
    assert [(e.keyword, e.status) for e in decision.events] == [("VOLUNTEER", IN)]
    assert talk.status() is NO


def test_opt_in_keyword_when_already_opted_in_does_nothing() -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("START")
    assert talk.text("START").outbound == ()


# Rule 3: double opt-in windows -------------------------------------------------------------


def test_double_opt_in_confirmed_inside_the_window() -> None:
    talk = Conversation(gateways(gw1={"mode": "double_opt_in", "pending_window": "1h"}))
    first = talk.text("START")
    assert talk.status() is PENDING
    assert replies(first) == [ReplyKind.DOUBLE_OPT_IN_REQUEST]
    assert talk.state.get("gw1").pending_until == NOW + HOUR
    talk.now += 59 * MINUTE
    second = talk.text("YES")
    assert [(e.status, e.source, e.detail) for e in second.events] == [
        (IN, ConsentSource.CONFIRMATION, "Opt-in confirmation: YES")]
    assert replies(second) == [ReplyKind.OPT_IN_CONFIRMATION]
    talk.now += 2 * HOUR
    assert talk.expire_due() == []  # nothing pending any more


def test_window_expiry_is_an_event_and_a_late_yes_changes_nothing() -> None:
    talk = Conversation(gateways(gw1={"mode": "double_opt_in", "pending_window": "1h"}))
    talk.text("START")
    talk.now += HOUR + 1
    (expiry,) = talk.expire_due()
    assert [(e.previous_status, e.status, e.source) for e in expiry.events] == [
        (PENDING, PENDING, ConsentSource.EXPIRY)]
    assert talk.state.get("gw1").window_closed
    late = talk.text("YES")
    assert late.events == ()
    assert replies(late) == [ReplyKind.LATE_CONFIRMATION]
    assert talk.status() is PENDING  # treated as opted out (MobileConnect)
    again = talk.text("START")  # the phone must text the keyword again
    assert [e.status for e in again.events] == [PENDING]
    assert talk.state.get("gw1").pending_until == talk.now + HOUR


def test_a_late_yes_before_the_timer_ran_is_still_late() -> None:
    talk = Conversation(gateways(gw1={"mode": "double_opt_in", "pending_window": "1h"}))
    talk.text("START")
    talk.now += HOUR + 1
    assert replies(talk.text("YES")) == [ReplyKind.LATE_CONFIRMATION]


def test_stale_expiry_tick_decides_nothing() -> None:
    talk = Conversation(gateways(gw1={"mode": "double_opt_in", "pending_window": "1h"}))
    talk.text("START")
    until = talk.state.get("gw1").pending_until
    talk.text("YES")
    talk.now += 2 * HOUR
    stale = talk(command(CommandType.EXPIRE_WINDOW, until=until, actor="timer"))
    assert stale.events == ()
    assert stale.command_result is not None
    assert stale.command_result.reason == "no open window to expire"


def test_early_expiry_tick_decides_nothing() -> None:
    talk = Conversation(gateways(gw1={"mode": "double_opt_in", "pending_window": "1h"}))
    talk.text("START")
    until = talk.state.get("gw1").pending_until
    early = talk(command(CommandType.EXPIRE_WINDOW, until=until, actor="timer"))
    assert early.events == () and talk.status() is PENDING


def test_double_opt_in_for_a_campaign_scope_is_confirmed_by_yes() -> None:
    talk = Conversation(gateways(gw1={"mode": "double_opt_in"}))
    talk.text("VOLUNTEER")
    decision = talk.text("YES")
    assert [(e.keyword, e.status) for e in decision.events] == [("VOLUNTEER", IN)]


def test_custom_verification_keyword() -> None:
    talk = Conversation(gateways(gw1={"mode": "double_opt_in",
                                      "keywords": {"verification": "CONFIRM"}}))
    talk.text("START")
    decision = talk.text("confirm")
    assert [(e.status, e.source) for e in decision.events] == [(IN, ConsentSource.CONFIRMATION)]


# Rule 4: other inbound SMS -----------------------------------------------------------------


def test_incoming_sms_opts_in_with_create_opt_in_on_incoming() -> None:
    talk = Conversation(gateways(gw1={"mode": "mandatory", "create_opt_in_on_incoming": True}))
    decision = talk.text("Hi, is the store open today?")
    assert [(e.status, e.source, e.detail) for e in decision.events] == [
        (IN, ConsentSource.INCOMING_SMS, "Opt-in from incoming SMS")]
    assert decision.outbound == ()


@pytest.mark.parametrize("status", [OUT, PENDING])
def test_incoming_sms_never_overrides_opt_out_or_pending(status: ConsentStatus) -> None:
    config = gateway("mandatory", create_opt_in_on_incoming=True)
    before = state(sub(status, pending_until=NOW + HOUR if status is PENDING else None))
    decision = decide_inbound(before, inbound("hello?"), classify("hello?", config.keywords),
                              config, NOW)
    assert decision.events == () and decision.changed == ()


def test_incoming_sms_without_the_setting_changes_nothing() -> None:
    talk = Conversation(gateways(gw1={"mode": "mandatory"}))
    assert talk.text("Hi there").events == ()


# Rule 5: HELP --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(ConsentStatus))
def test_help_is_answered_in_every_status_and_changes_nothing(status: ConsentStatus) -> None:
    config = gateway()
    before = state(sub(status))
    decision = decide_inbound(before, inbound("HELP"), classify("HELP", config.keywords),
                              config, NOW)
    assert decision.changed == () and decision.events == ()
    (reply,) = decision.outbound
    assert reply.reply_kind is ReplyKind.HELP
    for required in ("Acme Alerts", "help@acme.example", "Msg&data rates may apply",
                     "Reply STOP to cancel"):
        assert required in reply.body


# Rules 6 and 7: manual and API commands ----------------------------------------------------


@pytest.mark.parametrize(("opt_out", "opt_in", "permission", "source", "label"), [
    (CommandType.MANUAL_OPT_OUT, CommandType.MANUAL_OPT_IN, MANUAL_PERMISSION,
     ConsentSource.MANUAL, "Manual"),
    (CommandType.API_OPT_OUT, CommandType.API_OPT_IN, API_PERMISSION, ConsentSource.API, "API"),
])
def test_manual_and_api_opt_out_and_in(opt_out: CommandType, opt_in: CommandType,
                                       permission: str, source: ConsentSource,
                                       label: str) -> None:
    talk = Conversation(gateways(gw1={}))
    out = talk(command(opt_out, permissions=[permission], actor="bob"))
    assert [(e.status, e.source, e.detail, e.actor) for e in out.events] == [
        (OUT, source, f"{label} opt-out by bob", "bob")]
    assert out.command_result is not None
    assert out.command_result.result is CommandOutcome.APPLIED
    back = talk(command(opt_in, permissions=[permission], actor="bob"))
    assert [(e.status, e.detail) for e in back.events] == [(IN, f"{label} opt-in by bob")]


@pytest.mark.parametrize("kind", [CommandType.MANUAL_OPT_IN, CommandType.API_OPT_IN])
def test_opt_in_by_command_is_refused_after_the_phone_texted_stop(kind: CommandType) -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("STOP")
    decision = talk(command(kind, permissions=[MANUAL_PERMISSION, API_PERMISSION]))
    assert decision.command_result is not None
    assert decision.command_result.result is CommandOutcome.REJECTED
    assert "only the phone can opt back in" in (decision.command_result.reason or "")
    assert decision.events == () and talk.status() is OUT


def test_manual_opt_in_into_a_scope_is_refused_after_stop_on_the_gateway() -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("STOP")
    decision = talk(command(CommandType.MANUAL_OPT_IN, keyword="NEWS",
                            permissions=[MANUAL_PERMISSION]))
    assert decision.command_result is not None
    assert decision.command_result.result is CommandOutcome.REJECTED


@pytest.mark.parametrize("kind", [CommandType.MANUAL_OPT_IN, CommandType.MANUAL_OPT_OUT,
                                  CommandType.API_OPT_OUT, CommandType.GLOBAL_OPT_OUT_CLEAR,
                                  CommandType.NUMBER_CHANGED])
def test_command_without_the_permission_is_rejected_with_the_reason(kind: CommandType) -> None:
    """A number change undoes the phone's own STOPs, so it needs a permission too (found in
    review: any actor could reset a texted STOP and the next send went out)."""
    talk = Conversation(gateways(gw1={}))
    talk.text("STOP")
    gateway = None if kind in {CommandType.GLOBAL_OPT_OUT_CLEAR,
                               CommandType.NUMBER_CHANGED} else "gw1"
    decision = talk(command(kind, gateway, actor="eve", permissions=["send_sms"]))
    assert decision.command_result is not None
    assert decision.command_result.result is CommandOutcome.REJECTED
    assert "eve" in (decision.command_result.reason or "")
    assert "permission" in (decision.command_result.reason or "")
    assert decision.events == ()


def test_manual_opt_out_of_the_gateway_covers_every_scope() -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("VOLUNTEER")
    decision = talk(command(CommandType.MANUAL_OPT_OUT, permissions=[MANUAL_PERMISSION]))
    assert {(e.keyword, e.status) for e in decision.events} == {(None, OUT), ("VOLUNTEER", OUT)}


# Rule 8: imports -----------------------------------------------------------------------------


def test_import_opts_in_only_where_the_phone_never_opted_out() -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("VOLUNTEER")
    talk.text("STOP")  # opts out of VOLUNTEER and the gateway
    refused = talk(command(CommandType.IMPORT, keyword="VOLUNTEER",
                           import_status=ImportStatus.ACTIVE))
    assert refused.command_result is not None
    assert refused.command_result.result is CommandOutcome.REJECTED
    assert "Opt-Out" in (refused.command_result.reason or "")
    fresh = talk(command(CommandType.IMPORT, keyword="NEWKEYWORD",
                         import_status=ImportStatus.ACTIVE))
    assert [(e.keyword, e.status, e.source) for e in fresh.events] == [
        ("NEWKEYWORD", IN, ConsentSource.IMPORT)]


def test_unsubscribe_import_row_opts_out() -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("VOLUNTEER")
    decision = talk(command(CommandType.IMPORT, keyword="VOLUNTEER",
                            import_status=ImportStatus.UNSUBSCRIBE))
    assert [(e.keyword, e.status) for e in decision.events] == [("VOLUNTEER", OUT)]


# Rule 9: global opt-out ----------------------------------------------------------------------


def test_global_opt_out_blocks_every_send_and_is_evented() -> None:
    talk = Conversation(gateways(gw1={}, gw2={}))
    talk.text("START")
    set_ = talk(command(CommandType.GLOBAL_OPT_OUT_SET, None, actor="bob"))
    assert [(e.gateway, e.status, e.source) for e in set_.events] == [
        (GLOBAL_GATEWAY, OUT, ConsentSource.GLOBAL)]
    for gw in ("gw1", "gw2"):
        (result,) = talk.send(gw).results
        assert (result.status, result.debug) == (SendStatus.ERROR, SendDebug.GLOBAL_OPT_OUT)
    cleared = talk(command(CommandType.GLOBAL_OPT_OUT_CLEAR, None, actor="bob",
                           permissions=[MANUAL_PERMISSION]))
    assert [(e.gateway, e.status) for e in cleared.events] == [(GLOBAL_GATEWAY, NO)]
    (result,) = talk.send("gw1").results
    assert result.status is SendStatus.FORWARDED


# Rule 10: number changed ---------------------------------------------------------------------


def test_number_change_resets_every_subscription_of_the_old_number() -> None:
    talk = Conversation(gateways(gw1={}, gw2={}))
    talk.text("START")
    talk.text("VOLUNTEER")
    talk.text("STOP", "gw2")
    talk(command(CommandType.GLOBAL_OPT_OUT_SET, None))
    decision = talk(command(CommandType.NUMBER_CHANGED, None, permissions=[API_PERMISSION]))
    assert {(e.gateway, e.keyword, e.status, e.source) for e in decision.events} == {
        ("gw1", None, NO, ConsentSource.NUMBER_CHANGE),
        ("gw1", "VOLUNTEER", NO, ConsentSource.NUMBER_CHANGE),
        ("gw2", None, NO, ConsentSource.NUMBER_CHANGE),
    }
    # The global opt-out was an explicit instruction: it is cleared only by its own command.
    assert talk.state.global_opt_out.status is OUT


# Events, versions, determinism ---------------------------------------------------------------


def test_versions_are_monotonic_and_event_ids_deterministic() -> None:
    def run() -> list[tuple[str, int]]:
        talk = Conversation(gateways(gw1={}))
        for body in ("START", "STOP", "START", "STOP"):
            talk(inbound(body, message_id=f"fixed-{body}-{len(talk.decisions)}"))
        return [(e.event_id, e.version) for d in talk.decisions for e in d.events]

    first, second = run(), run()
    assert first == second
    assert [v for _, v in first] == [1, 2, 3, 4]
    assert len({i for i, _ in first}) == 4


def test_consent_request_mt_flow_when_the_customer_texts_first() -> None:
    talk = Conversation(gateways(gw1={"mode": "consent_request", "sender_name": "Dana Lee"}))
    decision = talk.text("Hi Dana, question about my account")
    assert [(e.status, e.source) for e in decision.events] == [
        (PENDING, ConsentSource.CONSENT_REQUEST)]
    (request,) = decision.outbound
    assert request.reply_kind is ReplyKind.CONSENT_REQUEST_MT
    assert "Dana Lee" in request.body and "YES" in request.body and "STOP" in request.body
    (notice,) = decision.notices
    assert (notice.recipient, notice.kind) == (OWNER, ReplyKind.NOTICE_CONSENT_REQUESTED_MT)
    confirmed = talk.text("yes")
    assert [e.status for e in confirmed.events] == [IN]
    assert [n.kind for n in confirmed.notices] == [ReplyKind.NOTICE_OPTED_IN]
    assert replies(confirmed) == [ReplyKind.CONSENT_CONFIRMED]


def test_the_phones_stop_over_a_manual_opt_out_becomes_the_phones_own() -> None:
    """Found by the property test: a STOP after a manual opt-out was treated as a repeat, so
    the opt-out stayed 'manual' and a manual opt-in could undo what the phone had said."""
    talk = Conversation(gateways(gw1={}))
    talk(command(CommandType.MANUAL_OPT_OUT, permissions=[MANUAL_PERMISSION]))
    stop = talk.text("STOP")
    assert [(e.previous_status, e.status, e.source) for e in stop.events] == [
        (OUT, OUT, ConsentSource.KEYWORD)]
    assert replies(stop) == [ReplyKind.OPT_OUT_CONFIRMATION]  # the phone's first confirmation
    refused = talk(command(CommandType.MANUAL_OPT_IN, permissions=[MANUAL_PERMISSION]))
    assert refused.command_result is not None
    assert refused.command_result.result is CommandOutcome.REJECTED


def test_a_yes_received_in_time_confirms_even_when_decided_late() -> None:
    """Found in review: the window was judged by processing time, so a YES that arrived in
    time but was decided after a backlog lost the opt-in."""
    talk = Conversation(gateways(gw1={"mode": "double_opt_in", "pending_window": "1h"}))
    talk.text("START")
    sent_at = talk.now + HOUR - 1
    talk.now += 2 * HOUR  # the backlog: decided an hour after the window closed
    decision = talk(replace(inbound("YES"), received_at=sent_at))
    assert [(e.status, e.source) for e in decision.events] == [(IN, ConsentSource.CONFIRMATION)]
    late = Conversation(gateways(gw1={"mode": "double_opt_in", "pending_window": "1h"}))
    late.text("START")
    late.now += HOUR + 1
    future = replace(inbound("YES"), received_at=late.now + HOUR)  # a carrier clock ahead
    assert replies(late(future)) == [ReplyKind.LATE_CONFIRMATION]
