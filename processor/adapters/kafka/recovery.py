"""Rebuilding a partition's consent store from the compacted ``sms.consent-state`` topic.

The worker writes every changed subscription to ``sms.consent-state`` in the same Kafka
transaction as the input offsets it consumed, on the partition number of the phone's inputs.
So partition N of that topic, read with ``read_committed`` up to its end while nobody else
decides partition N, holds the latest value of every subscription whose phone is decided on
partition N, exactly as of Kafka's committed input offsets. Restoring those values (statuses,
versions, held requests, open confirmation windows and their timer entries, global opt-outs)
and then setting the store's progress to the committed offsets makes the store whole again.

The topic is read in chunks and each chunk is restored as it comes; the store keeps whichever
version of a subscription is newer, so later records of the topic win and memory stays flat.
Used by the worker for the partitions it owns (automatically) and by
``python -m processor rebuild-state`` (with the workers stopped).

Not restored: the stored outcomes of decided inputs (idempotency). An input redelivered after
a loss is decided again against the recovered state: the same ids (derived from the input's
id), a consent decision against the current consent, never a forward to an opted-out phone.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

from processor import codec
from processor.adapters.kafka.clients import kafka_client_options
from processor.domain.models.subscription import Subscription
from processor.ports import ConsentStore, OnRead, Rebuilt
from processor.settings import Settings
from processor.topics import Topic

CHUNK_RECORDS = 5_000


class RecoveryError(RuntimeError):
    """The consent-state topic cannot rebuild the store: a subscription's latest record is
    unreadable. The partition stays stopped (a subscription must never be guessed); writing a
    valid record, or a tombstone, for the key lets the next attempt succeed."""


async def rebuild_partition(settings: Settings, store: ConsentStore, partition: int,
                            committed: Mapping[str, int],
                            on_read: OnRead | None = None) -> Rebuilt:
    """Restores every subscription of `partition` from the consent-state topic, then sets
    the store's progress to `committed` (per input topic, Kafka's committed offset)."""
    tp = TopicPartition(settings.topics(Topic.CONSENT_STATE), partition)
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings), enable_auto_commit=False,
        isolation_level="read_committed", max_partition_fetch_bytes=8 * 1024 * 1024,
        client_id=f"{settings.group_id}-rebuild-p{partition}")
    await consumer.start()
    read = written = 0
    keys: set[bytes] = set()
    unreadable: dict[bytes, str] = {}  # key -> why its latest record cannot be read
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        start = await consumer.position(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        total = end - start
        if on_read is not None:
            on_read(0, total)
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=CHUNK_RECORDS)
            latest: dict[bytes, bytes | None] = {}
            for record in batch.get(tp, ()):
                if record.offset < end and record.key is not None:
                    latest[record.key] = record.value
            read += len(batch.get(tp, ()))
            keys.update(latest)
            written += await _restore_chunk(store, partition, latest, unreadable)
            if on_read is not None:
                on_read(min(read, total), total)
    finally:
        await consumer.stop()
    if unreadable:
        key, why = next(iter(unreadable.items()))
        raise RecoveryError(f"{len(unreadable)} subscription(s) of {tp.topic}[{partition}] "
                            f"cannot be read, e.g. key {key[:80]!r}: {why}")
    await store.set_progress(partition, committed)
    return Rebuilt(partition, read, len(keys), written)


async def _restore_chunk(store: ConsentStore, partition: int,
                         latest: Mapping[bytes, bytes | None],
                         unreadable: dict[bytes, str]) -> int:
    subscriptions: list[Subscription] = []
    removed: list[tuple[str, str, str | None]] = []
    for key, value in latest.items():
        try:
            sub = codec.decode_consent_state(value)
            if sub is None:
                removed.append(codec.decode_state_key(key))
            else:
                subscriptions.append(sub)
        except codec.DecodeError as exc:
            unreadable[key] = str(exc)  # fatal unless a later record of the key is readable
        else:
            unreadable.pop(key, None)
    if not subscriptions and not removed:
        return 0
    return await store.restore(partition, subscriptions, removed)
