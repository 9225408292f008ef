"""Frequency caps: at most N campaign sends to a phone in a rolling window, per gateway or per
campaign keyword, counted with each forward's time; refused with debug Frequency Cap."""

from __future__ import annotations

import pytest

from processor.domain.gateways.parsing import GatewayConfigError, parse_gateways
from processor.domain.models.enums import SendDebug, SendKind, SendStatus
from tests.support.consent_helpers import HOUR, MINUTE, NOW, Conversation, gateways

CAP = {"max": 3, "window": "24h"}


def capped(**cap: object) -> Conversation:
    talk = Conversation(gateways(gw1={"frequency_cap": {**CAP, **cap}}))
    talk.text("START")
    talk.text("VOLUNTEER")
    talk.text("DONATE2026")
    return talk


def statuses(talk: Conversation, **kwargs: object) -> tuple[SendStatus, SendDebug | None]:
    (result,) = talk.send(kind=SendKind.CAMPAIGN, **kwargs).results
    return result.status, result.debug


def test_a_fourth_campaign_text_within_24_hours_is_refused() -> None:
    talk = capped()
    for _ in range(3):
        assert statuses(talk) == (SendStatus.FORWARDED, None)
        talk.now += HOUR
    decision = talk.send(kind=SendKind.CAMPAIGN)
    (result,) = decision.results
    assert (result.status, result.debug) == (SendStatus.ERROR, SendDebug.FREQUENCY_CAP)
    assert result.detail == ("3 campaign sends to this phone in the last 24 hours; the "
                             "gateway's cap is 3 campaign sends in 24 hours")
    assert decision.outbound == ()
    # Conversations and transactional texts are not counted and not capped.
    assert [r.status for r in talk.send(kind=SendKind.TRANSACTIONAL).results] == [
        SendStatus.FORWARDED]
    assert [r.status for r in talk.send().results] == [SendStatus.FORWARDED]


def test_the_window_rolls() -> None:
    talk = capped()
    for _ in range(3):
        statuses(talk)
        talk.now += 10 * MINUTE
    talk.now = NOW + 24 * HOUR  # the first send is exactly 24 hours old: out of the window
    assert statuses(talk) == (SendStatus.FORWARDED, None)
    assert statuses(talk) == (SendStatus.ERROR, SendDebug.FREQUENCY_CAP)


def test_only_forwarded_sends_count_and_each_with_its_time() -> None:
    talk = capped()
    statuses(talk)
    talk.text("STOP")
    assert statuses(talk) == (SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)
    talk.text("START")
    statuses(talk)
    log = talk.state.send_log("gw1")
    assert (log.times, log.version) == ((NOW, NOW), 2)


def test_per_keyword_caps_count_each_campaign_keyword_apart() -> None:
    talk = capped(per_keyword=True)
    for _ in range(3):
        assert statuses(talk, keyword="VOLUNTEER") == (SendStatus.FORWARDED, None)
    assert statuses(talk, keyword="VOLUNTEER") == (SendStatus.ERROR, SendDebug.FREQUENCY_CAP)
    assert statuses(talk, keyword="DONATE2026") == (SendStatus.FORWARDED, None)
    assert statuses(talk) == (SendStatus.FORWARDED, None)  # no keyword: the gateway's count
    (result,) = talk.send(kind=SendKind.CAMPAIGN, keyword="VOLUNTEER").results
    assert result.detail is not None
    assert result.detail.startswith("3 campaign sends for keyword VOLUNTEER")


def test_without_per_keyword_every_campaign_of_the_gateway_counts_together() -> None:
    talk = capped()
    statuses(talk, keyword="VOLUNTEER")
    statuses(talk, keyword="DONATE2026")
    statuses(talk)
    assert statuses(talk, keyword="VOLUNTEER") == (SendStatus.ERROR, SendDebug.FREQUENCY_CAP)


def test_sends_held_overnight_are_capped_when_released() -> None:
    talk = capped()
    talk.now = NOW + 12 * HOUR  # 00:00 in Washington
    for index in range(4):
        assert statuses(talk, request_id=f"r-{index}") == (SendStatus.HELD, None)
    talk.now = NOW + 20 * HOUR  # 08:00
    (tick,) = talk.expire_due()
    assert [(r.request_id, r.status, r.debug) for r in tick.results] == [
        ("r-0", SendStatus.FORWARDED, None), ("r-1", SendStatus.FORWARDED, None),
        ("r-2", SendStatus.FORWARDED, None), ("r-3", SendStatus.ERROR, SendDebug.FREQUENCY_CAP)]


def test_a_replay_of_the_same_state_and_time_decides_the_same() -> None:
    talk = capped()
    for _ in range(3):
        statuses(talk)
    before = talk.state
    first = talk.send(kind=SendKind.CAMPAIGN, request_id="r-x")
    talk.state = before
    assert talk.send(kind=SendKind.CAMPAIGN, request_id="r-x") == first


@pytest.mark.parametrize(("cap", "message"), [
    ({"max": 0, "window": "24h"}, "gateways.gw1.frequency_cap.max: must be at least 1, got 0"),
    ({"max": 3}, "gateways.gw1.frequency_cap.window: required"),
    ({"max": 3, "window": "soon"}, "gateways.gw1.frequency_cap.window: expected a duration"),
    ({"max": 3, "window": "24h", "subject": "x"},
     "gateways.gw1.frequency_cap.subject: unknown setting (known: max, per_keyword, window)"),
    ({"max": "3", "window": "24h"}, "gateways.gw1.frequency_cap.max: wrong type str"),
    ("3 per day", "gateways.gw1.frequency_cap: wrong type str"),
])
def test_cap_settings_are_checked_with_their_path(cap: object, message: str) -> None:
    with pytest.raises(GatewayConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_gateways({"gateways": {"gw1": {"frequency_cap": cap}}})
