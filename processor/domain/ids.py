"""Deterministic ids: the same input always yields the same event, reply and message ids, so a
record decided twice (after a crash) is recognisably the same record.

An id is BLAKE2b (128 bits) of the parts joined by U+001F, spelled like a UUID. The spelling is
part of the contract (event ids are on the topics, outcome digests in Redis), so these stay
byte for byte what they were; they are only cheaper to compute: no str() of parts that are
strings already, and no tuple or join for a digest the caller can write as one string.
"""

from __future__ import annotations

from hashlib import blake2b


def derived_id(*parts: str) -> str:
    """A UUID-formatted id derived from the parts (BLAKE2b, 128 bits)."""
    digest = blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def joined_id(joined: str) -> str:
    """``derived_id`` of parts the caller has already joined with U+001F."""
    digest = blake2b(joined.encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"
