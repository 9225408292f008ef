"""The recorded corpus (tests/support/corpus.py) replayed through BatchProcessor and the real Redis
store: every batch must give exactly the recorded output bytes (topic, key, value, order) and
the same counts of decided, replayed and invalid records."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from processor.adapters.redis_store import RedisConsentStore
from processor.pipeline import BatchProcessor
from processor.ports import ManualClock
from tests.support.corpus import gateways, read_corpus, run_step

pytestmark = pytest.mark.integration


async def test_the_pipeline_gives_the_recorded_bytes(redis_client: aioredis.Redis,
                                                     redis_prefix: str) -> None:
    clock = ManualClock()
    processor = BatchProcessor(RedisConsentStore(redis_client, redis_prefix,
                                                 retention_ms=3_600_000), gateways(), clock)
    steps = list(read_corpus())
    assert len(steps) > 30
    for index, recorded in enumerate(steps):
        replayed = await run_step(processor, clock, recorded)
        assert replayed.stats == recorded.stats, f"step {index}"
        assert replayed.outputs == recorded.outputs, f"step {index}"
