"""The hiredis-packing connection on the real server (the packed bytes against redis-py's own
packer: tests/unit/test_redis_connection.py)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from processor.adapters.redis_connection import HiredisPackingConnection

pytestmark = pytest.mark.integration


async def test_round_trips_on_the_real_server(redis_client: aioredis.Redis,
                                              redis_prefix: str) -> None:
    pool = redis_client.connection_pool
    assert pool.connection_class is HiredisPackingConnection
    values = [f"{i}:é🙂".encode() * (i % 7 + 1) for i in range(3000)] + [b"y" * 200_000]
    keys = [f"{redis_prefix}:k{i}" for i in range(len(values))]
    script = redis_client.register_script(
        "for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i]) end return #ARGV")
    assert await script(keys=keys, args=values) == len(values)
    assert await redis_client.mget(keys) == values
