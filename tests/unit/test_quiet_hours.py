"""Quiet hours by the recipient's clock: the rule rows, the number's zones and state, several
zones, daylight-saving changes, effective dates, and campaign sends held and released through
the decisions (an injected clock; nothing sleeps)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from processor.domain.consent.state import due_at
from processor.domain.gateways.config import MANUAL_PERMISSION
from processor.domain.models.enums import CommandType, ReplyKind, SendDebug, SendKind, SendStatus
from processor.domain.quiet_hours import (
    LOCAL,
    Hours,
    QuietHours,
    QuietHoursRule,
    Recipient,
    every_day,
    format_instant,
    recipient_of,
)
from processor.domain.quiet_hours_rules import DEFAULT_QUIET_HOURS, QUIET_HOURS_RULES
from tests.support.consent_helpers import MINUTE, Conversation, command, gateways

DC = "+12025550123"  # Washington, D.C.: the federal rule only (8:00-21:00)
MIAMI = "+13055550123"  # Florida: 8:00-20:00
JACKSON = "+16015550123"  # Mississippi: 8:00-20:00 CST, no Sundays
HARTFORD = "+18605550123"  # Connecticut: 9:00-20:00 since 2023-10-01
IDAHO = "+12085550100"  # an exchange libphonenumber places in two zones (Boise, Los Angeles)
EASTERN = ZoneInfo("America/New_York")


def at(local: str, zone: ZoneInfo = EASTERN) -> int:
    """Epoch ms of a wall-clock time in ``zone``: ``at("2027-01-15 22:30")``."""
    return int(datetime.fromisoformat(local).replace(tzinfo=zone).timestamp() * 1000)


def utc(ms: int) -> str:
    return format_instant(ms)


def blocked_at(phone: str, ms: int) -> int | None:
    """When a campaign text at ``ms`` could go instead (None: it may go now)."""
    found = DEFAULT_QUIET_HOURS.blocked(recipient_of(phone), ms)
    return None if found is None else found.sendable_at


# The rule rows ------------------------------------------------------------------------------

EXPECTED = {  # jurisdiction: (Monday-Saturday hours, Sunday hours or None)
    "US": ((8, 21), (8, 21)), "US-FL": ((8, 20), (8, 20)), "US-OK": ((8, 20), (8, 20)),
    "US-MD": ((8, 20), (8, 20)), "US-MS": ((8, 20), None), "US-MA": ((8, 20), (8, 20)),
    "US-CT": ((9, 20), (9, 20)), "US-LA": ((8, 20), None),
}


def test_the_table_holds_exactly_the_verified_jurisdictions() -> None:
    assert {rule.jurisdiction for rule in QUIET_HOURS_RULES} == set(EXPECTED)
    # Checked and not encoded: New Jersey is the federal window; Texas was not verified.
    assert not {"US-NJ", "US-TX"} & {rule.jurisdiction for rule in QUIET_HOURS_RULES}


@pytest.mark.parametrize("rule", QUIET_HOURS_RULES, ids=lambda r: r.jurisdiction)
def test_every_row_permits_exactly_its_hours_and_cites_its_source(rule: QuietHoursRule) -> None:
    assert rule.citation and rule.source.startswith("https://") and rule.note
    assert rule.effective <= date(2026, 12, 1)
    weekday, sunday = EXPECTED[rule.jurisdiction]
    monday = date(2027, 1, 11)
    for offset in range(7):
        day = monday + timedelta(days=offset)
        hours = sunday if day.weekday() == 6 else weekday
        for minute in range(0, 24 * 60, 15):
            local = datetime.combine(day, time(minute // 60, minute % 60))
            inside = hours is not None and hours[0] * 60 <= minute < hours[1] * 60
            assert rule.permits(local) is inside, (rule.jurisdiction, local)


def test_a_later_row_replaces_an_earlier_one_from_its_date_on() -> None:
    table = QuietHours((
        QuietHoursRule("US", date(1992, 12, 20), every_day(8, 21), "c", "https://x", "n"),
        QuietHoursRule("US-CT", date(2014, 1, 1), every_day(9, 21), "c", "https://x", "n"),
        QuietHoursRule("US-CT", date(2023, 10, 1), every_day(9, 20), "c", "https://x", "n"),
    ))
    ct = Recipient(("US", "US-CT"), ("America/New_York",))
    assert table.blocked(ct, at("2023-09-30 20:30")) is None
    assert table.blocked(ct, at("2023-10-01 20:30")) is not None
    assert table.in_force("US-CT", date(2013, 12, 31)) is None


def test_the_connecticut_row_starts_on_its_effective_date() -> None:
    assert blocked_at(HARTFORD, at("2023-09-30 08:30")) is None  # the federal 8:00 applied
    assert blocked_at(HARTFORD, at("2023-10-02 08:30")) == at("2023-10-02 09:00")


def test_closed_days_are_data() -> None:
    christmas = date(2027, 12, 25)
    table = QuietHours((QuietHoursRule("US", date(1992, 12, 20), every_day(8, 21), "c",
                                       "https://x", "n", closed_on=(christmas,)),))
    dc = Recipient(("US",), ("America/New_York",))
    blocked = table.blocked(dc, at("2027-12-25 12:00"))
    assert blocked is not None
    assert blocked.sendable_at == at("2027-12-26 08:00")
    assert "no campaign texts on Saturday 2027-12-25" in blocked.reason


# The recipient, from the number -------------------------------------------------------------

@pytest.mark.parametrize(("phone", "jurisdictions", "zones"), [
    (DC, ("US", "US-DC"), ("America/New_York",)),
    (MIAMI, ("US", "US-FL"), ("America/New_York",)),
    ("+18504321234", ("US", "US-FL"), ("America/Chicago",)),  # the panhandle: Central time
    (JACKSON, ("US", "US-MS"), ("America/Chicago",)),
    ("+19075550123", ("US", "US-AK"), ("America/Adak", "America/Anchorage")),
    (IDAHO, ("US", "US-ID"), ("America/Boise", "America/Los_Angeles")),
    # A New Jersey area code whose exchange libphonenumber places in New York: both apply.
    ("+12016311234", ("US", "US-NJ", "US-NY"), ("America/New_York",)),
    ("+447400123456", ("GB",), ("Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey",
                                "Europe/London")),
])
def test_zones_and_jurisdictions_come_from_the_number(phone: str, jurisdictions: tuple[str, ...],
                                                      zones: tuple[str, ...]) -> None:
    assert recipient_of(phone) == Recipient(jurisdictions, zones)


def test_a_country_without_rules_is_never_held() -> None:
    assert blocked_at("+447400123456", at("2027-01-15 03:00", ZoneInfo("Europe/London"))) is None


def test_a_number_whose_zones_are_unknown_is_held_to_every_zone_of_its_country() -> None:
    unknown = Recipient(("US",), ("Etc/Unknown",))
    # 08:30 in New York is 03:30 in Honolulu.
    found = DEFAULT_QUIET_HOURS.blocked(unknown, at("2027-01-15 08:30"))
    assert found is not None
    assert found.zone != "America/New_York"
    assert found.sendable_at == at("2027-01-15 08:00", ZoneInfo("Pacific/Honolulu"))


# Hours across zones and clock changes -------------------------------------------------------

def test_the_state_rule_is_stricter_than_the_federal_one() -> None:
    evening = at("2027-01-15 20:30")
    assert blocked_at(DC, evening) is None
    assert blocked_at(MIAMI, evening) == at("2027-01-16 08:00")


def test_a_number_in_two_zones_waits_until_both_permit() -> None:
    # 08:30 in Boise is 07:30 in Los Angeles: not yet; 08:00 in Los Angeles is the time.
    boise = ZoneInfo("America/Boise")
    assert blocked_at(IDAHO, at("2027-01-15 08:30", boise)) == at(
        "2027-01-15 08:00", ZoneInfo("America/Los_Angeles"))
    # 20:30 in Los Angeles is 21:30 in Boise: already over.
    assert blocked_at(IDAHO, at("2027-01-15 20:30", ZoneInfo("America/Los_Angeles"))) == at(
        "2027-01-16 08:00", ZoneInfo("America/Los_Angeles"))
    assert blocked_at(IDAHO, at("2027-01-15 12:00", boise)) is None


@pytest.mark.parametrize(("evening", "morning_utc"), [
    # The night clocks spring forward (2027-03-14): 08:00 EDT is 12:00 UTC.
    ("2027-03-13 22:00", "2027-03-14T12:00:00.000Z"),
    # The night before, still winter: 08:00 EST is 13:00 UTC.
    ("2027-03-12 22:00", "2027-03-13T13:00:00.000Z"),
    # The night clocks fall back (2027-11-07): 08:00 EST is 13:00 UTC.
    ("2027-11-06 22:00", "2027-11-07T13:00:00.000Z"),
    ("2027-11-05 22:00", "2027-11-06T12:00:00.000Z"),
])
def test_release_follows_the_recipients_clock_across_daylight_saving(
        evening: str, morning_utc: str) -> None:
    release = blocked_at(DC, at(evening))
    assert release is not None
    assert utc(release) == morning_utc


def test_mississippi_reads_central_standard_time_and_forbids_sundays() -> None:
    central = ZoneInfo("America/Chicago")
    # Summer: 08:30 CDT is 07:30 CST, before the statute's 8:00 CST; 09:00 CDT is the time.
    assert blocked_at(JACKSON, at("2027-07-09 08:30", central)) == at("2027-07-09 09:00",
                                                                       central)
    # 20:30 CDT is 19:30 CST, but after 20:00 local: both clocks must permit.
    assert blocked_at(JACKSON, at("2027-07-09 20:30", central)) is not None
    # Saturday evening waits for Monday: no campaign texts on Sundays.
    assert blocked_at(JACKSON, at("2027-01-16 20:30", central)) == at("2027-01-18 08:00",
                                                                       central)
    assert blocked_at(JACKSON, at("2027-01-17 12:00", central)) == at("2027-01-18 08:00",
                                                                       central)


def test_the_windows_are_half_open() -> None:
    assert blocked_at(DC, at("2027-01-15 08:00")) is None
    assert blocked_at(DC, at("2027-01-15 07:59:59.999")) == at("2027-01-15 08:00")
    assert blocked_at(DC, at("2027-01-15 20:59:59.999")) is None
    assert blocked_at(DC, at("2027-01-15 21:00")) == at("2027-01-16 08:00")


# Through the decisions ----------------------------------------------------------------------

def campaign_talk(phone: str = DC, **settings: object) -> Conversation:
    talk = Conversation(gateways(gw1={"mode": "default", **settings}),
                        now=at("2027-01-15 22:30"))
    talk.text_from(phone, "START")
    return talk


def test_a_campaign_send_at_2230_is_held_until_0800_and_released_once_by_the_timer() -> None:
    talk = campaign_talk()
    held = talk.send(kind=SendKind.CAMPAIGN, request_id="r-1", phone=DC)
    (result,) = held.results
    assert (result.status, result.debug, result.sendable_at) == (
        SendStatus.HELD, None, at("2027-01-16 08:00"))
    assert "22:30 on Fri in America/New_York" in (result.detail or "")
    assert "47 CFR 64.1200(c)(1)" in (result.detail or "")
    assert "sendable at 2027-01-16T13:00:00.000Z" in (result.detail or "")
    assert held.outbound == ()
    sub = talk.state.get("gw1")
    assert ([r.request_id for r in sub.held], sub.held_until) == (["r-1"], at("2027-01-16 08:00"))
    assert due_at(sub) == at("2027-01-16 08:00")
    talk.now = at("2027-01-16 07:59")
    assert talk.expire_due() == []  # not due yet
    talk.now = at("2027-01-16 08:00")
    (tick,) = talk.expire_due()
    assert [(r.request_id, r.status) for r in tick.results] == [("r-1", SendStatus.FORWARDED)]
    assert [o.request_id for o in tick.outbound] == ["r-1"]
    assert talk.state.get("gw1").held == ()
    assert talk.expire_due() == []  # released exactly once


def test_a_stale_or_early_tick_releases_nothing() -> None:
    talk = campaign_talk()
    talk.send(kind=SendKind.CAMPAIGN, request_id="r-1", phone=DC)
    due = at("2027-01-16 08:00")
    for until, now in ((due - 1, due), (due, due - 1)):
        talk.now = now
        tick = talk(command(CommandType.EXPIRE_WINDOW, "gw1", until=until, actor="timer"))
        assert (tick.results, tick.outbound) == ((), ())
        assert tick.command_result is not None
        assert tick.command_result.reason == "no held sends due at this time"
    assert [r.request_id for r in talk.state.get("gw1").held] == ["r-1"]


def test_a_stop_while_held_wins() -> None:
    talk = campaign_talk()
    talk.send(kind=SendKind.CAMPAIGN, request_id="r-1", phone=DC)
    talk.now = at("2027-01-16 01:00")
    stop = talk.text_from(DC, "STOP")
    assert [(r.request_id, r.status, r.debug) for r in stop.results] == [
        ("r-1", SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)]
    assert [o.reply_kind for o in stop.outbound] == [ReplyKind.OPT_OUT_CONFIRMATION]
    talk.now = at("2027-01-16 08:00")
    assert talk.expire_due() == []  # nothing left to release


def test_a_global_opt_out_while_held_wins_at_release() -> None:
    talk = campaign_talk()
    talk.send(kind=SendKind.CAMPAIGN, request_id="r-1", phone=DC)
    talk(command(CommandType.GLOBAL_OPT_OUT_SET, None, phone=DC))
    talk.now = at("2027-01-16 08:00")
    (tick,) = talk.expire_due()
    assert [(r.status, r.debug) for r in tick.results] == [
        (SendStatus.ERROR, SendDebug.GLOBAL_OPT_OUT)]
    assert tick.outbound == ()


def test_held_sends_leave_in_order_before_a_later_send() -> None:
    talk = campaign_talk()
    talk.send(kind=SendKind.CAMPAIGN, request_id="r-1", phone=DC)
    talk.send(kind=SendKind.CAMPAIGN, request_id="r-2", phone=DC)
    talk.now = at("2027-01-16 08:00:01")  # the timer has not ticked yet
    later = talk.send(kind=SendKind.CAMPAIGN, request_id="r-3", phone=DC)
    assert [o.request_id for o in later.outbound] == ["r-1", "r-2", "r-3"]
    assert [r.request_id for r in later.results] == ["r-1", "r-2", "r-3"]
    assert talk.expire_due() == []


@pytest.mark.parametrize("kind", [SendKind.ONE_TO_ONE, SendKind.TRANSACTIONAL])
def test_conversations_and_transactional_texts_are_never_held(kind: SendKind) -> None:
    talk = campaign_talk()
    assert [r.status for r in talk.send(kind=kind, phone=DC).results] == [SendStatus.FORWARDED]


def test_automatic_replies_go_at_any_hour() -> None:
    talk = Conversation(gateways(gw1={"mode": "double_opt_in"}), now=at("2027-01-16 03:00"))
    assert [o.reply_kind for o in talk.text_from(DC, "START").outbound] == [
        ReplyKind.DOUBLE_OPT_IN_REQUEST]
    assert [o.reply_kind for o in talk.text_from(DC, "HELP").outbound] == [ReplyKind.HELP]
    assert [o.reply_kind for o in talk.text_from(DC, "STOP").outbound] == [
        ReplyKind.OPT_OUT_CONFIRMATION]


def test_quiet_hours_off_forwards_campaign_sends_at_night() -> None:
    talk = campaign_talk(quiet_hours="off")
    assert [r.status for r in talk.send(kind=SendKind.CAMPAIGN, phone=DC).results] == [
        SendStatus.FORWARDED]


def test_a_consent_answer_inside_the_hours_releases_a_held_campaign_send() -> None:
    talk = Conversation(gateways(gw1={"mode": "consent_request", "pending_window": "1h",
                                      "consent_request_to_new_numbers": True}),
                        now=at("2027-01-15 19:00"))
    talk.send(request_id="r-1", phone=DC)  # a conversation asks for consent
    talk.send(request_id="r-2", kind=SendKind.CAMPAIGN, phone=DC)  # held for the answer
    talk.now += 40 * MINUTE
    yes = talk.text_from(DC, "YES")
    assert [(r.request_id, r.status) for r in yes.results] == [
        ("r-1", SendStatus.FORWARDED), ("r-2", SendStatus.FORWARDED)]


def test_a_consent_answer_after_21h_holds_the_campaign_send_for_the_morning() -> None:
    talk = Conversation(gateways(gw1={"mode": "consent_request", "pending_window": "2h",
                                      "consent_request_to_new_numbers": True}),
                        now=at("2027-01-15 20:00"))
    talk.send(request_id="r-1", phone=DC)
    talk.send(request_id="r-2", kind=SendKind.CAMPAIGN, phone=DC)
    talk.now = at("2027-01-15 21:15")
    yes = talk.text_from(DC, "YES")
    # The conversation goes; the marketing text waits, and says so (a new reason to wait).
    assert [(r.request_id, r.status, r.sendable_at) for r in yes.results] == [
        ("r-1", SendStatus.FORWARDED, None), ("r-2", SendStatus.HELD, at("2027-01-16 08:00"))]
    talk.now = at("2027-01-16 08:00")
    (tick,) = talk.expire_due()
    assert [(r.request_id, r.status) for r in tick.results] == [("r-2", SendStatus.FORWARDED)]


def test_a_manual_opt_in_on_a_held_subscription_does_not_release_early() -> None:
    talk = campaign_talk()
    talk.send(kind=SendKind.CAMPAIGN, request_id="r-1", phone=DC)
    decision = talk(command(CommandType.MANUAL_OPT_IN, permissions=[MANUAL_PERMISSION],
                            phone=DC))
    assert decision.results == ()  # already Opt-In: no change, the hold stays
    assert [r.request_id for r in talk.state.get("gw1").held] == ["r-1"]


def test_rules_read_on_the_local_clock_by_default() -> None:
    assert QUIET_HOURS_RULES[0].clocks == (LOCAL,)
    assert Hours(time(8), time(21)).__str__() == "08:00-21:00"
