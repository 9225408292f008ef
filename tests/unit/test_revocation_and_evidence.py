"""Revocation scope (a brand-wide STOP, the FCC's 2024 "revoke all") and the evidence every
consent event carries."""

from __future__ import annotations

import pytest

from processor.domain.gateways.config import API_PERMISSION, MANUAL_PERMISSION, RevocationScope
from processor.domain.gateways.parsing import GatewayConfigError, parse_gateways
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
from tests.support.consent_helpers import HOUR, NOW, Conversation, command, gateways, inbound

IN, OUT, NO = ConsentStatus.OPT_IN, ConsentStatus.OPT_OUT, ConsentStatus.NO_OPT_IN


def brand_talk(scope: str = "brand") -> Conversation:
    """Acme has a, b (consent_request, owned) and c; Other has o."""
    return Conversation(gateways(
        a={}, b={"mode": "consent_request"}, c={"mode": "mandatory"},
        o={"brand": "Other"}, brands={"Acme": {"revocation_scope": scope}}))


def test_a_stop_to_one_gateway_revokes_every_gateway_of_the_brand_with_one_confirmation() -> None:
    talk = brand_talk()
    talk.text("START", "a")
    talk.text("VOLUNTEER", "c")
    talk.text("START", "o")
    stop = talk.text("STOP", "a")
    assert sorted((e.gateway, e.keyword or "", e.status) for e in stop.events) == [
        ("a", "", OUT), ("b", "", OUT), ("c", "", OUT), ("c", "VOLUNTEER", OUT)]
    assert [(o.gateway, o.reply_kind) for o in stop.outbound] == [
        ("a", ReplyKind.OPT_OUT_CONFIRMATION)]
    # Each affected subscription has its event, saying where the phone said it.
    b_event = next(e for e in stop.events if e.gateway == "b")
    assert b_event.detail == "Opt-out keyword: STOP (to a, revoking every Acme gateway)"
    assert b_event.source is ConsentSource.KEYWORD
    assert b_event.message_text == "STOP"
    assert [n.kind for n in stop.notices] == [ReplyKind.NOTICE_OPTED_OUT]  # b's owner
    assert talk.status("o") is IN  # another brand
    for gw in ("b", "c"):
        (result,) = talk.send(gw).results
        assert result.debug is SendDebug.PREVIOUS_OPT_OUT, gw


def test_only_the_phone_can_undo_a_brand_wide_stop_and_per_gateway() -> None:
    talk = brand_talk()
    talk.text("STOP", "a")
    refused = talk(command(CommandType.MANUAL_OPT_IN, "c", permissions=[MANUAL_PERMISSION]))
    assert refused.command_result is not None
    assert refused.command_result.result == "rejected"
    talk.text("START", "c")
    assert (talk.status("c"), talk.status("a")) == (IN, OUT)


def test_a_plain_words_revocation_is_brand_wide_too() -> None:
    talk = brand_talk()
    stop = talk.text("please stop texting me", "c")
    assert {e.gateway for e in stop.events} == {"a", "b", "c"}
    detail = next(e.detail for e in stop.events if e.gateway == "a")
    assert detail == "Opt-out request in message text (to c, revoking every Acme gateway)"


def test_stop_with_a_campaign_keyword_stays_in_its_scope() -> None:
    talk = brand_talk()
    talk.text("VOLUNTEER", "a")
    stop = talk.text("STOP VOLUNTEER", "a")
    assert [(e.gateway, e.keyword) for e in stop.events] == [("a", "VOLUNTEER")]


def test_a_repeated_stop_confirms_only_what_is_new() -> None:
    talk = brand_talk()
    talk.text("STOP", "a")
    again = talk.text("STOP", "a")
    assert (again.events, again.outbound) == ((), ())
    talk.text("START", "c")
    third = talk.text("STOP", "a")  # a is already out; c was opted in again
    assert [e.gateway for e in third.events] == ["c"]
    assert [(o.gateway, o.reply_kind) for o in third.outbound] == [
        ("a", ReplyKind.OPT_OUT_CONFIRMATION)]


def test_the_gateway_scope_is_the_default_and_today_behaviour() -> None:
    talk = brand_talk("gateway")
    talk.text("START", "c")
    stop = talk.text("STOP", "a")
    assert [e.gateway for e in stop.events] == ["a"]
    assert talk.status("c") is IN
    assert parse_gateways({"gateways": {"x": {}}}).revocation_scope(
        parse_gateways({"gateways": {"x": {}}}).get("x")) is RevocationScope.GATEWAY


