"""Small interfaces between the pipeline and the outside world (adapters implement them)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from processor.domain.consent import PhoneState
from processor.domain.models import Subscription


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


@dataclass
class ManualClock:
    """A clock the tests move by hand (windows and expiry without sleeping)."""

    now: int = 1_800_000_000_000

    def now_ms(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@dataclass(frozen=True, slots=True)
class Loaded:
    """One phone's state plus the stored outcomes of the cause ids asked about."""

    state: PhoneState
    outcomes: Mapping[str, bytes]


@dataclass(frozen=True, slots=True)
class PhoneWrite:
    """What a batch changes for one phone: new subscription values (each fenced by the
    version it was read at) and the outcomes of the inputs it decided."""

    phone: str
    subscriptions: Sequence[tuple[Subscription, int]] = ()  # (new value, version read)
    outcomes: Mapping[str, bytes] = field(default_factory=dict)
    # Subscriptions (as read) whose open confirmation window this batch closed or replaced.
    left_windows: Sequence[Subscription] = ()


@dataclass(frozen=True, slots=True)
class DueWindow:
    """An entry of the window index whose time has come: the window's close time at first,
    the time to look again once a tick for it was sent."""

    phone: str
    gateway: str
    keyword: str | None
    due_at: int
    member: bytes


@dataclass(frozen=True, slots=True)
class WindowSettlement:
    """What the timer does with the entries it looked at. Each change applies only if the
    entry still has the score the timer saw (a newer window's entry is never touched)."""

    retry: Sequence[tuple[DueWindow, int]] = ()  # (entry, when to look again)
    drop: Sequence[DueWindow] = ()  # no open window behind it any more


class VersionConflictError(RuntimeError):
    """A subscription changed since it was read: another worker wrote it (this one may have
    lost its partition). Nothing of the batch was written for the phones in that group."""


class ConsentStore(Protocol):
    async def load(self, wanted: Mapping[str, Iterable[str]]) -> dict[str, Loaded]:
        """States of the phones (keys) and stored outcomes of the given cause ids, one round
        trip per Redis slot group."""
        ...

    async def commit(self, writes: Sequence[PhoneWrite], partition: int) -> None:
        """Writes states and outcomes atomically per phone group; raises VersionConflictError."""
        ...

    async def due_windows(self, partition: int, now: int, limit: int) -> list[DueWindow]: ...

    async def settle_windows(self, partition: int, settlement: WindowSettlement) -> None: ...

    async def ping(self) -> bool: ...
