"""The hiredis-packing connection speaks exactly the protocol redis-py's own packer does (no
server needed: the bytes are compared; tests/integration/test_redis_connection.py sends them)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from redis.exceptions import DataError

from processor.adapters.redis_connection import HiredisPackingConnection, connection_options

ARGS: list[tuple[object, ...]] = [
    ("EVALSHA", "0" * 40, 2, "k:{+12025550123}", b"k:{+12025550123}:o:r:1", 604800000),
    ("SET", "key", b"\x00\xff binary", "PX", 10),
    ("HSET", "h", "acme|", "[3,1,2]", "é|ünïcode", "🙂"),
    ("ZADD", "z", 1.5, "m", -2, "n", 10**15, "o"),
    ("CONFIG GET", "maxmemory"),  # a command name with a space is split, as redis-py does
    ("SET", "big", b"x" * 100_000),  # past redis-py's buffer cutoff: chunked there, not here
    ("SET", "view", memoryview(b"mv"), bytearray(b"ba")),
]


@pytest.mark.parametrize("args", ARGS, ids=lambda a: str(a[0]))
def test_packs_the_same_bytes_as_redis_py(args: tuple[object, ...]) -> None:
    ours = HiredisPackingConnection()
    theirs = aioredis.Connection()
    assert b"".join(ours.pack_command(*args)) == \
        b"".join(bytes(c) for c in theirs.pack_command(*args))


@pytest.mark.parametrize("bad", [None, True, object()])
def test_refuses_what_redis_py_refuses(bad: object) -> None:
    with pytest.raises(DataError):
        aioredis.Connection().pack_command("SET", "k", bad)
    with pytest.raises(DataError):
        HiredisPackingConnection().pack_command("SET", "k", bad)


def test_only_plain_tcp_urls_get_it() -> None:
    assert connection_options("redis://127.0.0.1:6379/0") == {
        "connection_class": HiredisPackingConnection}
    assert connection_options("rediss://127.0.0.1:6380/0") == {}
    assert connection_options("unix:///tmp/redis.sock") == {}
