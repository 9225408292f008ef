"""A Source and a Sink without a broker, for the runner's tests (processor.ports).

``ListSource`` hands out the records a test appended per partition number, in the order
appended (the test plays the broker-time order), from each number's committed offsets: a
rewind after an uncommitted batch delivers the same records again. ``RecordingSink`` keeps
every committed transaction (outputs and offsets) and can be told to fail or fence.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from processor.ports import (
    InputPartition,
    InputRecord,
    OnAssigned,
    OnRevoked,
    OutputRecord,
    SinkFencedError,
    SinkUnavailableError,
)
from processor.topics import Topic


class ListSource:
    def __init__(self, partitions: Iterable[int]) -> None:
        self.assigned = set(partitions)
        self.records: dict[int, list[InputRecord]] = {n: [] for n in self.assigned}
        self._committed: dict[int, dict[Topic, int]] = {}
        # Index of the next record to hand out, per partition number.
        self._next: dict[int, int] = {}
        self._taken: set[int] = set()
        self.paused_numbers: set[int] = set()
        self.epoch = 0  # the port's read-only property, as a plain attribute
        self._on_assigned: OnAssigned | None = None

    def append(self, partition: int, records: Iterable[InputRecord]) -> None:
        self.records[partition].extend(records)

    async def start(self, on_assigned: OnAssigned, on_revoked: OnRevoked) -> None:
        self._on_assigned = on_assigned
        await on_assigned()

    async def leave(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def owned(self) -> set[int]:
        return set(self.assigned)

    def invalidate(self) -> None:
        self.epoch += 1

    async def take(self, partitions: Sequence[int], halted: Collection[int] = ()) -> None:
        for number in partitions:
            self._taken.add(number)
            self._next[number] = self._position(number)

    def _position(self, number: int) -> int:
        """The index of the first record after the committed offsets."""
        committed = self._committed.get(number, {})
        return sum(1 for r in self.records[number] if r.offset < committed.get(r.topic, 0))

    def committed(self, partition: int) -> dict[Topic, int]:
        return dict(self._committed.get(partition, {}))

    def committed_to(self, partition: int, offsets: Mapping[Topic, int]) -> None:
        self._committed.setdefault(partition, {}).update(offsets)

    async def fetch(self) -> bool:
        await asyncio.sleep(0.005)
        return False

    async def settle(self, fetched_in: int, reopen: OnAssigned, busy: Collection[int]) -> None:
        if fetched_in == self.epoch:
            await reopen()

    async def release(self, partitions: Iterable[int],
                      limit: int) -> dict[int, list[InputRecord]]:
        ready = {}
        for number in partitions:
            if number not in self._taken or number in self.paused_numbers:
                continue
            start = self._next[number]
            records = self.records[number][start:start + limit]
            if records:
                ready[number] = records
                self._next[number] = start + len(records)
        return ready

    def wake(self) -> None:
        return None

    def flow_control(self, halted: Collection[int]) -> None:
        return None

    def forget(self, partition: int, *, halted: bool) -> None:
        self._taken.discard(partition)
        self._committed.pop(partition, None)

    def rewind(self, partition: int) -> None:
        if partition in self._taken:
            self._next[partition] = self._position(partition)

    def pause(self, partition: int, *, owned_only: bool = True) -> None:
        self.paused_numbers.add(partition)

    def resume(self, partition: int) -> None:
        self.paused_numbers.discard(partition)

    def paused(self) -> set[InputPartition]:
        return {InputPartition(t.value, n) for n in self.paused_numbers for t in Topic}

    def lag(self, partition: int) -> dict[str, int]:
        return {}

    def waits(self, alert_s: float) -> dict[int, str]:
        return {}


@dataclass
class Committed:
    partition: int
    outputs: list[OutputRecord]
    offsets: dict[Topic, int]


@dataclass
class RecordingSink:
    committed: list[Committed] = field(default_factory=list)
    sent: list[tuple[int, OutputRecord]] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    # Set by a test: the next commits fail as a broker outage would / as a fenced producer.
    failures: int = 0
    fenced: set[int] = field(default_factory=set)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def open(self, partition: int) -> None:
        self.opened.append(partition)

    async def close(self, partition: int) -> None:
        return None

    async def begin(self, partition: int, offsets: Mapping[Topic, int]) -> RecordingTransaction:
        return RecordingTransaction(self, partition, dict(offsets))

    async def send(self, partition: int, records: Sequence[OutputRecord]) -> None:
        self.sent += [(partition, r) for r in records]

    def outputs(self, topic: Topic) -> list[bytes]:
        return [o.value for c in self.committed for o in c.outputs
                if o.topic is topic and o.value is not None]


@dataclass
class RecordingTransaction:
    sink: RecordingSink
    partition: int
    offsets: dict[Topic, int]

    async def commit(self, outputs: Sequence[OutputRecord]) -> None:
        if self.partition in self.sink.fenced:
            raise SinkFencedError(f"partition {self.partition} belongs to another writer")
        if self.sink.failures:
            self.sink.failures -= 1
            raise SinkUnavailableError("the test's broker is down")
        self.sink.committed.append(Committed(self.partition, list(outputs), self.offsets))

    async def abort(self) -> BaseException | None:
        return None
