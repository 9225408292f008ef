"""The send decision: exactly one result per request, in the documented order."""

from __future__ import annotations

import pytest

from processor.domain.consent.send_rules import (
    MAX_HELD,
    SEND_RULES,
    SendContext,
    decide_send,
    match_send_rule,
)
from processor.domain.consent.state import window_open
from processor.domain.consent.statuses import IN, OUT, PENDING
from processor.domain.gateways.config import MANUAL_PERMISSION
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
from tests.support.consent_helpers import (
    HOUR,
    NOW,
    OWNER,
    Conversation,
    command,
    gateway,
    gateways,
    send,
    state,
    sub,
)


def verdict(talk: Conversation, **kwargs: object) -> tuple[SendStatus, SendDebug | None]:
    decision = talk.send(**kwargs)  # type: ignore[arg-type]
    (result,) = decision.results
    return result.status, result.debug


def test_default_mode_forwards_until_the_phone_opts_out() -> None:
    talk = Conversation(gateways(gw1={}))
    decision = talk.send()
    (result,) = decision.results
    (message,) = decision.outbound
    assert (result.status, result.debug) == (SendStatus.FORWARDED, None)
    assert (message.request_id, message.body, message.auto_reply) == (
        result.request_id, "Hello from Acme", False)
    assert result.message_id == message.message_id
    talk.text("STOP")
    blocked = talk.send()
    assert blocked.outbound == ()
    (result,) = blocked.results
    assert (result.status, result.debug, result.detail) == (
        SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT, "Opt-out keyword: STOP")
    assert result.consent.status is OUT


@pytest.mark.parametrize("mode", ["mandatory", "double_opt_in"])
def test_consent_modes_need_an_opt_in(mode: str) -> None:
    talk = Conversation(gateways(gw1={"mode": mode}))
    assert verdict(talk) == (SendStatus.ERROR, SendDebug.NO_OPT_IN)
    talk(command(CommandType.MANUAL_OPT_IN, permissions=[MANUAL_PERMISSION]))
    assert verdict(talk) == (SendStatus.FORWARDED, None)


def test_pending_double_opt_in_blocks_sends() -> None:
    talk = Conversation(gateways(gw1={"mode": "double_opt_in"}))
    talk.text("START")
    assert verdict(talk) == (SendStatus.ERROR, SendDebug.OPT_IN_PENDING)
    talk.text("YES")
    assert verdict(talk) == (SendStatus.FORWARDED, None)


def test_keyword_send_needs_an_opt_in_to_that_keyword_and_names_it() -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("START")
    decision = talk.send(keyword="VOLUNTEER")
    (result,) = decision.results
    assert (result.status, result.debug) == (SendStatus.ERROR, SendDebug.NO_OPT_IN)
    assert "VOLUNTEER" in (result.detail or "")
    talk.text("VOLUNTEER")
    assert verdict(talk, keyword="VOLUNTEER") == (SendStatus.FORWARDED, None)
    talk.text("STOP VOLUNTEER")
    assert verdict(talk, keyword="VOLUNTEER") == (SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)
    assert verdict(talk) == (SendStatus.FORWARDED, None)


@pytest.mark.parametrize("mode", ["default", "disclaimer", "mandatory", "double_opt_in",
                                  "consent_request"])
def test_a_campaign_send_needs_an_opt_in_in_every_mode(mode: str) -> None:
    settings = {"consent_request_to_new_numbers": True} if mode == "consent_request" else {}
    talk = Conversation(gateways(gw1={"mode": mode, **settings}))
    decision = talk.send(kind=SendKind.CAMPAIGN)
    (result,) = decision.results
    assert (result.status, result.debug) == (SendStatus.ERROR, SendDebug.NO_OPT_IN)
    assert "campaign" in (result.detail or "")
    assert decision.outbound == ()  # not even a consent request: marketing waits for consent
    # Conversations are unchanged: the default mode still texts until the phone opts out.
    if mode in {"default", "disclaimer"}:
        assert verdict(talk) == (SendStatus.FORWARDED, None)
    talk(command(CommandType.MANUAL_OPT_IN, permissions=[MANUAL_PERMISSION]))
    assert verdict(talk, kind=SendKind.CAMPAIGN) == (SendStatus.FORWARDED, None)


