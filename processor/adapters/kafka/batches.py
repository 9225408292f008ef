"""Sending many records to one partition as a few record batches (one future per batch,
not one per record): the worker's outputs, and the benchmark's relay so it compares alike."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer


async def send_as_batches(producer: AIOKafkaProducer, topic: str, partition: int,
                          records: Iterable[tuple[bytes | None, bytes | None]]
                          ) -> list[asyncio.Future[Any]]:
    """Appends (key, value) pairs to record batches and sends each batch when it is full;
    returns the delivery futures. Inside a transaction the batches join it."""
    futures = []
    batch = producer.create_batch()
    for key, value in records:
        if batch.append(key=key, value=value, timestamp=None) is None:
            batch.close()
            futures.append(await producer.send_batch(batch, topic, partition=partition))
            batch = producer.create_batch()
            batch.append(key=key, value=value, timestamp=None)
    batch.close()
    futures.append(await producer.send_batch(batch, topic, partition=partition))
    return futures
