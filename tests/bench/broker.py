"""Kafka chores of the benchmark: its private topics, the pre-produced inputs, and reading
back what was committed. Nothing here is timed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from processor.adapters.kafka.clients import kafka_client_options
from processor.adapters.kafka.topic_admin import raise_topic_errors, wait_for_leaders
from processor.settings import Settings
from tests.support.workload import Workload


def partitions_of(topics: Iterable[str], partitions: int) -> list[TopicPartition]:
    """Every partition of topics that all have ``partitions`` partitions."""
    return [TopicPartition(topic, p) for topic in topics for p in range(partitions)]


async def create_plain_topic(settings: Settings, name: str, partitions: int) -> None:
    """A topic outside the product's layout (the relay's output)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        raise_topic_errors(await admin.create_topics(
            [NewTopic(name, partitions, settings.replication_factor)]))
        await wait_for_leaders(admin, [name])
    finally:
        await admin.close()


async def produce_workload(settings: Settings, workload: Workload) -> None:
    """Sends every record (keyed by phone: the default partitioner co-partitions the topics,
    as upstream producers do) and waits until all are acknowledged."""
    names = settings.topics
    producer = AIOKafkaProducer(**kafka_client_options(settings), acks="all",
                                enable_idempotence=True, linger_ms=20,
                                max_batch_size=256 * 1024)
    await producer.start()
    try:
        pending = [await producer.send(names(r.topic), r.value, key=r.key,
                                       timestamp_ms=r.timestamp) for r in workload.records]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def read_committed_consumer(settings: Settings) -> AIOKafkaConsumer:
    """A group-less consumer that sees committed transactions only (not started yet)."""
    return AIOKafkaConsumer(**kafka_client_options(settings), enable_auto_commit=False,
                            isolation_level="read_committed", auto_offset_reset="earliest")


async def end_offsets(settings: Settings, partitions: Sequence[TopicPartition]
                      ) -> dict[TopicPartition, int]:
    """The last stable offsets (what a read_committed reader can reach) of the partitions."""
    consumer = read_committed_consumer(settings)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(list(partitions))
        return ends
    finally:
        await consumer.stop()


async def read_committed(settings: Settings, start: dict[TopicPartition, int],
                         timeout: float = 120.0) -> list[Any]:
    """Every committed record from ``start`` up to the current end of each partition."""
    consumer = read_committed_consumer(settings)
    await consumer.start()
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        ends = await consumer.end_offsets(list(start))
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read back the committed records within {timeout}s")
            for batch in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()