def test_a_campaign_send_to_a_keyword_needs_that_keyword_or_is_refused() -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("START")  # the gateway, not the keyword
    assert verdict(talk, kind=SendKind.CAMPAIGN, keyword="VOLUNTEER") == (
        SendStatus.ERROR, SendDebug.NO_OPT_IN)
    talk.text("VOLUNTEER")
    assert verdict(talk, kind=SendKind.CAMPAIGN, keyword="VOLUNTEER") == (
        SendStatus.FORWARDED, None)


def test_a_campaign_send_held_for_a_consent_request_leaves_only_after_yes() -> None:
    talk = consent_talk()
    talk.send(request_id="r-1")  # a conversation asks for consent; the window opens
    assert verdict(talk, kind=SendKind.CAMPAIGN, request_id="r-2") == (SendStatus.HELD, None)
    released = talk.text("YES")
    assert [(r.request_id, r.status) for r in released.results] == [
        ("r-1", SendStatus.FORWARDED), ("r-2", SendStatus.FORWARDED)]


def test_keyword_scoped_short_code_needs_one_opted_in_keyword() -> None:
    talk = Conversation(gateways(gw1={"keyword_scoped": True}))
    assert verdict(talk) == (SendStatus.ERROR, SendDebug.NO_OPT_IN)
    talk.text("DONATE2026")
    assert verdict(talk) == (SendStatus.FORWARDED, None)


def test_imported_scope_does_not_reach_a_phone_that_texted_stop() -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("STOP")
    talk(command(CommandType.IMPORT, keyword="NEWKEYWORD", import_status=ImportStatus.ACTIVE))
    assert talk.status(keyword="NEWKEYWORD") is IN  # MobileConnect accepts the row ...
    # ... but the phone's own STOP still wins: only its own keyword re-opens the gateway.
    assert verdict(talk, keyword="NEWKEYWORD") == (SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)
    talk.text("VOLUNTEER")
    assert verdict(talk, keyword="VOLUNTEER") == (SendStatus.FORWARDED, None)


def test_send_results_carry_the_consent_snapshot() -> None:
    talk = Conversation(gateways(gw1={}))
    talk.text("START")
    (result,) = talk.send().results
    assert (result.consent.status, result.consent.version) == (IN, 1)


def test_rules_are_checked_in_the_documented_order() -> None:
    assert [r.name for r in SEND_RULES] == [
        "global_opt_out", "previous_opt_out", "gateway_opt_out", "held_full", "hold_for_consent",
        "opt_in_pending", "keyword_not_opted_in", "campaign_needs_opt_in", "request_consent",
        "consent_required",
        "no_opted_in_keyword", "frequency_cap", "quiet_hours_full", "quiet_hours", "forward"]


def test_global_opt_out_beats_every_other_rule() -> None:
    config = gateway("mandatory")
    for status in ConsentStatus:
        before = state(sub(status), sub(OUT, "*", source=ConsentSource.GLOBAL))
        ctx = SendContext(send(), config, before, before.get("gw1"), before.get("gw1"), NOW)
        assert match_send_rule(ctx).name == "global_opt_out"


# consent_request mode (Movius "Opt-In with Consent") ----------------------------------------


def consent_talk(**settings: object) -> Conversation:
    return Conversation(gateways(gw1={"mode": "consent_request", "pending_window": "1h",
                                      "sender_name": "Dana Lee",
                                      "consent_request_to_new_numbers": True, **settings}))


def test_first_contact_is_held_and_a_consent_request_goes_out() -> None:
    talk = consent_talk()
    decision = talk.send(requested_by="alice@acme.example", request_id="r-1")
    (result,) = decision.results
    assert (result.status, result.debug) == (SendStatus.HELD, None)
    (request,) = decision.outbound
    assert request.reply_kind is ReplyKind.CONSENT_REQUEST_MO
    assert "Dana Lee" in request.body  # the gateway's person, not the user id
    (notice,) = decision.notices
    assert (notice.recipient, notice.kind, notice.request_id) == (
        "alice@acme.example", ReplyKind.NOTICE_CONSENT_REQUESTED_MO, "r-1")
    assert talk.status() is PENDING


