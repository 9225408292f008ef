"""The ceilings the worker is compared with: aiokafka consume -> produce relays.

Both read the same pre-produced input records (read_committed, batches of the worker's size,
no group, no transactions, no Redis) and write one output record per input, with the same key
and value, through an idempotent producer, without waiting for each acknowledgement. They
differ only in how records reach the producer:

* ``plain``: ``producer.send()`` per record, the API a plain relay uses (the issue's baseline);
* ``batches``: records appended to record batches (``create_batch``/``send_batch``), as the
  worker sends its outputs; the cheapest way aiokafka moves records, so the floor of the I/O.

The clock runs from the first records read to the last output acknowledged; the relay's CPU
time is this process's over the same span (nothing else runs in it meanwhile).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from processor.adapters.kafka.batches import send_as_batches
from processor.adapters.kafka.clients import kafka_client_options
from processor.settings import Settings


@dataclass(frozen=True, slots=True)
class RelayRun:
    records: int
    seconds: float
    cpu_seconds: float  # this process's CPU time over the same span

    @property
    def rate(self) -> float:
        return self.records / self.seconds


RELAY_MODES = ("plain", "batches")


async def run_relay(settings: Settings, sources: Sequence[TopicPartition], target: str,
                    expected: int, batch_max_records: int, timeout: float = 300.0,
                    mode: str = "batches") -> RelayRun:
    """Relays ``expected`` records from ``sources`` to the same partition numbers of
    ``target``; returns how long it took from the first read to the last acknowledgement."""
    if mode not in RELAY_MODES:
        raise ValueError(f"relay mode {mode!r}: one of {RELAY_MODES}")
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings), enable_auto_commit=False,
        isolation_level="read_committed", auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024, fetch_max_wait_ms=100)
    producer = AIOKafkaProducer(**kafka_client_options(settings), acks="all",
                                enable_idempotence=True, linger_ms=0, max_batch_size=512 * 1024)
    await producer.start()
    await consumer.start()
    try:
        consumer.assign(list(sources))
        await consumer.seek_to_beginning(*sources)
        await producer.partitions_for(target)  # metadata is fetched before the clock starts
        acknowledgements: list[asyncio.Future[Any]] = []
        relayed = 0
        started: float | None = None
        cpu_started = 0.0
        deadline = time.monotonic() + timeout
        while relayed < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"relay read {relayed} of {expected} records in {timeout}s")
            batch = await consumer.getmany(timeout_ms=50, max_records=batch_max_records)
            if batch and started is None:
                started = time.monotonic()
                cpu_started = time.process_time()
            for tp, records in batch.items():
                if mode == "plain":
                    for r in records:
                        acknowledgements.append(await producer.send(
                            target, r.value, key=r.key, partition=tp.partition))
                else:
                    acknowledgements += await send_as_batches(
                        producer, target, tp.partition, ((r.key, r.value) for r in records))
                relayed += len(records)
        await asyncio.gather(*acknowledgements)
        assert started is not None
        if relayed != expected:
            raise RuntimeError(f"relay read {relayed} records, expected {expected}")
        return RelayRun(relayed, time.monotonic() - started, time.process_time() - cpu_started)
    finally:
        await consumer.stop()
        await producer.stop()
