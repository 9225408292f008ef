"""The Sink port on Kafka: one transactional producer per input partition number.

The transactional id is derived from the group and the number. Opening it (InitProducerId)
fences any older owner of the number (a zombie) and settles that owner's open transaction;
only then are the committed offsets final, so the runner opens the sink partition before the
source positions the consumer. A batch is one transaction: the consumed offsets join it while
the batch is being decided, then its outputs, then the commit.

Errors leave as the product's own (processor.ports): a fenced producer as SinkFencedError, a
record the broker will never accept as OutputTooLargeError, anything else from Kafka as
SinkUnavailableError.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    ProducerFenced,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from aiokafka.partitioner import DefaultPartitioner

from processor.adapters.kafka.batches import send_as_batches
from processor.adapters.kafka.clients import kafka_client_options
from processor.pipeline.keying import keeps_input_number
from processor.ports import (
    OutputRecord,
    OutputTooLargeError,
    SinkFencedError,
    SinkUnavailableError,
    describe,
)
from processor.settings import Settings
from processor.topics import Topic

# Errors that retrying cannot cure: a record the broker will never accept.
TOO_LARGE = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)


def translated(error: BaseException) -> BaseException:
    """The product's error for a Kafka error (others are returned as they are)."""
    if isinstance(error, ProducerFenced):
        return SinkFencedError(describe(error))
    if isinstance(error, TOO_LARGE):
        return OutputTooLargeError(f"an output record is larger than the broker accepts "
                              f"({type(error).__name__})")
    if isinstance(error, KafkaError | OSError):
        return SinkUnavailableError(describe(error))
    return error


@contextlib.contextmanager
def sink_errors() -> Iterator[None]:
    """Raises Kafka's errors as the product's (processor.ports)."""
    try:
        yield
    except (KafkaError, OSError) as exc:
        raise translated(exc) from exc


class KafkaSink:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producers: dict[int, AIOKafkaProducer] = {}
        self._partition_counts: dict[str, int] = {}
        self._tick_producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        s = self.settings
        producer = AIOKafkaProducer(**kafka_client_options(s), acks="all",
                                    enable_idempotence=True, client_id=f"{s.group_id}-timer")
        try:
            with sink_errors():
                await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self._tick_producer = producer

    async def stop(self) -> None:
        for number in list(self._producers):
            await self.close(number)
        if self._tick_producer is not None:
            await self._tick_producer.stop()

    async def open(self, partition: int) -> None:
        s = self.settings
        producer = AIOKafkaProducer(
            **kafka_client_options(s),
            transactional_id=f"{s.group_id}-{s.topic_prefix}p{partition}",
            transaction_timeout_ms=s.transaction_timeout_ms, acks="all",
            enable_idempotence=True, linger_ms=0, max_batch_size=512 * 1024,
            # The next transaction's first request often meets the last one's markers still
            # being written (CONCURRENT_TRANSACTIONS): retried after 20 ms, not 100 (aiokafka
            # does the same for AddPartitionsToTxn, as the Java client does).
            retry_backoff_ms=20,
            client_id=f"{s.group_id}-p{partition}",
        )
        try:
            with sink_errors():
                await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producers[partition] = producer

    async def close(self, partition: int) -> None:
        producer = self._producers.pop(partition, None)
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def begin(self, partition: int, offsets: Mapping[Topic, int]) -> KafkaTransaction:
        producer = self._producers[partition]
        with sink_errors():
            await producer.begin_transaction()
        names = self.settings.topics
        added = asyncio.ensure_future(producer.send_offsets_to_transaction(
            {TopicPartition(names(t), partition): o for t, o in offsets.items()},
            self.settings.group_id))
        return KafkaTransaction(self, producer, partition, added)

    async def send(self, partition: int, records: Sequence[OutputRecord]) -> None:
        producer = self._tick_producer
        assert producer is not None
        with sink_errors():
            deliveries = [await producer.send(
                self.settings.topics(r.topic), r.value, key=r.key,
                partition=await self.partition(producer, r.topic, partition, r.key))
                for r in records]
            await asyncio.gather(*deliveries)

    async def partition(self, producer: AIOKafkaProducer, topic: Topic, number: int,
                        key: bytes | None) -> int:
        """The partition of an output of input partition `number` (processor.pipeline.keying)."""
        count = await self._partition_count(producer, self.settings.topics(topic))
        if keeps_input_number(topic, count, self.settings.partitions):
            return number
        return _murmur2_partition(key, count)

    async def _partition_count(self, producer: AIOKafkaProducer, name: str) -> int:
        count = self._partition_counts.get(name)
        if count is None:
            count = self._partition_counts[name] = len(await producer.partitions_for(name))
        return count

    async def send_all(self, producer: AIOKafkaProducer, number: int,
                       outputs: Sequence[OutputRecord]) -> None:
        """Outputs go out as a few record batches per partition, not one future per record."""
        by_topic: dict[Topic, list[OutputRecord]] = collections.defaultdict(list)
        for output in outputs:
            by_topic[output.topic].append(output)
        grouped: dict[tuple[str, int], list[OutputRecord]] = collections.defaultdict(list)
        for topic, records in by_topic.items():
            name = self.settings.topics(topic)
            count = await self._partition_count(producer, name)
            if keeps_input_number(topic, count, self.settings.partitions):
                grouped[(name, number)] += records  # one partition for every key
                continue
            for output in records:
                grouped[(name, _murmur2_partition(output.key, count))].append(output)
        futures = []
        for (name, partition), records in grouped.items():
            futures += await send_as_batches(producer, name, partition,
                                             ((r.key, r.value) for r in records))
        # Every delivery is awaited, so a fenced producer's many failures are all retrieved.
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise failures[0]


class KafkaTransaction:
    """One batch's transaction on its partition's producer (processor.ports.SinkTransaction)."""

    def __init__(self, sink: KafkaSink, producer: AIOKafkaProducer, partition: int,
                 offsets_added: asyncio.Future[Any]) -> None:
        self._sink = sink
        self._producer = producer
        self._partition = partition
        self._offsets_added = offsets_added

    async def commit(self, outputs: Sequence[OutputRecord]) -> None:
        with sink_errors():
            # Not alongside the sends: since Kafka 3.6 a broker verifies a transaction's first
            # write to each partition with the transaction coordinator, one verification per
            # transactional id at a time; a TxnOffsetCommit and a produce verified together
            # fail one another (COORDINATOR_NOT_AVAILABLE / NOT_ENOUGH_REPLICAS) and aiokafka
            # retries after a backoff.
            await self._offsets_added
            await self._sink.send_all(self._producer, self._partition, outputs)
            await self._producer.commit_transaction()

    async def abort(self) -> BaseException | None:
        added = self._offsets_added
        await asyncio.wait([added])
        cause = None if added.cancelled() else added.exception()
        with contextlib.suppress(Exception):
            await self._producer.abort_transaction()
        if cause is None:
            return None
        error = translated(cause)
        if error is not cause:
            error.__cause__ = cause
        return error


_PARTITIONER = DefaultPartitioner()


@functools.lru_cache(maxsize=65536)
def _murmur2_partition(key: bytes | None, count: int) -> int:
    return int(_PARTITIONER(key, list(range(count)), list(range(count))))
