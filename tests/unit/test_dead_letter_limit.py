"""The dead-letter limit counts records in their order, once per committed batch."""

from __future__ import annotations

import pytest

from processor.pipeline.dead_letter_limit import DeadLetterLimit, DeadLetterLimitError

LIMIT = DeadLetterLimit(window=200, max_invalid_ratio=0.5, min_invalid=20)


def test_scattered_invalid_records_in_a_big_batch_do_not_stop_the_partition() -> None:
    """Found in review: the flags were built valid-first, invalid-last, so 101 invalid records
    in a batch of 1,000 (10%) filled the 200-record window and stopped the partition."""
    flags = [i % 10 == 0 for i in range(1000)]  # 100 invalid, scattered
    window = LIMIT.check(LIMIT.empty(), flags)
    assert sum(window) == 20 and len(window) == 200


def test_a_flood_stops_the_partition_and_names_the_share() -> None:
    with pytest.raises(DeadLetterLimitError, match="30 of the last 30 records were invalid"):
        LIMIT.check(LIMIT.empty(), [True] * 30)


def test_few_invalid_records_never_stop_it_whatever_the_share() -> None:
    assert sum(LIMIT.check(LIMIT.empty(), [True] * 19)) == 19


def test_checking_does_not_count_the_batch_until_it_is_kept() -> None:
    """A batch whose commit fails is checked again on retry: it must not be counted twice."""
    recent = LIMIT.empty()
    for _ in range(25):
        LIMIT.check(recent, [True])  # never kept: the commit failed each time
    assert list(recent) == []
    kept = LIMIT.check(recent, [True])
    assert list(kept) == [True]


def test_the_window_forgets_old_records() -> None:
    window = LIMIT.check(LIMIT.empty(), [True] * 19 + [False] * 200)
    assert sum(window) == 0
