"""An asyncio Redis connection that packs commands with hiredis (C) instead of Python.

redis-py's synchronous client packs commands with ``hiredis.pack_command`` when hiredis is
installed; its asyncio ``Connection`` still packs in Python, re-joining a growing buffer for
every argument. A batch's two script calls carry a few arguments per record, and that packing
was about a tenth of the pipeline's time. This class packs exactly as redis-py's own
``HiredisRespSerializer`` does (same argument types accepted, the same ``DataError`` for
others), and is used only for plain TCP URLs; TLS, Unix sockets and Redis Cluster keep
redis-py's connections.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import DataError


class HiredisPackingConnection(aioredis.Connection):
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


def connection_options(url: str) -> dict[str, Any]:
    """Keyword arguments for ``Redis.from_url``: the fast connection for ``redis://`` URLs."""
    return {"connection_class": HiredisPackingConnection} if urlparse(url).scheme == "redis" \
        else {}
