"""The hiredis-packing connection speaks exactly the protocol redis-py's own packer does (no
server needed: the bytes are compared; tests/integration/test_redis_connection.py sends them)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from redis.exceptions import DataError

from processor.adapters.redis_connection import (
    HiredisPackingConnection,
    HiredisPackingSSLConnection,
    HiredisPackingUnixConnection,
    with_hiredis_packing,
)

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


@pytest.mark.parametrize(("url", "kind", "base"), [
    ("redis://127.0.0.1:6379/0", HiredisPackingConnection, aioredis.Connection),
    ("rediss://127.0.0.1:6380/0", HiredisPackingSSLConnection, aioredis.SSLConnection),
    ("unix:///tmp/redis.sock", HiredisPackingUnixConnection,
     aioredis.UnixDomainSocketConnection),
])
def test_every_url_scheme_gets_its_own_kind(url: str, kind: type[object],
                                            base: type[object]) -> None:
    # redis-py's from_url lets the scheme pick the class even over a connection_class given,
    # so the pool's class is swapped after: TLS must stay TLS, a socket path a socket path.
    assert aioredis.Redis.from_url(url).connection_pool.connection_class is base
    client = with_hiredis_packing(aioredis.Redis.from_url(url))
    assert client.connection_pool.connection_class is kind
    assert issubclass(kind, base)
    connection = client.connection_pool.make_connection()
    assert isinstance(connection, base)
    assert b"".join(connection.pack_command("SET", "k", b"v")) == \
        b"".join(bytes(c) for c in base().pack_command("SET", "k", b"v"))


@pytest.mark.parametrize("query", ["encoding=latin-1", "encoding_errors=replace"])
def test_a_client_told_another_encoding_keeps_redis_pys_packing(query: str) -> None:
    client = with_hiredis_packing(aioredis.Redis.from_url(f"redis://127.0.0.1:6379/0?{query}"))
    assert client.connection_pool.connection_class is aioredis.Connection
    fine = with_hiredis_packing(aioredis.Redis.from_url(
        "redis://127.0.0.1:6379/0?encoding=UTF-8&encoding_errors=strict"))
    assert fine.connection_pool.connection_class is HiredisPackingConnection
