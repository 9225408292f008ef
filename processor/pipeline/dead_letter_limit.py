"""The dead-letter limit (like arroyo's DlqLimit): a partition whose recent records are mostly
invalid is stopped instead of being drained into the dead-letter topic."""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass


class DeadLetterLimitError(RuntimeError):
    """Too many invalid records on one partition: a bad deploy upstream, not bad luck."""


@dataclass(frozen=True, slots=True)
class DeadLetterLimit:
    window: int  # how many recent records are looked at
    max_invalid_ratio: float  # stop when more than this share of them was invalid...
    min_invalid: int  # ...and at least this many

    def empty(self) -> collections.deque[bool]:
        return collections.deque(maxlen=self.window)

    def check(self, recent: collections.deque[bool],
              flags: Iterable[bool]) -> collections.deque[bool]:
        """`recent` with a batch's flags (True: invalid, in record order) added; raises
        DeadLetterLimitError when the limit is crossed. `recent` itself is left alone, so a
        batch that is not committed is not counted (a retried batch is counted once)."""
        window = collections.deque(recent, maxlen=self.window)
        window.extend(flags)
        bad = sum(window)
        if bad >= self.min_invalid and bad / len(window) > self.max_invalid_ratio:
            raise DeadLetterLimitError(
                f"{bad} of the last {len(window)} records were invalid "
                f"(limit {self.max_invalid_ratio:.0%})")
        return window
