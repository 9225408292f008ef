"""The Source port on Kafka: one consumer for the three co-partitioned input topics.

The consumer group uses the RangePartitionAssignor: partition number N of every input topic
goes to the same member. On assignment the owner opens its sink partitions first (which fences
older owners), and only then does ``take`` read the committed offsets and seek, so a zombie's
late commit is never processed twice.

Order: what is fetched is buffered per topic partition in a ``PartitionGroup`` per partition
number and released in broker-time order across the three input topics: a record is released
only when no earlier record can still arrive on the other two (see
processor.adapters.kafka.partition_group). A topic partition whose buffer is full is paused
until it drains. A batch that is not committed is put back: the number's buffers are dropped
and its positions go back to the committed offsets before anything of it is decided again.

Errors leave as SourceUnavailableError (processor.ports), never as aiokafka's own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError

from processor.adapters.kafka import records as kafka_records
from processor.adapters.kafka.clients import kafka_client_options
from processor.adapters.kafka.order import InputOrder
from processor.metrics import Metrics
from processor.ports import (
    InputPartition,
    InputRecord,
    OnAssigned,
    OnRevoked,
    SourceUnavailableError,
    describe,
)
from processor.settings import Settings
from processor.topics import INPUT_ORDER, INPUT_TOPICS, Topic


@contextlib.contextmanager
def source_errors() -> Iterator[None]:
    """Raises Kafka's errors as the product's (processor.ports)."""
    try:
        yield
    except (KafkaError, OSError) as exc:
        raise SourceUnavailableError(describe(exc)) from exc


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, on_assigned: OnAssigned, on_revoked: OnRevoked) -> None:
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._on_revoked({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._on_assigned()


class KafkaSource:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._names = {settings.topics(t): t for t in INPUT_TOPICS}
        self._rank = {name: INPUT_ORDER.index(topic) for name, topic in self._names.items()}
        self._consumer: AIOKafkaConsumer | None = None
        self._end_reader: AIOKafkaConsumer | None = None
        self._epoch = 0
        # Kafka's committed offset per owned input topic partition, as the owner knows it (it
        # is the only committer): the consent store must hold every decision before it.
        self._committed: dict[TopicPartition, int] = {}
        # Partition numbers taken (positioned after their sink partition opened).
        self._taken: set[int] = set()
        # Partitions whose consumer position cannot be trusted until it is put back on the
        # committed offset (a batch of theirs was dropped).
        self._misplaced: set[TopicPartition] = set()
        # Fetched, not yet decided input records per owned partition number.
        self._order = InputOrder(metrics, settings.buffer_max_records)
        # Set when a batch ends: its number may take the records buffered meanwhile.
        self._batch_ended = asyncio.Event()
        # The last fetch, until settle() buffers what may be decided of it.
        self._fetched: dict[TopicPartition, list[Any]] = {}

    # Lifecycle -----------------------------------------------------------------------------

    async def start(self, on_assigned: OnAssigned, on_revoked: OnRevoked) -> None:
        """Connects and joins the group; on failure nothing is left open."""
        kafka_records.install()  # a header key that is not UTF-8 must not stop a partition
        s = self.settings
        kafka = kafka_client_options(s)
        consumer = AIOKafkaConsumer(
            **kafka, group_id=s.group_id,
            enable_auto_commit=False, isolation_level="read_committed",
            auto_offset_reset="earliest", partition_assignment_strategy=(RangePartitionAssignor,),
            max_partition_fetch_bytes=4 * 1024 * 1024, fetch_max_wait_ms=100,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=max(1000, s.session_timeout_ms // 3),
            client_id=f"{s.group_id}-consumer",
        )
        # The order check's end offsets on connections of their own: a broker answers one
        # connection's requests in order, so on the consumer's they would wait behind its
        # fetch, which the broker holds up to fetch_max_wait_ms when nothing arrives.
        end_reader = AIOKafkaConsumer(
            **kafka, enable_auto_commit=False, isolation_level="read_committed",
            client_id=f"{s.group_id}-order")
        try:
            with source_errors():
                await end_reader.start()
                await consumer.start()
        except BaseException:
            # start() is retried while Kafka is unreachable: leave no client behind.
            for client in (consumer, end_reader):
                with contextlib.suppress(Exception):
                    await client.stop()
            raise
        self._consumer, self._end_reader = consumer, end_reader
        consumer.subscribe(list(self._names), listener=_Rebalance(on_assigned, on_revoked))

    async def leave(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def close(self) -> None:
        if self._end_reader is not None:
            await self._end_reader.stop()

    @property
    def consumer(self) -> AIOKafkaConsumer:
        assert self._consumer is not None
        return self._consumer

    def owned(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    @property
    def epoch(self) -> int:
        return self._epoch

    def invalidate(self) -> None:
        self._epoch += 1

    # Positions -----------------------------------------------------------------------------

    async def take(self, partitions: Sequence[int], halted: Collection[int] = ()) -> None:
        owned = self.consumer.assignment()
        opened = set(partitions)
        self._forget_committed(opened)  # asked of the coordinator
        with source_errors():
            for tp in sorted(owned):
                if tp.partition in opened:
                    await self._seek_committed(tp)
            for number in partitions:
                self._drop_buffers(number, halted=number in halted)
                self._taken.add(number)
                self._order.open(number, sorted(
                    (tp for tp in owned if tp.partition == number),
                    key=lambda tp: self._rank[tp.topic]))
        if partitions:
            self._epoch += 1  # records fetched before the seek are from stale positions

    def _forget_committed(self, partitions: Collection[int]) -> None:
        for tp in [tp for tp in self._committed if tp.partition in partitions]:
            del self._committed[tp]

    def committed(self, partition: int) -> dict[Topic, int]:
        return {self._names[tp.topic]: o for tp, o in self._committed.items()
                if tp.partition == partition}

    def committed_to(self, partition: int, offsets: Mapping[Topic, int]) -> None:
        names = self.settings.topics
        self._committed.update({TopicPartition(names(t), partition): o
                                for t, o in offsets.items()})

    async def settle(self, fetched_in: int, reopen: OnAssigned, busy: Collection[int]) -> None:
        """aiokafka wakes a waiting getmany as soon as a new assignment is set, so records
        fetched across an assignment change (or a producer reopening) may come from before or
        after the seek to the committed offsets: dropping them is right, but the consumer may
        then stand past records nobody decided. So every partition of a dropped batch goes
        back to its committed offset, which is final because its producer fenced every older
        owner. A partition that cannot be repositioned yet stays marked and is retried;
        nothing is decided from it meanwhile."""
        fetched, self._fetched = self._fetched, {}
        taken = {tp for tp, records in fetched.items() if records}
        try:
            if fetched_in == self._epoch:
                await reopen()  # may reopen sink partitions and move the epoch
            if fetched_in != self._epoch:
                self._misplaced |= taken
            with source_errors():
                moved = await self._reposition(busy)
        except BaseException:
            self._misplaced |= taken
            raise
        if fetched_in != self._epoch:
            self._order.buffer({})
            return
        self._misplaced |= self._order.buffer(
            {tp: records for tp, records in fetched.items()
             if records and tp not in moved and tp not in self._misplaced})

    async def _reposition(self, busy: Collection[int]) -> set[TopicPartition]:
        """Puts marked partitions back on their committed offsets; returns those moved."""
        owned = self.consumer.assignment()
        moved = set()
        for tp in sorted(self._misplaced):
            if tp not in owned:
                self._misplaced.discard(tp)  # its new owner starts from the committed offset
                continue
            if tp.partition not in self._taken:
                continue  # its sink partition opens first (and positions it)
            if tp.partition in busy:
                continue  # its committed offset is not final until that batch ends
            await self._seek_committed(tp)
            self._misplaced.discard(tp)
            moved.add(tp)
            group = self._order.groups.get(tp.partition)
            if group is not None:
                group.clear(tp)
        return moved

    async def _seek_committed(self, tp: TopicPartition) -> None:
        """Positions the consumer on the committed offset. The owner's own record of it is
        used when it has one: the group coordinator may still answer with the offset before
        the last commit (its transaction markers are written after the commit returns), and
        seeking there would decide a committed batch twice. A newly taken partition asks the
        coordinator: its sink partition's opening settled every earlier transaction."""
        consumer = self.consumer
        committed = self._committed.get(tp)
        if committed is None:
            with source_errors():
                committed = await consumer.committed(tp)
        if committed is None:
            await consumer.seek_to_beginning(tp)
            return
        consumer.seek(tp, committed)
        self._committed[tp] = committed

    # Fetching ------------------------------------------------------------------------------

    async def fetch(self) -> bool:
        """Fetches the next records (for settle); returns early (maybe with nothing) when a
        batch ends, so its number takes what was buffered for it meanwhile without waiting
        for a fetch. True when something was fetched."""
        with source_errors():
            self._fetched = await self._fetch()
        return bool(self._fetched)

    async def _fetch(self) -> dict[TopicPartition, list[Any]]:
        consumer = self.consumer
        if self._batch_ended.is_set():
            self._batch_ended.clear()
            ready: dict[TopicPartition, list[Any]] = await consumer.getmany(
                timeout_ms=0, max_records=self.settings.fetch_max_records)
            return ready
        fetching = asyncio.ensure_future(consumer.getmany(
            timeout_ms=self.settings.batch_timeout_ms,
            max_records=self.settings.fetch_max_records))
        ended = asyncio.ensure_future(self._batch_ended.wait())
        try:
            await asyncio.wait((fetching, ended), return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
        if not fetching.done():
            # getmany takes records out of the fetcher's buffer only when it returns them,
            # so cancelling its wait loses nothing.
            fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetching
            self._batch_ended.clear()
            return {}
        self._batch_ended.clear()
        batch: dict[TopicPartition, list[Any]] = fetching.result()
        return batch

    def wake(self) -> None:
        self._batch_ended.set()

    # Order ---------------------------------------------------------------------------------

    async def release(self, partitions: Iterable[int],
                      limit: int) -> dict[int, list[InputRecord]]:
        with source_errors():
            released = await self._order.release(set(partitions), limit, self._drained)
        names = self._names
        return {number: [InputRecord(names[tp.topic], tp.partition, r.offset, r.key, r.value,
                                     r.timestamp, tuple(r.headers) if r.headers else (),
                                     tp.topic)
                         for tp, r in records]
                for number, records in released.items()}

    async def _drained(self, partitions: set[TopicPartition]) -> set[TopicPartition]:
        """The partitions whose consumer position is at their end right now. Asked after every
        buffered record was received, so the answer holds for all of them (module doc)."""
        consumer = self.consumer
        unknown = {}
        for tp in partitions:
            position = await consumer.position(tp)
            stable = consumer.last_stable_offset(tp)
            if stable is not None and stable > position:
                continue  # the last fetch already saw more: it is on its way
            unknown[tp] = position
        if not unknown:
            return set()
        self.metrics.order_checks.inc()
        assert self._end_reader is not None
        ends = await self._end_reader.end_offsets(list(unknown))
        return {tp for tp, position in unknown.items() if position >= ends[tp]}

    def waits(self, alert_s: float) -> dict[int, str]:
        return self._order.waits(alert_s)

    def flow_control(self, halted: Collection[int]) -> None:
        with source_errors():
            self._order.flow_control(self.consumer, halted)

    def forget(self, partition: int, *, halted: bool) -> None:
        self._taken.discard(partition)
        self._forget_committed({partition})
        with source_errors():
            self._drop_buffers(partition, halted=halted)

    def _drop_buffers(self, partition: int, *, halted: bool) -> None:
        held = self._order.drop(partition)
        if held and self._consumer is not None and not halted:
            owned = self._consumer.assignment()
            self._consumer.resume(*(tp for tp in held if tp in owned))

    def rewind(self, partition: int) -> None:
        owned = self.consumer.assignment()
        self._misplaced |= {tp for tp in self._order.clear(partition) if tp in owned}

    def _inputs(self, partition: int) -> list[TopicPartition]:
        return [TopicPartition(name, partition) for name in self._names]

    def pause(self, partition: int, *, owned_only: bool = True) -> None:
        consumer = self.consumer
        owned = consumer.assignment()
        with source_errors():
            consumer.pause(*(tp for tp in self._inputs(partition)
                             if tp in owned or not owned_only))

    def resume(self, partition: int) -> None:
        consumer = self.consumer
        owned = consumer.assignment()
        with source_errors():
            consumer.resume(*(tp for tp in self._inputs(partition)
                              if tp in owned and tp not in self._order.held_back))

    def paused(self) -> set[InputPartition]:
        if self._consumer is None:
            return set()
        return {InputPartition(tp.topic, tp.partition) for tp in self._consumer.paused()}

    def lag(self, partition: int) -> dict[str, int]:
        consumer = self._consumer
        if consumer is None:
            return {}
        owned = consumer.assignment()
        lags = {}
        for tp in self._inputs(partition):
            end = consumer.last_stable_offset(tp) if tp in owned else None
            if end is not None:
                lags[tp.topic] = max(0, end - self._committed.get(tp, 0))
        return lags
