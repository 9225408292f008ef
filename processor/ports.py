"""Small interfaces between the pipeline and the outside world (adapters implement them)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from processor.domain.consent.state import PhoneState, SendLog
from processor.domain.models.subscription import Subscription


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


class Loaded(msgspec.Struct, frozen=True, gc=False):
    """One phone's state plus the stored outcomes of the cause ids asked about."""

    state: PhoneState
    outcomes: Mapping[str, bytes]


class PhoneWrite(msgspec.Struct, frozen=True, gc=False):
    """What a batch changes for one phone: new subscription values (each fenced by the
    version it was read at) and the outcomes of the inputs it decided. Structs, not frozen
    dataclasses, as one of each is built per phone and batch."""

    phone: str
    subscriptions: Sequence[tuple[Subscription, int]] = ()  # (new value, version read)
    outcomes: Mapping[str, bytes] = msgspec.field(default_factory=dict)
    # Subscriptions (as read) whose due time (a confirmation window's close, sends held for
    # quiet hours) this batch removed or moved: their timer entries go.
    left_windows: Sequence[Subscription] = ()
    # Campaign send logs (frequency caps): (new value, version read), fenced like states.
    send_logs: Sequence[tuple[SendLog, int]] = ()


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


@dataclass(frozen=True, slots=True)
class Progress:
    """How far one partition number's inputs are decided, per input topic (the topic's
    logical name, e.g. ``sms.inbound``): ``committed`` is the offset Kafka has committed (the
    store must hold every decision before it, or it lost writes), ``covered`` the offset after
    the batch's last record (recorded atomically with the batch's states and outcomes)."""

    committed: Mapping[str, int] = field(default_factory=dict)
    covered: Mapping[str, int] = field(default_factory=dict)


NO_PROGRESS = Progress()


class StoreBehindError(RuntimeError):
    """The store holds fewer decisions than Kafka has committed for a partition: it lost
    writes (flushed, restarted without its data, rolled back, a replica that was behind).
    Nothing of the batch was written; the partition must be recovered before it decides
    again."""

    def __init__(self, partition: int, topic: str, held: int | None, committed: int) -> None:
        self.partition = partition
        where = "nothing" if held is None else f"offset {held}"
        super().__init__(f"the consent store holds {topic}[{partition}] up to {where}, "
                         f"Kafka committed up to offset {committed}: it lost writes")


class VersionConflictError(RuntimeError):
    """A subscription changed since it was read: another worker wrote it (this one may have
    lost its partition). Nothing of the batch was written for the phones in that group."""


class ConsentStore(Protocol):
    async def load(self, wanted: Mapping[str, Iterable[str]]) -> dict[str, Loaded]:
        """States of the phones (keys) and stored outcomes of the given cause ids, one round
        trip per Redis slot group."""
        ...

    async def commit(self, writes: Sequence[PhoneWrite], partition: int,
                     progress: Progress = NO_PROGRESS) -> None:
        """Writes states and outcomes atomically per phone group, and records the progress;
        raises VersionConflictError, or StoreBehindError when the store is behind
        `progress.committed` (then nothing is written)."""
        ...

    async def progress(self, partition: int) -> dict[str, int]:
        """Per input topic, the offset after the last input of the partition whose decision
        the store holds (empty: none, e.g. a new or wiped store)."""
        ...

    async def restore(self, partition: int, subscriptions: Iterable[Subscription],
                      removed: Iterable[tuple[str, str, str | None]] = ()) -> int:
        """Writes subscriptions read from the consent-state topic (a newer version in the
        store wins) and their open windows; deletes the removed (phone, gateway, keyword)
        ones (tombstones). Returns how many subscriptions were written."""
        ...

    async def set_progress(self, partition: int, progress: Mapping[str, int]) -> None:
        """Replaces the partition's progress (after a restore: Kafka's committed offsets)."""
        ...

    async def due_windows(self, partition: int, now: int, limit: int) -> list[DueWindow]: ...

    async def settle_windows(self, partition: int, settlement: WindowSettlement) -> None: ...

    async def ping(self) -> bool: ...
