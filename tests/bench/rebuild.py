"""Rebuilding a partition's consent store from ``sms.consent-state``
(processor.adapters.kafka.recovery).

A state topic with ``n`` subscriptions on one partition (a realistic mix: opted in, opted
out, pending windows, some with a held request) is produced once; then the rebuild into empty
Redis keys is timed, next to the same-run baseline of only reading that partition to its end
(the part of a rebuild no store can save).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from processor import codec
from processor.adapters.kafka.clients import kafka_client_options
from processor.adapters.kafka.recovery import rebuild_partition
from processor.adapters.kafka.topic_admin import raise_topic_errors, wait_for_leaders
from processor.adapters.redis_store import RedisConsentStore
from processor.domain.models.enums import ConsentSource, ConsentStatus, SendKind
from processor.domain.models.inputs import SendRequest
from processor.domain.models.subscription import Subscription
from processor.settings import Settings
from processor.topics import Topic

NOW = 1_800_000_000_000
DAY_MS = 24 * 3600 * 1000


def subscription(n: int) -> Subscription:
    """Subscription number n: two gateways per phone; 60% in, 30% out, 10% pending."""
    line = n // 2  # +1 202 NXX XXXX: every exchange 200-999 of area code 202 is valid
    phone = f"+1202{200 + line // 10_000 % 800}{line % 10_000:04d}"
    gateway = "gw-a" if n % 2 == 0 else "gw-b"
    kind = n % 10
    if kind < 6:
        return Subscription(phone, gateway, None, status=ConsentStatus.OPT_IN,
                            source=ConsentSource.KEYWORD, detail="Opt-in keyword: START",
                            version=1 + n % 5, updated_at=NOW)
    if kind < 9:
        return Subscription(phone, gateway, None, status=ConsentStatus.OPT_OUT,
                            source=ConsentSource.KEYWORD, detail="Opt-out keyword: STOP",
                            version=2 + n % 5, updated_at=NOW)
    held = (SendRequest(request_id=f"r{n}", phone=phone, gateway=gateway,
                        body="Hello from Acme", kind=SendKind.ONE_TO_ONE,
                        requested_by="alice@acme.example", created_at=NOW),) if n % 20 == 9 else ()
    return Subscription(phone, gateway, None, status=ConsentStatus.OPT_IN_PENDING,
                        source=ConsentSource.CONSENT_REQUEST, detail="Consent requested",
                        version=1, updated_at=NOW, pending_until=NOW + DAY_MS, held=held,
                        requested_by="alice@acme.example")


async def bench_rebuild(settings: Settings, client: aioredis.Redis, subscriptions: int,
                        trials: int) -> dict[str, Any]:
    """Produces the state partition once; returns the rebuild and read-only timings."""
    await _produce_states(settings, subscriptions)
    store = RedisConsentStore(client, f"{settings.redis_prefix}", retention_ms=DAY_MS)
    rebuilds, reads = [], []
    for trial in range(trials):
        started = time.perf_counter()
        records = await _read_only(settings)
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        rebuilt = await rebuild_partition(settings, store, 0, {"sms.inbound": trial})
        rebuilds.append(time.perf_counter() - started)
        if rebuilt.subscriptions != subscriptions or records != subscriptions:
            raise RuntimeError(f"rebuilt {rebuilt.subscriptions} and read {records} of "
                               f"{subscriptions} subscriptions")
    return {"subscriptions": subscriptions, "rebuild_seconds": rebuilds,
            "read_seconds": reads, "rebuild_rate": subscriptions / min(rebuilds),
            "read_rate": subscriptions / min(reads)}


async def _produce_states(settings: Settings, count: int) -> None:
    name = settings.topics(Topic.CONSENT_STATE)
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        raise_topic_errors(await admin.create_topics([NewTopic(
            name, 1, settings.replication_factor,
            topic_configs={"cleanup.policy": "compact"})]))
        await wait_for_leaders(admin, [name])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(**kafka_client_options(settings), acks="all",
                                enable_idempotence=True, linger_ms=20,
                                max_batch_size=512 * 1024)
    await producer.start()
    try:
        for start in range(0, count, 20_000):
            pending = []
            for n in range(start, min(count, start + 20_000)):
                sub = subscription(n)
                pending.append(await producer.send(
                    name, codec.encode_consent_state(sub),
                    key=codec.encode_state_key(sub.phone, sub.gateway, sub.keyword),
                    partition=0))
            await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _read_only(settings: Settings) -> int:
    """Reads the state partition to its end, as the rebuild does, and nothing else."""
    tp = TopicPartition(settings.topics(Topic.CONSENT_STATE), 0)
    consumer = AIOKafkaConsumer(**kafka_client_options(settings),
                                enable_auto_commit=False, isolation_level="read_committed",
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    keys: set[bytes] = set()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=5_000)
            keys.update(r.key for r in batch.get(tp, ()))
    finally:
        await consumer.stop()
    return len(keys)