def test_yes_releases_held_messages_in_order_and_notifies_both_sides() -> None:
    talk = consent_talk()
    talk.send(request_id="r-1", body="first")
    second = talk.send(request_id="r-2", body="second")
    assert [r.status for r in second.results] == [SendStatus.HELD]
    assert second.outbound == ()  # the request went out once
    decision = talk.text("YES")
    assert [(r.request_id, r.status) for r in decision.results] == [
        ("r-1", SendStatus.FORWARDED), ("r-2", SendStatus.FORWARDED)]
    forwarded = [o for o in decision.outbound if not o.auto_reply]
    assert [o.body for o in forwarded] == ["first", "second"]
    assert ReplyKind.CONSENT_CONFIRMED in [o.reply_kind for o in decision.outbound]
    assert [n.kind for n in decision.notices] == [ReplyKind.NOTICE_OPTED_IN]
    assert talk.state.get("gw1").held == ()


def test_stop_rejects_held_messages_as_previous_opt_out() -> None:
    talk = consent_talk()
    talk.send(request_id="r-1")
    decision = talk.text("STOP")
    assert [(r.request_id, r.status, r.debug) for r in decision.results] == [
        ("r-1", SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)]
    assert [n.kind for n in decision.notices] == [ReplyKind.NOTICE_OPTED_OUT]


def test_window_close_rejects_held_messages_as_no_opt_in() -> None:
    talk = consent_talk()
    talk.send(request_id="r-1")
    talk.now += HOUR + 1
    (expiry,) = talk.expire_due()
    assert [(r.request_id, r.status, r.debug) for r in expiry.results] == [
        ("r-1", SendStatus.ERROR, SendDebug.NO_OPT_IN)]
    assert [n.kind for n in expiry.notices] == [ReplyKind.NOTICE_EXPIRED]
    assert talk.state.get("gw1").held == ()


def test_global_opt_out_while_held_wins_over_the_later_yes() -> None:
    talk = consent_talk()
    talk.send(request_id="r-1")
    talk(command(CommandType.GLOBAL_OPT_OUT_SET, None))
    decision = talk.text("YES")
    assert [(r.status, r.debug) for r in decision.results] == [
        (SendStatus.ERROR, SendDebug.GLOBAL_OPT_OUT)]
    assert not [o for o in decision.outbound if not o.auto_reply]


def test_consent_requests_to_new_numbers_are_off_by_default() -> None:
    talk = Conversation(gateways(gw1={"mode": "consent_request"}))
    decision = talk.send()
    (result,) = decision.results
    assert (result.status, result.debug) == (SendStatus.ERROR, SendDebug.NO_OPT_IN)
    assert decision.outbound == ()


def test_customer_first_then_employee_sends_are_held_until_yes() -> None:
    talk = Conversation(gateways(gw1={"mode": "consent_request"}))
    talk.text("Hello?")
    assert window_open(talk.state.get("gw1"), talk.now)
    assert verdict(talk, request_id="r-9") == (SendStatus.HELD, None)
    decision = talk.text("yes")
    assert [(r.request_id, r.status) for r in decision.results] == [("r-9", SendStatus.FORWARDED)]
    assert [n.recipient for n in decision.notices] == [OWNER]


# disclaimer mode (Movius "Opt-In Disclaimer") -------------------------------------------------


def test_disclaimer_precedes_only_the_first_forwarded_message() -> None:
    talk = Conversation(gateways(gw1={"mode": "disclaimer"}))
    first = talk.send(body="first")
    assert [(o.reply_kind, o.auto_reply) for o in first.outbound] == [
        (ReplyKind.DISCLAIMER, True), (None, False)]
    second = talk.send(body="second")
    assert [o.body for o in second.outbound] == ["second"]


def test_decide_send_is_pure() -> None:
    config = gateway()
    before = state(sub(IN))
    request = send()
    assert decide_send(before, request, config, NOW) == decide_send(before, request, config, NOW)
    assert before.get("gw1").status is IN


def test_at_most_a_bounded_number_of_requests_is_held() -> None:
    """Found in review: held requests grew without limit and every state record carried them
    all (1.3 MB for 300 held requests: over the broker's message size)."""
    talk = consent_talk()
    verdicts = [verdict(talk, request_id=f"r-{i}") for i in range(MAX_HELD + 2)]
    assert verdicts[:MAX_HELD] == [(SendStatus.HELD, None)] * MAX_HELD
    assert verdicts[MAX_HELD:] == [(SendStatus.ERROR, SendDebug.OPT_IN_PENDING)] * 2
    assert len(talk.state.get("gw1").held) == MAX_HELD
    released = talk.text("YES")
    assert [r.status for r in released.results] == [SendStatus.FORWARDED] * MAX_HELD