def test_an_unconfigured_gateway_the_phone_uses_is_revoked_when_it_names_the_brand() -> None:
    talk = brand_talk()
    talk.text("START", "walk-in")  # not configured: it gets the defaults, brand Acme
    stop = talk.text("STOP", "a")
    assert "walk-in" in {e.gateway for e in stop.events}


@pytest.mark.parametrize(("config", "message"), [
    ({"brands": {"Nobody": {"revocation_scope": "brand"}}},
     "brands.Nobody: no gateway names this brand"),
    ({"brands": {"Acme": {"revocation_scope": "everything"}}},
     "brands.Acme.revocation_scope: unknown scope 'everything' (expected one of gateway, brand)"),
    ({"brands": {"Acme": {"scope": "brand"}}},
     "brands.Acme.scope: unknown setting (known: revocation_scope)"),
    ({"brands": ["Acme"]}, "brands: expected a mapping of brand to settings"),
])
def test_brand_settings_are_checked_with_their_path(config: dict[str, object],
                                                    message: str) -> None:
    with pytest.raises(GatewayConfigError) as caught:
        parse_gateways({"defaults": {"brand": "Acme"}, "gateways": {"a": {}}, **config})
    assert str(caught.value).startswith(message)


# Evidence -------------------------------------------------------------------------------------

def test_an_opt_out_text_keeps_its_exact_words_number_id_and_time() -> None:
    talk = Conversation(gateways(gw1={}))
    message = inbound("Stop please.", received_at=NOW - 5_000, message_id="SM1")
    (event,) = talk(message).events
    assert (event.message_id, event.message_text, event.gateway_number, event.received_at,
            event.command_id, event.cause_id) == (
        "SM1", "Stop please.", "12345", NOW - 5_000, None, "SM1")


def test_other_texts_are_never_kept() -> None:
    talk = Conversation(gateways(gw1={"mode": "mandatory", "create_opt_in_on_incoming": True}))
    (event,) = talk.text("see you at the game tonight").events
    assert (event.source, event.message_text) == (ConsentSource.INCOMING_SMS, None)
    assert event.message_id is not None
    assert event.gateway_number == "12345"


@pytest.mark.parametrize(("kind", "extra"), [
    (CommandType.MANUAL_OPT_OUT, {"permissions": [MANUAL_PERMISSION]}),
    (CommandType.API_OPT_IN, {"permissions": [API_PERMISSION]}),
    (CommandType.IMPORT, {"import_status": ImportStatus.ACTIVE}),
])
def test_manual_api_and_import_changes_keep_the_actor_and_the_command(
        kind: CommandType, extra: dict[str, object]) -> None:
    talk = Conversation(gateways(gw1={}))
    decision = talk(command(kind, actor="jo@acme.example", command_id="cmd-7",
                            **extra))  # type: ignore[arg-type]
    (event,) = decision.events
    assert (event.actor, event.command_id, event.message_id, event.message_text) == (
        "jo@acme.example", "cmd-7", None, None)


def test_an_expiry_has_no_evidence_but_its_timer() -> None:
    talk = Conversation(gateways(gw1={"mode": "double_opt_in", "pending_window": "1h"}))
    start = talk.text("START")
    assert start.events[0].message_text == "START"
    talk.now += HOUR + 1
    (expiry,) = talk.expire_due()
    (event,) = expiry.events
    assert (event.source, event.message_id, event.command_id, event.actor) == (
        ConsentSource.EXPIRY, None, None, None)


def test_a_held_send_refused_by_a_brand_wide_stop() -> None:
    talk = brand_talk()
    talk.text("START", "c")
    talk.now = NOW + 14 * HOUR  # 02:00 in Washington
    (held,) = talk.send("c", kind=SendKind.CAMPAIGN, request_id="r-1").results
    assert held.status is SendStatus.HELD
    stop = talk.text("STOP", "a")
    assert [(r.request_id, r.status, r.debug) for r in stop.results] == [
        ("r-1", SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)]
    assert talk.status("c") is OUT
    assert talk.status("b") is OUT
    assert talk.status("o") is NO
