"""Figure 5: BatchProcessor without Kafka, against the real Redis, to show where time goes.

The workload's records go through the real pipeline in batches of the worker's size. The store
is wrapped to time its Redis round trips, and decoding alone is timed on the same records, so
the report can split a batch into decode, Redis, and the rest (classify, decide, encode).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from processor import codec
from processor.adapters.redis_store import RedisConsentStore
from processor.app import tune_gc
from processor.domain.models.subscription import Subscription
from processor.pipeline import BatchProcessor, InputRecord
from processor.ports import (
    NO_PROGRESS,
    ConsentStore,
    DueWindow,
    Loaded,
    PhoneWrite,
    Progress,
    SystemClock,
    WindowSettlement,
)
from tests.support.workload import Workload, bench_gateways


class TimedStore:
    """A ConsentStore that adds up the time spent waiting for the store it wraps."""

    def __init__(self, inner: ConsentStore) -> None:
        self._inner = inner
        self.seconds = 0.0

    async def load(self, wanted: Mapping[str, Iterable[str]]) -> dict[str, Loaded]:
        started = time.perf_counter()
        try:
            return await self._inner.load(wanted)
        finally:
            self.seconds += time.perf_counter() - started

    async def commit(self, writes: Sequence[PhoneWrite], partition: int,
                     progress: Progress = NO_PROGRESS) -> None:
        started = time.perf_counter()
        try:
            await self._inner.commit(writes, partition, progress)
        finally:
            self.seconds += time.perf_counter() - started

    async def progress(self, partition: int) -> dict[str, int]:
        return await self._inner.progress(partition)

    async def restore(self, partition: int, subscriptions: Iterable[Subscription],
                      removed: Iterable[tuple[str, str, str | None]] = ()) -> int:
        return await self._inner.restore(partition, subscriptions, removed)

    async def set_progress(self, partition: int, progress: Mapping[str, int]) -> None:
        await self._inner.set_progress(partition, progress)

    async def due_windows(self, partition: int, now: int, limit: int) -> list[DueWindow]:
        return await self._inner.due_windows(partition, now, limit)

    async def settle_windows(self, partition: int, settlement: WindowSettlement) -> None:
        await self._inner.settle_windows(partition, settlement)

    async def ping(self) -> bool:
        return await self._inner.ping()


@dataclass(frozen=True, slots=True)
class PipelineRun:
    records: int
    seconds: float
    store_seconds: float
    decode_seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    def as_json(self) -> dict[str, Any]:
        return {"records": self.records, "seconds": self.seconds, "rate": self.rate,
                "store_seconds": self.store_seconds, "decode_seconds": self.decode_seconds,
                "store_share": self.store_seconds / self.seconds,
                "decode_share": self.decode_seconds / self.seconds}


async def bench_pipeline(client: aioredis.Redis, prefix: str, workload: Workload,
                         batch_size: int) -> PipelineRun:
    """Decides the whole workload once, in batches of ``batch_size``, on fresh Redis keys."""
    store = TimedStore(RedisConsentStore(client, prefix, retention_ms=7 * 24 * 3600 * 1000))
    gateways = bench_gateways()
    processor = BatchProcessor(store, gateways, SystemClock())
    records = list(workload.input_records())
    batches = [records[i:i + batch_size] for i in range(0, len(records), batch_size)]
    tune_gc()  # as the worker does before its first batch
    started = time.perf_counter()
    decided = 0
    for batch in batches:
        decided += (await processor.process(batch, partition=0)).decided
    seconds = time.perf_counter() - started
    if decided != len(records):
        raise RuntimeError(f"the pipeline decided {decided} of {len(records)} records")
    return PipelineRun(len(records), seconds, store.seconds,
                       _decode_seconds(records, gateways.regions))


def _decode_seconds(records: Sequence[InputRecord], regions: Mapping[str, str]) -> float:
    started = time.perf_counter()
    for record in records:
        codec.decode_input(record.topic, record.value, regions)
    return time.perf_counter() - started
