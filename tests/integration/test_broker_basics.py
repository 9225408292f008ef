"""The broker guarantees the processor's design rests on, proven against the real broker."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.conftest import NewTopicFactory
from tests.support.stack import KAFKA_BOOTSTRAP, unique

pytestmark = pytest.mark.integration


async def drain(consumer: AIOKafkaConsumer, expected: int, timeout: float = 30.0) -> list:
    """Reads until `expected` records arrived or the timeout passed; returns what arrived."""
    records: list = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(records) < expected and loop.time() < deadline:
        batch = await consumer.getmany(timeout_ms=500)
        for recs in batch.values():
            records.extend(recs)
    return records


async def test_keyed_records_keep_per_key_order_and_nothing_is_lost(
    new_topic: NewTopicFactory,
) -> None:
    topic = await new_topic("keyed", partitions=3)
    keys = [f"+1555000{i:04d}".encode() for i in range(37)]
    sent: dict[bytes, list[int]] = defaultdict(list)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all",
                                enable_idempotence=True)
    await producer.start()
    try:
        for seq in range(1000):
            key = keys[seq % len(keys)]
            sent[key].append(seq)
            await producer.send(topic, key=key, value=str(seq).encode())
        await producer.flush()
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA_BOOTSTRAP,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                group_id=unique("g"))
    await consumer.start()
    try:
        records = await drain(consumer, 1000)
    finally:
        await consumer.stop()

    assert len(records) == 1000
    received: dict[bytes, list[int]] = defaultdict(list)
    partitions_of_key: dict[bytes, set[int]] = defaultdict(set)
    for rec in records:
        received[rec.key].append(int(rec.value))
        partitions_of_key[rec.key].add(rec.partition)
    assert received == sent  # per-key order holds and nothing is missing or duplicated
    assert all(len(p) == 1 for p in partitions_of_key.values())
    assert len({p for ps in partitions_of_key.values() for p in ps}) == 3


async def test_transactions_commit_abort_and_offsets_are_atomic(
    new_topic: NewTopicFactory, kafka_admin: AIOKafkaAdminClient,
) -> None:
    source = await new_topic("src")
    sink = await new_topic("sink")
    group = unique("txn-group")

    seed = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all")
    await seed.start()
    try:
        for i in range(10):
            await seed.send_and_wait(source, key=b"k", value=f"in-{i}".encode())
    finally:
        await seed.stop()

    consumer = AIOKafkaConsumer(source, bootstrap_servers=KAFKA_BOOTSTRAP, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                isolation_level="read_committed")
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP,
                                transactional_id=unique("txn"))
    await consumer.start()
    await producer.start()
    tp = TopicPartition(source, 0)
    try:
        first = await drain(consumer, 10)
        assert len(first) == 10
        # Transaction 1: relay the first five and commit their offsets with the output.
        async with producer.transaction():
            for rec in first[:5]:
                await producer.send(sink, key=rec.key, value=b"out-" + rec.value)
            await producer.send_offsets_to_transaction({tp: first[4].offset + 1}, group)
        # Transaction 2: relay the rest, move the offsets, then abort.
        await producer.begin_transaction()
        for rec in first[5:]:
            await producer.send(sink, key=rec.key, value=b"aborted-" + rec.value)
        await producer.send_offsets_to_transaction({tp: first[9].offset + 1}, group)
        await producer.abort_transaction()
    finally:
        await producer.stop()
        await consumer.stop()

    # The committed offset is the one from the committed transaction, not the aborted one.
    offsets = await kafka_admin.list_consumer_group_offsets(group)
    assert offsets[tp].offset == first[4].offset + 1

    committed_reader = AIOKafkaConsumer(sink, bootstrap_servers=KAFKA_BOOTSTRAP,
                                        auto_offset_reset="earliest",
                                        isolation_level="read_committed")
    uncommitted_reader = AIOKafkaConsumer(sink, bootstrap_servers=KAFKA_BOOTSTRAP,
                                          auto_offset_reset="earliest",
                                          isolation_level="read_uncommitted")
    await committed_reader.start()
    await uncommitted_reader.start()
    try:
        seen = [r.value for r in await drain(committed_reader, 5, timeout=5)]
        everything = [r.value for r in await drain(uncommitted_reader, 10)]
    finally:
        await committed_reader.stop()
        await uncommitted_reader.stop()
    assert seen == [f"out-in-{i}".encode() for i in range(5)]
    # The aborted records did reach the log: only the isolation level hides them.
    assert [v for v in everything if v.startswith(b"aborted-")] == [
        f"aborted-in-{i}".encode() for i in range(5, 10)
    ]

    # A restarted group member resumes right after the committed transaction.
    resumed = AIOKafkaConsumer(source, bootstrap_servers=KAFKA_BOOTSTRAP, group_id=group,
                               enable_auto_commit=False, auto_offset_reset="earliest",
                               isolation_level="read_committed")
    await resumed.start()
    try:
        again = await drain(resumed, 5)
    finally:
        await resumed.stop()
    assert [r.value for r in again] == [f"in-{i}".encode() for i in range(5, 10)]
