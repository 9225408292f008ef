"""Counting and deleting Redis keys by pattern (SCAN, never KEYS): test, demo and benchmark
clean-up."""

from __future__ import annotations

import redis.asyncio as aioredis

_SCAN_COUNT = 5000


async def count_keys(client: aioredis.Redis, pattern: str) -> int:
    """How many keys match ``pattern``."""
    return sum([1 async for _ in client.scan_iter(match=pattern, count=_SCAN_COUNT)])


async def delete_keys(client: aioredis.Redis, pattern: str) -> int:
    """Unlinks every key matching ``pattern``; returns how many."""
    deleted = 0
    batch: list[bytes] = []
    async for key in client.scan_iter(match=pattern, count=_SCAN_COUNT):
        batch.append(key)
        if len(batch) >= _SCAN_COUNT:
            deleted += await client.unlink(*batch)
            batch.clear()
    if batch:
        deleted += await client.unlink(*batch)
    return deleted
