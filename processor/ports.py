"""Small interfaces between the pipeline and the outside world (adapters implement them).

* ``ConsentStore``: consent state, stored outcomes, window index, progress (Redis).
* ``Source``: the input records of the owned partition numbers, in decision order, and
  where each partition stands (Kafka consumer).
* ``Sink``: where a decided batch's outputs and input offsets go, one transaction per input
  partition number (Kafka transactional producers).
* ``Clock``.

Adapters raise the errors defined here, never their libraries' own:
``StoreUnavailableError`` and ``StreamUnavailableError`` are retriable (the batch is decided
again later), ``SinkFencedError`` says another worker owns the partition now,
``OutputTooLargeError`` that retrying cannot help.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import msgspec

from processor.domain.consent.state import PhoneState, SendLog
from processor.domain.models.subscription import Subscription
from processor.topics import Topic


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


class InputRecord(msgspec.Struct, frozen=True, gc=False):
    """One consumed input record, as the source hands it in. A Struct, not a dataclass: one
    is built per record, and a frozen dataclass's __init__ sets each field through
    object.__setattr__ (about ten times slower)."""

    topic: Topic
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int = 0
    headers: tuple[tuple[str, bytes], ...] = ()
    # The topic's name on the broker (with the configured prefix), for dead letters.
    source: str = ""


class OutputRecord(msgspec.Struct, frozen=True, gc=False):
    topic: Topic
    key: bytes | None
    value: bytes | None



class InputPartition(NamedTuple):
    """An input topic partition, by its name on the broker."""

    topic: str
    partition: int


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


def describe(error: BaseException) -> str:
    """An error for logs and /readyz: its type and message (redis-py's repr drops the
    message: ``network:ConnectionError``)."""
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class StoreUnavailableError(RuntimeError):
    """The consent store cannot be reached or failed a call (retriable: nothing of the batch
    is committed, it is decided again)."""


class StreamUnavailableError(RuntimeError):
    """The source or the sink cannot reach the log (retriable, like StoreUnavailableError)."""


class SourceUnavailableError(StreamUnavailableError):
    """The source could not fetch, position or check its partitions."""


class SinkUnavailableError(StreamUnavailableError):
    """The sink could not open its partition or commit a batch: nothing of it is committed,
    and the partition's writer must be reopened before the next batch."""


class SinkFencedError(RuntimeError):
    """Another worker took the partition number over (it fenced this one's writer)."""


class OutputTooLargeError(RuntimeError):
    """An output record is larger than the log accepts: retrying cannot help."""


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


class SinkTransaction(Protocol):
    async def commit(self, outputs: Sequence[OutputRecord]) -> None:
        """Sends the outputs (keyed as processor.pipeline.keying says) and commits them with
        the transaction's input offsets."""
        ...

    async def abort(self) -> BaseException | None:
        """Aborts; returns the error under the offsets when adding them failed (the reason a
        later step failed, e.g. a fenced writer), translated like every sink error."""
        ...


class Sink(Protocol):
    """Where decided outputs go: one writer per input partition number."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def open(self, partition: int) -> None:
        """Takes the partition number over: fences any older writer of it and settles that
        writer's open transaction, so the committed offsets are final once this returns."""
        ...

    async def close(self, partition: int) -> None: ...

    async def begin(self, partition: int, offsets: Mapping[Topic, int]) -> SinkTransaction:
        """Begins the partition's transaction; the input offsets (per input topic, the offset
        after the last record decided) join it while the batch is being decided."""
        ...

    async def send(self, partition: int, records: Sequence[OutputRecord]) -> None:
        """Sends records outside any transaction (the timer's ticks) and waits for them."""
        ...


@dataclass(frozen=True, slots=True)
class Rebuilt:
    partition: int
    records: int  # consent-state records read
    subscriptions: int  # distinct subscriptions (keys) seen
    written: int  # subscriptions written to the store (newer than what it held)


# (records read so far, records to read)
OnRead = Callable[[int, int], None]
# Rebuilds one partition's consent store from the consent-state topic, then sets its progress
# to the committed offsets given (per input topic): (partition, committed, on_read).
Rebuild = Callable[[int, Mapping[str, int], OnRead], Awaitable[Rebuilt]]


# What a source hands its owner on a rebalance: the assignment changed (the owner opens its
# sink partitions, then calls Source.take), or these partition numbers were revoked.
OnAssigned = Callable[[], Awaitable[None]]
OnRevoked = Callable[[set[int]], Awaitable[None]]


class Source(Protocol):
    """The input records of the owned partition numbers, released in decision order."""

    async def start(self, on_assigned: OnAssigned, on_revoked: OnRevoked) -> None: ...

    async def leave(self) -> None:
        """Leaves the group (no revocation callback follows)."""
        ...

    async def close(self) -> None: ...

    def owned(self) -> set[int]: ...

    @property
    def epoch(self) -> int:
        """Moves whenever positions fetched before may be stale (assignment, reopening)."""
        ...

    def invalidate(self) -> None: ...

    async def take(self, partitions: Sequence[int], halted: Collection[int] = ()) -> None:
        """Positions the partitions on their committed offsets (asked of the log: their sink
        partitions were just opened) with fresh buffers; `halted` ones stay paused."""
        ...

    def committed(self, partition: int) -> dict[Topic, int]:
        """Per input topic, the committed offset as the owner knows it (the only committer)."""
        ...

    def committed_to(self, partition: int, offsets: Mapping[Topic, int]) -> None: ...

    async def fetch(self) -> bool:
        """Fetches records (True when there were some); settle() buffers them."""
        ...

    async def settle(self, fetched_in: int, reopen: OnAssigned, busy: Collection[int]) -> None:
        """Buffers what may be decided of the last fetch (made in epoch `fetched_in`); puts
        partitions whose position cannot be trusted back on their committed offsets (not the
        `busy` ones, whose batch is in flight), after `reopen` (the owner's sink check)."""
        ...

    async def release(self, partitions: Iterable[int],
                      limit: int) -> dict[int, list[InputRecord]]:
        """Per partition number that may decide now, up to `limit` records in order."""
        ...

    def wake(self) -> None:
        """A batch ended: the next fetch returns at once with what is buffered."""
        ...

    def flow_control(self, halted: Collection[int]) -> None: ...

    def forget(self, partition: int, *, halted: bool) -> None:
        """Drops the partition number's buffers (revoked, fenced, or reopened)."""
        ...

    def rewind(self, partition: int) -> None:
        """A batch was not committed: its records are decided again from the committed
        offsets."""
        ...

    def pause(self, partition: int, *, owned_only: bool = True) -> None: ...

    def resume(self, partition: int) -> None: ...

    def paused(self) -> set[InputPartition]: ...

    def lag(self, partition: int) -> dict[str, int]:
        """Per input topic name: records of the partition not yet committed."""
        ...

    def waits(self, alert_s: float) -> dict[int, str]:
        """Partition numbers waiting at least `alert_s` for another input to catch up."""
        ...
