"""An asyncio Redis connection that packs commands with hiredis (C) instead of Python.

redis-py's synchronous client packs commands with ``hiredis.pack_command`` when hiredis is
installed; its asyncio ``Connection`` still packs in Python, re-joining a growing buffer for
every argument. A batch's two script calls carry a few arguments per record, and that packing
was about a tenth of the pipeline's time. This class packs exactly as redis-py's own
``HiredisRespSerializer`` does (same argument types accepted, the same ``DataError`` for
others). Plain TCP, TLS (``rediss://``) and Unix socket connections get it, on a single node
and on every node of a Redis Cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import DataError


class HiredisPacking:
    """The packing, for any of redis-py's asyncio connection classes."""

    def pack_command(self, *args: Any) -> list[bytes]:
        if isinstance(args[0], str):
            args = tuple(args[0].encode().split()) + args[1:]
        elif b" " in args[0]:
            args = tuple(args[0].split()) + args[1:]
        try:
            return [hiredis.pack_command(args)]
        except TypeError:
            pass
        # hiredis takes bytes, str, int and float; redis-py also buffers. Converted only when
        # needed: a batch's script calls carry thousands of arguments.
        args = tuple(bytes(a) if isinstance(a, bytearray | memoryview) else a for a in args)
        try:
            return [hiredis.pack_command(args)]
        except TypeError as exc:
            raise DataError(str(exc)) from exc


class HiredisPackingConnection(HiredisPacking, aioredis.Connection):
    pass


class HiredisPackingSSLConnection(HiredisPacking, aioredis.SSLConnection):
    pass


class HiredisPackingUnixConnection(HiredisPacking, aioredis.UnixDomainSocketConnection):
    pass


_FAST: dict[type[Any], type[Any]] = {
    aioredis.Connection: HiredisPackingConnection,
    aioredis.SSLConnection: HiredisPackingSSLConnection,
    aioredis.UnixDomainSocketConnection: HiredisPackingUnixConnection,
}


Client = TypeVar("Client", aioredis.Redis, RedisCluster)


def with_hiredis_packing(client: Client) -> Client:
    """``client`` (new: no connection made yet) making the hiredis-packing kind of the
    connections its URL asked for. redis-py's ``from_url`` lets the URL's scheme pick the
    class over any given, and a cluster client fixes it in its constructor, so it is swapped
    after: in the single node's pool, or in the cluster's node template (the nodes it finds
    later are made from it) and its startup nodes."""
    if isinstance(client, RedisCluster):
        template = client.nodes_manager.connection_kwargs
        if _utf8_strict(template):
            template["connection_class"] = _fast(template.get("connection_class",
                                                              aioredis.Connection))
            for node in client.nodes_manager.startup_nodes.values():
                node.connection_class = _fast(node.connection_class)
        return client
    pool = client.connection_pool
    if _utf8_strict(pool.connection_kwargs):
        pool.connection_class = _fast(pool.connection_class)
    return client


def _utf8_strict(options: Mapping[str, Any]) -> bool:
    """hiredis encodes text as strict UTF-8: a client told otherwise (``?encoding=``,
    ``encoding_errors=``) keeps redis-py's packing, which honours its encoder."""
    encoding = str(options.get("encoding") or "utf-8").lower().replace("_", "-")
    return encoding in ("utf-8", "utf8") and options.get("encoding_errors", "strict") in (
        None, "strict")


def _fast(kind: type[Any]) -> type[Any]:
    return _FAST.get(kind, kind)
