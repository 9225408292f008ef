"""The hot path: consume -> decide -> produce, exactly once, on aiokafka transactions.

One consumer in the group reads the three co-partitioned input topics (RangePartitionAssignor:
partition number N of every input topic goes to the same member). For each owned partition
number there is one transactional producer whose transactional id is derived from the group
and the number, created on assignment and closed on revocation. Starting it fences any older
owner of the number (zombie) and settles that owner's open transaction; only then are the
committed offsets read and the consumer positioned, so a zombie's late commit is never
processed twice.

Order: what is fetched is buffered per topic partition in a ``PartitionGroup`` per partition
number, and released in broker-time order across the three input topics: a record is decided
only when no earlier record can still arrive on the other two (see processor.partition_group).
So a send produced after the broker acknowledged a STOP is decided after the STOP, however far
behind the worker is. A topic partition whose buffer is full is paused until it drains.

A batch: the released records of one partition number go through ``BatchProcessor`` (Redis
written atomically, outcomes stored), then every output plus the consumed offsets are sent in
one transaction. If anything fails before the commit, the transaction is aborted, the number's
buffers are dropped and its consumer positions put back on the committed offsets, and the
batch is decided again later: its stored outcomes make the second decision identical to the
first.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    ProducerFenced,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from aiokafka.partitioner import DefaultPartitioner
from redis.exceptions import RedisClusterException, RedisError

from processor import codec
from processor.adapters import kafka_records
from processor.adapters.kafka_batches import send_as_batches
from processor.adapters.kafka_clients import kafka_client_options
from processor.dead_letter_limit import DeadLetterLimit, DeadLetterLimitError
from processor.metrics import Metrics
from processor.partition_group import PartitionGroup
from processor.pipeline import BatchOutcome, BatchProcessor, InputRecord, OutputRecord
from processor.ports import Clock, ConsentStore, Progress, StoreBehindError, VersionConflictError
from processor.recovery import rebuild_partition
from processor.settings import Settings
from processor.topics import INPUT_ORDER, INPUT_TOPICS, Topic
from processor.window_timer import WindowTimer

log = structlog.get_logger("consent_gate.worker")



@dataclass
class PartitionSlot:
    """What the worker keeps for one owned partition number."""

    number: int
    producer: AIOKafkaProducer
    recent_invalid: collections.deque[bool]
    paused_reason: str | None = None
    # The producer failed mid-transaction: it is replaced before the next batch.
    broken: bool = False
    # Kafka's committed offset per input topic partition, as the owner knows it (it is the
    # only committer): the consent store must hold every decision before it.
    committed: dict[TopicPartition, int] = field(default_factory=dict)
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


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._worker.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._worker.on_assigned(assigned)


class Worker:
    def __init__(self, settings: Settings, processor: BatchProcessor, store: ConsentStore,
                 clock: Clock, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.processor = processor
        self.store = store
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.health = Health()
        self.slots: dict[int, PartitionSlot] = {}
        self._lock = asyncio.Lock()
        self._epoch = 0
        self._stopping = asyncio.Event()
        # Partitions whose consumer position cannot be trusted until it is put back on the
        # committed offset (a batch of theirs was dropped).
        self._misplaced: set[TopicPartition] = set()
        # Numbers whose producer was fenced: another member owns them now. Not reopened until
        # the next assignment says otherwise (reopening would fence the rightful owner).
        self._fenced: set[int] = set()
        # Set once the worker owns partitions with ready producers (demo, tests, readiness).
        self.serving = asyncio.Event()
        self._names = {settings.topics(t): t for t in INPUT_TOPICS}
        self._consumer: AIOKafkaConsumer | None = None
        self._tick_producer: AIOKafkaProducer | None = None
        self._end_reader: AIOKafkaConsumer | None = None
        self._partition_counts: dict[str, int] = {}
        self._dlq_limit = DeadLetterLimit(settings.dlq_window, settings.dlq_max_invalid_ratio,
                                          settings.dlq_min_invalid)
        self._last_timer = 0.0
        self._timer = WindowTimer(store)
        # Fetched, not yet decided input records per owned partition number (see module doc).
        self._groups: dict[int, PartitionGroup[TopicPartition, Any]] = {}
        self._fetch_round = 0
        # Topic partitions paused because their buffer is full (resumed once it drains).
        self._held_back: set[TopicPartition] = set()
        # Partition numbers whose next record waits for another topic partition: since when,
        # and on which.
        self._waiting: dict[int, tuple[float, list[TopicPartition]]] = {}
        # The batch each partition number is deciding and committing right now (at most one:
        # a number's batches commit in order). The main loop goes on fetching meanwhile, so a
        # number never waits behind another one's transaction.
        self._inflight: dict[int, asyncio.Task[None]] = {}
        # Set when a batch ends: its number may take the records buffered meanwhile.
        self._batch_ended = asyncio.Event()
        # A bug in a batch (not Kafka, not Redis): the main loop raises it, as it would have.
        self._crashed: BaseException | None = None
        self._rank = {name: INPUT_ORDER.index(topic) for name, topic in self._names.items()}
        self._last_store_check = 0.0

    # Lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connects to Kafka and joins the group; on failure nothing is left open."""
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
        tick_producer = AIOKafkaProducer(
            **kafka, acks="all", enable_idempotence=True,
            client_id=f"{s.group_id}-timer")
        # The order check's end offsets on connections of their own: a broker answers one
        # connection's requests in order, so on the consumer's they would wait behind its
        # fetch, which the broker holds up to fetch_max_wait_ms when nothing arrives.
        end_reader = AIOKafkaConsumer(
            **kafka, enable_auto_commit=False, isolation_level="read_committed",
            client_id=f"{s.group_id}-order")
        try:
            await tick_producer.start()
            await end_reader.start()
            await consumer.start()
        except BaseException:
            # start() is retried while Kafka is unreachable: leave no client behind.
            for client in (consumer, end_reader, tick_producer):
                with contextlib.suppress(Exception):
                    await client.stop()
            raise
        self._consumer, self._tick_producer = consumer, tick_producer
        self._end_reader = end_reader
        self._consumer.subscribe(list(self._names), listener=_Rebalance(self))
        self.health.kafka_ok = True

    async def stop(self) -> None:
        self._stopping.set()
        for slot in self.slots.values():
            self._cancel_recovery(slot)
        # Outside the lock: leaving the group can wait for an assignment callback that waits
        # for the lock. (aiokafka does not call the revoke callback on close.)
        if self._consumer is not None:
            await self._consumer.stop()
        async with self._lock:
            await self._settle_batches(set(self._inflight))
            for slot in list(self.slots.values()):
                await slot.producer.stop()
            self.slots.clear()
            if self._tick_producer is not None:
                await self._tick_producer.stop()
            if self._end_reader is not None:
                await self._end_reader.stop()

    def request_stop(self) -> None:
        self._stopping.set()

    @property
    def paused(self) -> set[TopicPartition]:
        """The input topic partitions this worker stopped fetching (dead-letter limit)."""
        return set(self._consumer.paused()) if self._consumer is not None else set()

    @property
    def ready(self) -> tuple[bool, list[str]]:
        problems = self.health.reasons(self.slots, self._long_waits())
        return not problems, problems

    def observe(self) -> None:
        """Sets the gauges that describe the worker now (called when /metrics is read)."""
        m = self.metrics
        m.kafka_up.set(int(self.health.kafka_ok))
        m.redis_up.set(int(self.health.redis_ok))
        m.assigned.set(len(self.slots))
        m.dlq_paused.set(sum(1 for s in self.slots.values() if s.paused_reason))
        m.recovering.set(sum(1 for s in self.slots.values() if s.recovering))
        m.consumer_lag.clear()
        consumer = self._consumer
        if consumer is None:
            return
        owned = consumer.assignment()
        for number, slot in sorted(self.slots.items()):
            for tp in self._input_partitions(number):
                end = consumer.last_stable_offset(tp) if tp in owned else None
                if end is not None:
                    lag = max(0, end - slot.committed.get(tp, 0))
                    m.consumer_lag.labels(tp.topic, str(number)).set(lag)

    def _long_waits(self) -> dict[int, str]:
        """Partition numbers that have waited long for another input partition to catch up."""
        now = time.monotonic()
        alert = self.settings.order_wait_alert_s
        return {
            n: f"waiting {now - since:.0f}s for "
               f"{', '.join(f'{tp.topic}[{tp.partition}]' for tp in tps)} to catch up "
               "(decisions follow broker time across the input topics)"
            for n, (since, tps) in self._waiting.items() if now - since >= alert}

    # Rebalance -------------------------------------------------------------------------------

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            self._epoch += 1
            numbers = {tp.partition for tp in revoked}
            await self._settle_batches(numbers)  # they finish (commit or abort) first
            for number in sorted(numbers):
                self._forget(number)
                slot = self.slots.pop(number, None)
                if slot is not None:
                    self._cancel_recovery(slot)
                    await slot.producer.stop()
            self.metrics.assigned.set(len(self.slots))
            log.info("partitions revoked", partitions=sorted(numbers))

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        async with self._lock:
            self._epoch += 1
            self._fenced.clear()
            self.health.joined = True
            log.info("partitions assigned", partitions=sorted({tp.partition for tp in assigned}))
            try:
                await self._ensure_slots()
            except (KafkaError, OSError) as exc:
                # aiokafka would swallow this; the main loop retries the missing slots.
                log.warning("could not open partition producers yet", error=describe(exc))

    async def _ensure_slots(self) -> None:
        """Opens a producer for every owned partition number that lacks one (or whose producer
        broke), then positions the consumer at the committed offsets of those partitions."""
        assert self._consumer is not None
        owned = self._consumer.assignment()
        numbers = sorted({tp.partition for tp in owned})
        opened = []
        for number in numbers:
            slot = self.slots.get(number)
            if (slot is not None and not slot.broken) or number in self._fenced:
                continue
            if slot is not None:
                with contextlib.suppress(Exception):
                    await slot.producer.stop()
            # InitProducerId fences the previous owner and settles its open transaction.
            self.slots[number] = await self._open_slot(number, slot)
            opened.append(number)
        # Only now, with every older owner fenced, are committed offsets final.
        for tp in sorted(owned):
            if tp.partition in opened:
                await self._seek_committed(tp)
        for number in opened:
            self._forget(number)
            self._groups[number] = PartitionGroup(sorted(
                (tp for tp in owned if tp.partition == number),
                key=lambda tp: self._rank[tp.topic]))
        if opened:
            self._epoch += 1  # records fetched before the seek are from stale positions
        self.metrics.assigned.set(len(self.slots))
        if self.slots:
            self.serving.set()

    async def _settle_positions(self, batch: Mapping[TopicPartition, list[Any]],
                                fetched_in: int) -> dict[TopicPartition, list[Any]]:
        """The part of `batch` that may be decided now.

        aiokafka wakes a waiting getmany as soon as a new assignment is set, so records
        fetched across an assignment change (or a producer reopening) may come from before or
        after the seek to the committed offsets: dropping them is right, but the consumer may
        then stand past records nobody decided. So every partition of a dropped batch goes
        back to its committed offset, which is final because its producer fenced every older
        owner. A partition that cannot be repositioned yet stays marked and is retried;
        nothing is decided from it meanwhile.
        """
        fetched = {tp for tp, records in batch.items() if records}
        try:
            if fetched_in == self._epoch:
                await self._ensure_slots()  # may reopen producers and move the epoch
            if fetched_in != self._epoch:
                self._misplaced |= fetched
            moved = await self._reposition()
        except BaseException:
            self._misplaced |= fetched
            raise
        if fetched_in != self._epoch:
            return {}
        return {tp: records for tp, records in batch.items()
                if records and tp not in moved and tp not in self._misplaced}

    async def _reposition(self) -> set[TopicPartition]:
        """Puts marked partitions back on their committed offsets; returns those moved."""
        assert self._consumer is not None
        owned = self._consumer.assignment()
        moved = set()
        for tp in sorted(self._misplaced):
            if tp not in owned:
                self._misplaced.discard(tp)  # its new owner starts from the committed offset
                continue
            if tp.partition not in self.slots:
                continue  # its producer opens first (and positions it)
            if tp.partition in self._inflight:
                continue  # its committed offset is not final until that batch ends
            await self._seek_committed(tp)
            self._misplaced.discard(tp)
            moved.add(tp)
            group = self._groups.get(tp.partition)
            if group is not None:
                group.clear(tp)
        return moved

    async def _seek_committed(self, tp: TopicPartition) -> None:
        """Positions the consumer on the committed offset. The slot's own record of it is
        used when it has one: the group coordinator may still answer with the offset before
        the slot's last commit (its transaction markers are written after the commit returns),
        and seeking there would decide a committed batch twice. A new slot asks the
        coordinator: its producer's start settled every earlier transaction of the number."""
        assert self._consumer is not None
        slot = self.slots.get(tp.partition)
        committed = slot.committed.get(tp) if slot is not None else None
        if committed is None:
            committed = await self._consumer.committed(tp)
        if committed is None:
            await self._consumer.seek_to_beginning(tp)
            return
        self._consumer.seek(tp, committed)
        if slot is not None:
            slot.committed[tp] = committed

    async def _open_slot(self, number: int, previous: PartitionSlot | None) -> PartitionSlot:
        s = self.settings
        producer = AIOKafkaProducer(
            **kafka_client_options(s),
            transactional_id=f"{s.group_id}-{s.topic_prefix}p{number}",
            transaction_timeout_ms=s.transaction_timeout_ms, acks="all",
            enable_idempotence=True, linger_ms=0, max_batch_size=512 * 1024,
            # The next transaction's first request often meets the last one's markers still
            # being written (CONCURRENT_TRANSACTIONS): retried after 20 ms, not 100 (aiokafka
            # does the same for AddPartitionsToTxn, as the Java client does).
            retry_backoff_ms=20,
            client_id=f"{s.group_id}-p{number}",
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        recent = previous.recent_invalid if previous else self._dlq_limit.empty()
        if previous is not None:
            self._cancel_recovery(previous)  # the new slot checks the store again
        return PartitionSlot(number, producer, recent,
                             paused_reason=previous.paused_reason if previous else None)

    # Main loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Consumes until stopped. Failures are retried with backoff; nothing is skipped."""
        assert self._consumer is not None
        backoff = 0.1
        try:
            while not self._stopping.is_set():
                epoch = self._epoch
                try:
                    batch = await self._fetch()
                    self.health.kafka_ok = True
                    async with self._lock:
                        if self._crashed is not None:
                            raise self._crashed
                        fetched = await self._settle_positions(batch, fetched_in=epoch)
                        self._buffer(fetched)
                        await self._check_stores()
                        ready = await self._release()
                        self._dispatch(ready)
                        self._flow_control()
                        if ready or not batch:
                            backoff = 0.1  # progress (or nothing to do), not a repositioning
                        await self._maybe_tick()
                except (KafkaError, OSError) as exc:
                    self.health.kafka_ok = False
                    log.warning("kafka unavailable; nothing committed", error=describe(exc),
                                backoff=backoff)
                except REDIS_ERRORS as exc:
                    self.health.redis_ok = False
                    log.warning("redis unavailable; nothing committed", error=describe(exc),
                                backoff=backoff)
                else:
                    continue
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        finally:
            await self._settle_batches(set(self._inflight))

    async def _fetch(self) -> dict[TopicPartition, list[Any]]:
        """The next fetched records; returns early (maybe with nothing) when a batch ends, so
        its number takes what was buffered for it meanwhile without waiting for a fetch."""
        assert self._consumer is not None
        if self._batch_ended.is_set():
            self._batch_ended.clear()
            ready: dict[TopicPartition, list[Any]] = await self._consumer.getmany(
                timeout_ms=0, max_records=self.settings.fetch_max_records)
            return ready
        fetching = asyncio.ensure_future(self._consumer.getmany(
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

    # Order ---------------------------------------------------------------------------------

    def _buffer(self, fetched: Mapping[TopicPartition, list[Any]]) -> None:
        """Adds what was fetched to the partition numbers' buffers, as one fetch round."""
        self._fetch_round += 1
        for tp, records in fetched.items():
            group = self._groups.get(tp.partition)
            if group is None:  # no producer yet: it positions the consumer when it opens
                self._misplaced.add(tp)
                continue
            group.add(tp, records, self._fetch_round)

    async def _release(self) -> dict[int, list[tuple[TopicPartition, Any]]]:
        """Per partition number that may decide now, the records it may decide, in order."""
        limit = self.settings.batch_max_records
        ready: dict[int, list[tuple[TopicPartition, Any]]] = {}
        waiting: dict[int, list[TopicPartition]] = {}
        now = time.monotonic()
        for number, group in self._groups.items():
            slot = self.slots.get(number)
            if (slot is None or not slot.deciding or number in self._inflight
                    or slot.retry_at > now):
                continue
            ready[number], waiting[number] = group.release(limit)
        blocked = {tp for tps in waiting.values() for tp in tps}
        if blocked:
            # The proof covers the records received up to this round: later rounds may be
            # buffered while the check is on its way.
            checked_round = self._fetch_round
            drained = await self._drained(blocked)
            for number, tps in waiting.items():
                if drained.isdisjoint(tps):
                    continue
                group = self._groups[number]
                for tp in drained.intersection(tps):
                    group.drained(tp, checked_round)
                more, waiting[number] = group.release(limit - len(ready[number]))
                ready[number] += more
        self._note_waits(waiting, ready)
        return {number: records for number, records in ready.items() if records}

    async def _drained(self, partitions: set[TopicPartition]) -> set[TopicPartition]:
        """The partitions whose consumer position is at their end right now. Asked after every
        buffered record was received, so the answer holds for all of them (module doc)."""
        assert self._consumer is not None
        consumer = self._consumer
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

    def _flow_control(self) -> None:
        """Pauses topic partitions whose buffer is full (their fetches would only pile up
        while another partition of the number catches up); resumes them once half drained."""
        assert self._consumer is not None
        cap = self.settings.buffer_max_records
        for number, group in self._groups.items():
            slot = self.slots.get(number)
            for tp in group.partitions:
                count = group.buffered(tp)
                if count >= cap and tp not in self._held_back:
                    self._held_back.add(tp)
                    self._consumer.pause(tp)
                elif count <= cap // 2 and tp in self._held_back:
                    self._held_back.discard(tp)
                    if slot is None or not (slot.paused_reason or slot.recovering):
                        self._consumer.resume(tp)

    def _forget(self, number: int) -> None:
        """Drops a partition number's buffers and order bookkeeping (revoked or repositioned)."""
        group = self._groups.pop(number, None)
        self._waiting.pop(number, None)
        if group is None:
            return
        held = {tp for tp in self._held_back if tp.partition == number}
        self._held_back -= held
        if self._consumer is not None:
            owned = self._consumer.assignment()
            slot = self.slots.get(number)
            if slot is None or not (slot.paused_reason or slot.recovering):
                self._consumer.resume(*(tp for tp in held if tp in owned))

    def _drop_batch(self, number: int) -> None:
        """A batch of `number` was not committed: forget its buffers and put its consumer
        positions back on the committed offsets before anything of it is decided again."""
        group = self._groups.get(number)
        if group is None:
            return
        group.clear()
        self._waiting.pop(number, None)
        assert self._consumer is not None
        owned = self._consumer.assignment()
        self._misplaced |= {tp for tp in group.partitions if tp in owned}

    # Batches -------------------------------------------------------------------------------

    def _dispatch(self, ready: Mapping[int, list[tuple[TopicPartition, Any]]]) -> None:
        """Starts one batch per number that has released records; each decides and commits
        on its own while the main loop fetches and releases the other numbers' records."""
        for number, records in sorted(ready.items()):
            task = asyncio.create_task(self._run_batch(number, records),
                                       name=f"consent-gate-batch-p{number}")
            self._inflight[number] = task

    async def _run_batch(self, number: int, records: list[tuple[TopicPartition, Any]]) -> None:
        """One batch of one number. Failures that retrying cures are logged and the number
        backs off (its records were put back: they are decided again); others end the
        worker through the main loop."""
        slot = self.slots[number]
        try:
            await self._process_partition(number, records)
            slot.backoff = 0.1
        except (KafkaError, OSError) as exc:
            self.health.kafka_ok = False
            self._back_off(slot, "kafka unavailable; nothing committed", exc)
        except REDIS_ERRORS as exc:
            self.health.redis_ok = False
            self._back_off(slot, "redis unavailable; nothing committed", exc)
        except VersionConflictError as exc:
            self._back_off(slot, "state written by another worker; batch will be decided "
                                 "again", exc)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._crashed = exc
        finally:
            self._inflight.pop(number, None)
            self._batch_ended.set()

    def _back_off(self, slot: PartitionSlot, message: str, exc: BaseException) -> None:
        log.warning(message, partition=slot.number, error=describe(exc), backoff=slot.backoff)
        slot.retry_at = time.monotonic() + slot.backoff
        slot.backoff = min(slot.backoff * 2, 5.0)

    async def _settle_batches(self, numbers: set[int]) -> None:
        """Waits for the batches in flight of `numbers` to commit or abort."""
        tasks = [task for number, task in self._inflight.items() if number in numbers]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _process_partition(self, number: int,
                                 records: list[tuple[TopicPartition, Any]]) -> None:
        assert self._consumer is not None
        slot = self.slots[number]
        started = time.monotonic()
        names = self._names
        inputs = [InputRecord(names[tp.topic], tp.partition, r.offset, r.key, r.value,
                              r.timestamp, tuple(r.headers) if r.headers else (), tp.topic)
                  for tp, r in records]
        offsets = {tp: r.offset + 1 for tp, r in records}  # the last one of each partition
        progress = Progress(
            committed={self._names[tp.topic].value: o for tp, o in slot.committed.items()},
            covered={self._names[tp.topic].value: o for tp, o in offsets.items()})
        try:
            outcome, recent = await self._decide_and_commit(slot, inputs, progress, offsets)
            slot.recent_invalid = recent  # counted once, for the batch that was committed
            slot.committed.update(offsets)
        except ProducerFenced:
            # Another worker owns this number now: drop it and let the rebalance settle.
            self._drop_batch(number)
            self._forget(number)
            self.slots.pop(number, None)
            self._fenced.add(number)
            self.metrics.aborted.labels("fenced").inc()
            with contextlib.suppress(Exception):
                await slot.producer.stop()
            log.warning("producer fenced; partition given up", partition=number)
            return
        except DeadLetterLimitError as exc:
            self._drop_batch(number)
            self._stop_partition(slot, f"{exc}; see {self.settings.topics(Topic.DEAD_LETTER)}")
            return
        except StoreBehindError as exc:
            self.health.redis_ok = True
            self.metrics.aborted.labels("store_behind").inc()
            self._drop_batch(number)
            self._start_recovery(slot, str(exc))
            return
        except TOO_LARGE as exc:
            # Retrying cannot help: stop the partition and say why, loudly.
            self._drop_batch(number)
            slot.broken = True
            self._stop_partition(slot, f"an output record is larger than the broker accepts "
                                       f"({type(exc).__name__})")
            return
        except REDIS_ERRORS:
            self.health.redis_ok = False
            self.metrics.aborted.labels("redis").inc()
            self._drop_batch(number)
            raise
        except KafkaError as exc:
            slot.broken = True  # a transactional producer after a failed txn is replaced
            self.metrics.aborted.labels(type(exc).__name__).inc()
            self._drop_batch(number)
            raise
        except BaseException as exc:
            self.metrics.aborted.labels(type(exc).__name__).inc()
            self._drop_batch(number)
            raise
        elapsed = time.monotonic() - started
        self.metrics.batch_seconds.observe(elapsed)
        self.metrics.batches.inc()
        # Counted per batch, not per record: labels().inc() is not free on the hot path.
        for (topic, kind), count in outcome.counts.items():
            self.metrics.records.labels(topic.value, kind).inc(count)
        for topic, count in collections.Counter(o.topic for o in outcome.outputs).items():
            self.metrics.outputs.labels(topic.value).inc(count)
        log.info("batch committed", partition=number, records=len(inputs),
                 decided=outcome.decided, replayed=outcome.replayed, invalid=outcome.invalid,
                 outputs=len(outcome.outputs), ms=round(elapsed * 1000, 1))

    def _stop_partition(self, slot: PartitionSlot, reason: str) -> None:
        """Stops fetching every input topic of the partition number and reports why."""
        assert self._consumer is not None
        slot.paused_reason = reason
        self._consumer.pause(*(TopicPartition(name, slot.number) for name in self._names))
        self.metrics.dlq_paused.set(sum(1 for s in self.slots.values() if s.paused_reason))
        log.error("partition stopped", partition=slot.number, reason=reason)

    async def _decide_and_commit(
            self, slot: PartitionSlot, inputs: Sequence[InputRecord], progress: Progress,
            offsets: Mapping[TopicPartition, int]) -> tuple[BatchOutcome, collections.deque[bool]]:
        """Decides the batch (Redis written) and commits its outputs and offsets in one
        transaction. The offsets are known before anything is decided, so they join the
        transaction (two round trips to the coordinators) while the batch is being decided;
        only the outputs and the commit itself wait for the decision."""
        producer = slot.producer
        await producer.begin_transaction()
        offsets_added = asyncio.ensure_future(producer.send_offsets_to_transaction(
            dict(offsets), self.settings.group_id))
        try:
            outcome = await self.processor.process(inputs, slot.number, progress)
            self.health.redis_ok = True
            recent = self._dlq_limit.check(slot.recent_invalid, outcome.invalid_flags)
            # Not alongside the sends: since Kafka 3.6 a broker verifies a transaction's first
            # write to each partition with the transaction coordinator, one verification per
            # transactional id at a time; a TxnOffsetCommit and a produce verified together
            # fail one another (COORDINATOR_NOT_AVAILABLE / NOT_ENOUGH_REPLICAS) and aiokafka
            # retries after a backoff.
            await offsets_added
            await self._send_all(producer, slot.number, outcome.outputs)
            await producer.commit_transaction()
        except BaseException as exc:
            await asyncio.wait([offsets_added])
            cause = None if offsets_added.cancelled() else offsets_added.exception()
            with contextlib.suppress(Exception):
                await producer.abort_transaction()
            if cause is not None and cause is not exc:
                # The producer failed under the offsets (fenced, say): what came after it
                # (aiokafka's "not in transaction") is a consequence, not the reason.
                raise cause from exc
            raise
        return outcome, recent

    async def _send_all(self, producer: AIOKafkaProducer, number: int,
                        outputs: Sequence[OutputRecord]) -> None:
        """Outputs go out as a few record batches per partition, not one future per record."""
        by_topic: dict[Topic, list[OutputRecord]] = collections.defaultdict(list)
        for output in outputs:
            by_topic[output.topic].append(output)
        grouped: dict[tuple[str, int], list[OutputRecord]] = collections.defaultdict(list)
        for topic, records in by_topic.items():
            name = self.settings.topics(topic)
            count = await self._partition_count(producer, name)
            if count == self.settings.partitions:
                grouped[(name, number)] += records  # _partition's answer for every key
                continue
            for output in records:
                grouped[(name, _partition(topic, number, count, self.settings.partitions,
                                          output.key))].append(output)
        futures = []
        for (name, partition), records in grouped.items():
            futures += await send_as_batches(producer, name, partition,
                                             ((r.key, r.value) for r in records))
        # Every delivery is awaited, so a fenced producer's many failures are all retrieved.
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise failures[0]

    async def _partition_count(self, producer: AIOKafkaProducer, topic: str) -> int:
        count = self._partition_counts.get(topic)
        if count is None:
            count = self._partition_counts[topic] = len(await producer.partitions_for(topic))
        return count

    # Store recovery ----------------------------------------------------------------------------

    async def _check_stores(self) -> None:
        """Compares the consent store's progress with Kafka's committed offsets: for every new
        slot before it decides anything, and for all of them once per timer interval (a store
        can be wiped while nothing arrives). A store behind the committed offsets lost writes:
        the partition is recovered before it decides again."""
        now = time.monotonic()
        every = now - self._last_store_check >= self.settings.timer_interval_s
        if every:
            self._last_store_check = now
        for number, slot in sorted(self.slots.items()):
            if slot.recovering or slot.broken or (slot.store_checked and not every):
                continue
            if number in self._inflight:
                # Its commit makes the same check, atomically with its writes.
                continue
            held = await self.store.progress(number)
            self.health.redis_ok = True
            behind = [(tp, held.get(self._names[tp.topic].value), offset)
                      for tp, offset in sorted(slot.committed.items())
                      if held.get(self._names[tp.topic].value, -1) < offset]
            slot.store_checked = True
            if behind:
                tp, have, offset = behind[0]
                self._start_recovery(slot, str(StoreBehindError(
                    number, self._names[tp.topic].value, have, offset)))

    def _start_recovery(self, slot: PartitionSlot, reason: str) -> None:
        """Stops deciding the partition and rebuilds its store in the background."""
        assert self._consumer is not None
        if slot.recovering:
            return
        slot.recovering = reason
        self._drop_batch(slot.number)
        owned = self._consumer.assignment()
        self._consumer.pause(*(tp for tp in self._input_partitions(slot.number) if tp in owned))
        self.metrics.recoveries.inc()
        self.metrics.recovering.set(sum(1 for s in self.slots.values() if s.recovering))
        log.error("consent store behind Kafka; recovering the partition from the "
                  "consent-state topic before it decides again",
                  partition=slot.number, reason=reason)
        slot.recovery = asyncio.create_task(self._recover(slot),
                                            name=f"consent-gate-recover-p{slot.number}")

    async def _recover(self, slot: PartitionSlot) -> None:
        started = time.monotonic()
        committed = {self._names[tp.topic].value: o for tp, o in slot.committed.items()}
        attempt = 0
        while True:
            attempt += 1
            try:
                rebuilt = await rebuild_partition(
                    self.settings, self.store, slot.number, committed,
                    on_read=lambda done, total: self._recovery_progress(slot, done, total))
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # retried: the partition stays stopped and says why
                slot.recovering = f"recovery attempt {attempt} failed ({describe(exc)}); retrying"
                log.error("recovery failed; retrying", partition=slot.number, error=describe(exc))
                await asyncio.sleep(min(30.0, 2.0 * attempt))
        async with self._lock:
            if self.slots.get(slot.number) is not slot:
                return  # revoked or reopened meanwhile: the new slot checks the store itself
            slot.recovering = None
            slot.recovery = None
            self.metrics.recovering.set(sum(1 for s in self.slots.values() if s.recovering))
            assert self._consumer is not None
            owned = self._consumer.assignment()
            if not slot.paused_reason:
                self._consumer.resume(*(tp for tp in self._input_partitions(slot.number)
                                        if tp in owned and tp not in self._held_back))
        log.info("partition recovered from the consent-state topic", partition=slot.number,
                 records=rebuilt.records, subscriptions=rebuilt.subscriptions,
                 written=rebuilt.written, seconds=round(time.monotonic() - started, 2))

    def _recovery_progress(self, slot: PartitionSlot, done: int, total: int) -> None:
        if slot.recovering and self.slots.get(slot.number) is slot:
            reason = slot.recovering.split(" (read ")[0]
            slot.recovering = f"{reason} (read {done} of {total} state records)"

    def _cancel_recovery(self, slot: PartitionSlot) -> None:
        if slot.recovery is not None:
            slot.recovery.cancel()
            slot.recovery = None

    def _input_partitions(self, number: int) -> list[TopicPartition]:
        return [TopicPartition(name, number) for name in self._names]

    # Timer -----------------------------------------------------------------------------------

    async def _maybe_tick(self) -> None:
        """Asks for due confirmation windows to be expired, through sms.commands, so each
        expiry is decided exactly once like any other input (see processor.window_timer)."""
        now_mono = time.monotonic()
        if now_mono - self._last_timer < self.settings.timer_interval_s:
            return
        self._last_timer = now_mono
        assert self._tick_producer is not None
        now = self.clock.now_ms()
        for number in sorted(n for n, slot in self.slots.items() if slot.deciding):
            ticks, settlement = await self._timer.due(number, now)
            deliveries = [await self._tick_producer.send(
                self.settings.topics(Topic.COMMANDS), codec.encode_command(tick),
                key=codec.encode_key(tick.phone), partition=number) for tick in ticks]
            await asyncio.gather(*deliveries)
            # Only once every tick is durably on the topic are the entries leased or dropped.
            await self._timer.settle(number, settlement)
            self.metrics.ticks.inc(len(ticks))
        self.health.redis_ok = True


def _partition(topic: Topic, number: int, count: int, co_partitions: int,
               key: bytes | None) -> int:
    """Outputs stay on the input's partition number, so one phone's records share a partition
    number on every topic whatever partitioner the inputs' producers used. That includes the
    consent-state records (keyed per subscription): partition N of that topic then rebuilds
    the store of partition N alone (processor.recovery). A topic with another partition count
    gets the Java client's murmur2 of the key, as any client would."""
    if count == co_partitions:
        return number
    return _murmur2_partition(key, count)


def describe(error: BaseException) -> str:
    """An error for logs and /readyz: its type and message (redis-py's repr drops the
    message: ``network:ConnectionError``)."""
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


# Errors that retrying cannot cure: a record the broker will never accept.
TOO_LARGE = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)
# A Redis Cluster that cannot be reached raises RedisClusterException, not a RedisError.
REDIS_ERRORS = (RedisError, RedisClusterException)
_PARTITIONER = DefaultPartitioner()


@functools.lru_cache(maxsize=65536)
def _murmur2_partition(key: bytes | None, count: int) -> int:
    return int(_PARTITIONER(key, list(range(count)), list(range(count))))
