"""Deterministic ids: the same input always yields the same event, reply and message ids, so a
record decided twice (after a crash) is recognisably the same record."""

from __future__ import annotations

import hashlib


def derived_id(*parts: object) -> str:
    """A UUID-formatted id derived from the parts (BLAKE2b, 128 bits)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"
