"""Redis round trip with a Lua script against the real server."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

pytestmark = pytest.mark.integration

# Compare-and-set on a version field: the fencing primitive the consent store builds on.
CAS = """
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return {0, current} end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'status', ARGV[3])
return {1, tonumber(ARGV[2])}
"""


async def test_lua_script_round_trip(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    key = f"{redis_prefix}:{{+15550001111}}:sub"
    script = redis_client.register_script(CAS)
    assert await script(keys=[key], args=[0, 1, "Opt-In"]) == [1, 1]
    assert await script(keys=[key], args=[0, 2, "Opt-Out"]) == [0, 1]  # stale version: refused
    assert await script(keys=[key], args=[1, 2, "Opt-Out"]) == [1, 2]
    assert await redis_client.hgetall(key) == {b"v": b"2", b"status": b"Opt-Out"}
    # The script survives a SCRIPT FLUSH: redis-py falls back from EVALSHA to EVAL on NOSCRIPT.
    await redis_client.script_flush()
    assert await script(keys=[key], args=[2, 3, "Opt-In"]) == [1, 3]
