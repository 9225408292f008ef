"""The input records of one partition number, released in broker-time order across topics.

A phone's STOP on ``sms.inbound`` and a send request to it on ``sms.send-requests`` share a
partition number but not a topic partition, so a fetch may bring the send long before the
STOP (the STOP sits behind a backlog). Like Kafka Streams' ``PartitionGroup`` (KIP-695), the
worker buffers what it fetched per topic partition and releases the record with the earliest
timestamp only when no earlier record can still arrive on another topic partition of the same
number: each of those has a buffered record (whose time is at or after it: the released record
is the earliest), or is known to be drained.

"Drained" is proven causally, not by a timer: an end-offset check issued *after* the record was
received found the consumer's position at the end. The input topics use broker time
(``message.timestamp.type=LogAppendTime``), so anything appended to that partition later gets
a later time than the record, and anything the broker acknowledged before the record was
appended is below that end offset: the consumer has it. So a send produced after the broker
acknowledged a STOP is never released before the STOP. The wait this costs is one end-offset
round trip when another topic partition is idle, and the fetch of its backlog when it is not.

Pure bookkeeping: no Kafka client here (the worker does the fetching and the checks).
"""

from __future__ import annotations

import collections
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar


class Timestamped(Protocol):
    @property
    def timestamp(self) -> int: ...


K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Timestamped)


@dataclass
class _Queue(Generic[R]):
    rank: int  # ties in time go to the lower rank: consent changes before sends
    records: collections.deque[tuple[int, R]] = field(default_factory=collections.deque)
    # The last fetch round before an end-offset check that found this partition drained.
    drained_after: int = -1


class PartitionGroup(Generic[K, R]):
    """Buffers per topic partition of one partition number; releases in time order."""

    def __init__(self, partitions: Sequence[K]) -> None:
        """`partitions` in tie-break order: at equal times the first one's record goes first."""
        self._queues: dict[K, _Queue[R]] = {
            tp: _Queue(rank) for rank, tp in enumerate(partitions)}

    @property
    def partitions(self) -> list[K]:
        return list(self._queues)

    def add(self, tp: K, records: Iterable[R], fetch_round: int) -> None:
        """Buffers records fetched in `fetch_round` (their partition's order is kept)."""
        self._queues[tp].records.extend((fetch_round, r) for r in records)

    def drained(self, tp: K, fetch_round: int) -> None:
        """An end-offset check made after `fetch_round` found `tp` drained: no record of `tp`
        not yet buffered can precede a record received in that round or before."""
        queue = self._queues[tp]
        queue.drained_after = max(queue.drained_after, fetch_round)

    def buffered(self, tp: K) -> int:
        return len(self._queues[tp].records)

    def __len__(self) -> int:
        return sum(len(q.records) for q in self._queues.values())

    def clear(self, tp: K | None = None) -> None:
        """Forgets buffered records (all, or one partition's): the consumer is repositioned."""
        for key, queue in self._queues.items():
            if tp is None or key == tp:
                queue.records.clear()
                queue.drained_after = -1

    def release(self, limit: int) -> tuple[list[tuple[K, R]], list[K]]:
        """Takes up to `limit` records in time order. Returns them and, when it stopped before
        the limit with records still buffered, the empty partitions that must be proven
        drained (or deliver records) before the next one may go."""
        released: list[tuple[K, R]] = []
        queues = self._queues
        while len(released) < limit:
            head_tp: K | None = None
            head_key: tuple[int, int] = (0, 0)
            for tp, queue in queues.items():
                if queue.records:
                    key = (queue.records[0][1].timestamp, queue.rank)
                    if head_tp is None or key < head_key:
                        head_tp, head_key = tp, key
            if head_tp is None:
                return released, []
            received = queues[head_tp].records[0][0]
            waiting = [tp for tp, queue in queues.items()
                       if not queue.records and queue.drained_after < received]
            if waiting:
                return released, waiting
            released.append((head_tp, queues[head_tp].records.popleft()[1]))
        return released, []
