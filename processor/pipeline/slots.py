"""What the runner keeps per owned partition number, and what it reports as its health."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass
class PartitionSlot:
    """One owned partition number (its sink partition is open)."""

    number: int
    recent_invalid: collections.deque[bool]
    paused_reason: str | None = None
    # The sink failed mid-transaction: its partition is reopened before the next batch.
    broken: bool = False
    # The store was compared with the committed offsets since the slot opened.
    store_checked: bool = False
    # Why the partition is being recovered from sms.consent-state (nothing is decided
    # meanwhile), and the task doing it.
    recovering: str | None = None
    recovery: asyncio.Task[None] | None = None
    # After a failed batch: no new batch before this time (monotonic), and the next wait.
    retry_at: float = 0.0
    backoff: float = 0.1

    @property
    def deciding(self) -> bool:
        """The partition may decide records now."""
        return (self.store_checked and not self.recovering and not self.paused_reason
                and not self.broken)

    @property
    def halted(self) -> bool:
        """Stopped or recovering: its inputs stay paused."""
        return bool(self.paused_reason or self.recovering)


@dataclass
class Health:
    kafka_ok: bool = False
    redis_ok: bool = False
    joined: bool = False

    def reasons(self, slots: Mapping[int, PartitionSlot],
                waits: Mapping[int, str] | None = None) -> list[str]:
        problems = []
        if not self.joined:
            problems.append("no partitions assigned yet")
        if not self.kafka_ok:
            problems.append("kafka unreachable")
        if not self.redis_ok:
            problems.append("redis unreachable")
        problems += [f"partition {n} stopped: {s.paused_reason}"
                     for n, s in sorted(slots.items()) if s.paused_reason]
        problems += [f"partition {n} recovering its consent store from the consent-state "
                     f"topic, nothing is decided meanwhile: {s.recovering}"
                     for n, s in sorted(slots.items()) if s.recovering]
        problems += [f"partition {n} {why}" for n, why in sorted((waits or {}).items())]
        return problems
