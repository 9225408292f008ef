"""Report rows: counting keys, the time window, the chart's opt-in/opt-out series."""

from __future__ import annotations

import pytest

from processor.domain.models.enums import ConsentSource, ConsentStatus
from processor.domain.models.outputs import ConsentEvent
from processor.reports.counts import count_events, opt_ins_and_outs, report, since_ms

DAY = 86_400_000
T = 1_800_000_000_000 // DAY * DAY  # a UTC midnight
NO, PENDING, IN, OUT = (ConsentStatus.NO_OPT_IN, ConsentStatus.OPT_IN_PENDING,
                        ConsentStatus.OPT_IN, ConsentStatus.OPT_OUT)


def event(gateway: str, previous: ConsentStatus, status: ConsentStatus, at: int,
          source: ConsentSource = ConsentSource.KEYWORD) -> ConsentEvent:
    return ConsentEvent(event_id="e", phone="+12025550143", gateway=gateway, keyword=None,
                        previous_status=previous, status=status, source=source, detail="",
                        actor=None, cause_id="c", version=1, occurred_at=at)


def test_days_are_utc_and_the_window_starts_at_the_first_days_midnight() -> None:
    counts = count_events([event("a", NO, OUT, T - 1), event("a", NO, OUT, T),
                           event("a", NO, OUT, T + DAY - 1), event("b", NO, IN, T + DAY)])
    result = report(counts, since=T + 5)  # any time of a day includes the whole day
    assert [(r.day, r.gateway, r.count) for r in result.rows] == [
        (result.since, "a", 2), (result.rows[1].day, "b", 1)]
    assert report(counts, since=T, gateway="b").rows[0].gateway == "b"


def test_the_chart_counts_changes_into_opt_in_and_opt_out_only() -> None:
    result = report(count_events([
        event("a", NO, IN, T), event("a", PENDING, IN, T, ConsentSource.CONFIRMATION),
        event("a", IN, OUT, T), event("a", NO, PENDING, T),
        event("a", PENDING, PENDING, T, ConsentSource.EXPIRY)]), since=T)
    assert opt_ins_and_outs(result) == {"a": {result.since: (2, 1)}}


@pytest.mark.parametrize("text", ["7d", "24h", "90m", "30s", "1.5d"])
def test_since_reads_durations(text: str) -> None:
    assert since_ms(text, T) < T


@pytest.mark.parametrize("text", ["", "7", "soon", "-1d", "7w"])
def test_since_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="--since"):
        since_ms(text, T)
