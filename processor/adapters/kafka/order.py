"""The fetched, not yet decided input records of the source's partition numbers, released in
broker-time order (a ``PartitionGroup`` per number, processor.adapters.kafka.partition_group),
with the measures of how long a number waits for order and the flow control of full buffers.

The Kafka calls stay with the source: it hands in the drained check and the consumer to
pause and resume.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from processor.adapters.kafka.partition_group import PartitionGroup
from processor.metrics import Metrics

Released = dict[int, list[tuple[TopicPartition, Any]]]
# The partitions (of those given) whose consumer position is at their end right now.
Drained = Callable[[set[TopicPartition]], Awaitable[set[TopicPartition]]]


class InputOrder:
    def __init__(self, metrics: Metrics, buffer_max_records: int) -> None:
        self.metrics = metrics
        self._cap = buffer_max_records
        self.groups: dict[int, PartitionGroup[TopicPartition, Any]] = {}
        self._fetch_round = 0
        # Topic partitions paused because their buffer is full (resumed once it drains).
        self.held_back: set[TopicPartition] = set()
        # Partition numbers whose next record waits for another topic partition: since when,
        # and on which.
        self._waiting: dict[int, tuple[float, list[TopicPartition]]] = {}

    def open(self, number: int, partitions: list[TopicPartition]) -> None:
        """Fresh buffers for a number, `partitions` in tie-break order."""
        self.groups[number] = PartitionGroup(partitions)

    def buffer(self, fetched: Mapping[TopicPartition, list[Any]]) -> set[TopicPartition]:
        """Adds what was fetched to the numbers' buffers, as one fetch round; returns the
        partitions of numbers without buffers (not taken yet: positioned when they are)."""
        self._fetch_round += 1
        unbuffered = set()
        for tp, records in fetched.items():
            group = self.groups.get(tp.partition)
            if group is None:
                unbuffered.add(tp)
                continue
            group.add(tp, records, self._fetch_round)
        return unbuffered

    async def release(self, numbers: set[int], limit: int, drained: Drained) -> Released:
        """Per number of `numbers`, up to `limit` records that may be decided now, in order."""
        ready: Released = {}
        waiting: dict[int, list[TopicPartition]] = {}
        for number, group in self.groups.items():
            if number in numbers:
                ready[number], waiting[number] = group.release(limit)
        blocked = {tp for tps in waiting.values() for tp in tps}
        if blocked:
            # The proof covers the records received up to this round: later rounds may be
            # buffered while the check is on its way.
            checked_round = self._fetch_round
            found = await drained(blocked)
            for number, tps in waiting.items():
                if found.isdisjoint(tps):
                    continue
                group = self.groups[number]
                for tp in found.intersection(tps):
                    group.drained(tp, checked_round)
                more, waiting[number] = group.release(limit - len(ready[number]))
                ready[number] += more
        self._note_waits(waiting, ready)
        return {number: records for number, records in ready.items() if records}

    def _note_waits(self, waiting: Mapping[int, list[TopicPartition]],
                    ready: Mapping[int, list[Any]]) -> None:
        """Measures how long partition numbers wait for order (and remembers on what); only
        the numbers that were asked (`waiting` has them) are judged."""
        now = time.monotonic()
        for number in list(self._waiting):
            if number in waiting and (ready.get(number) or not waiting[number]):
                since, _ = self._waiting.pop(number)
                self.metrics.order_wait_seconds.observe(now - since)
        for number, tps in waiting.items():
            if tps:
                since, _ = self._waiting.get(number, (now, tps))
                self._waiting[number] = (since, tps)

    def waits(self, alert_s: float) -> dict[int, str]:
        now = time.monotonic()
        return {
            n: f"waiting {now - since:.0f}s for "
               f"{', '.join(f'{tp.topic}[{tp.partition}]' for tp in tps)} to catch up "
               "(decisions follow broker time across the input topics)"
            for n, (since, tps) in self._waiting.items() if now - since >= alert_s}

    def flow_control(self, consumer: AIOKafkaConsumer, halted: Collection[int]) -> None:
        """Pauses topic partitions whose buffer is full (their fetches would only pile up
        while another partition of the number catches up); resumes them once half drained."""
        cap = self._cap
        for number, group in self.groups.items():
            for tp in group.partitions:
                count = group.buffered(tp)
                if count >= cap and tp not in self.held_back:
                    self.held_back.add(tp)
                    consumer.pause(tp)
                elif count <= cap // 2 and tp in self.held_back:
                    self.held_back.discard(tp)
                    if number not in halted:
                        consumer.resume(tp)

    def drop(self, number: int) -> set[TopicPartition]:
        """Forgets a number's buffers; returns its partitions that were held back (to be
        resumed by the caller unless the number is halted)."""
        group = self.groups.pop(number, None)
        self._waiting.pop(number, None)
        if group is None:
            return set()
        held = {tp for tp in self.held_back if tp.partition == number}
        self.held_back -= held
        return held

    def clear(self, number: int) -> list[TopicPartition]:
        """Empties a number's buffers (a batch was not committed); returns its partitions."""
        group = self.groups.get(number)
        if group is None:
            return []
        group.clear()
        self._waiting.pop(number, None)
        return group.partitions
