"""Turning a failure into a dead-letter record, without ever failing while doing it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from processor.codec.errors import DecodeError, ErrorType, shorten
from processor.domain.models.outputs import DeadLetter
from processor.domain.models.wire import MAX_REASON

# The most of a failed record's value a dead letter keeps (64 KiB; 87 KiB as base64).
MAX_KEPT_VALUE = 65536


def dead_letter(exc: BaseException, *, topic: str, partition: int, offset: int,
                key: bytes | None, value: bytes | None,
                headers: Iterable[tuple[str, bytes | None]] | None,
                failed_at: int) -> DeadLetter:
    """The dead letter for a record that failed with ``exc``; never raises.

    A DecodeError keeps its error type and reason; any other exception is an ``internal``
    error whose reason is its repr. The original key, value and headers are kept as bytes
    (a header without a value keeps an empty one: the domain has no null header value). A
    value over MAX_KEPT_VALUE bytes keeps its start only, and the reason gives its size and
    SHA-256: base64 grows it by a third, and a dead letter the broker refuses would stop
    the partition for good.
    """
    try:
        if isinstance(exc, DecodeError):
            error_type, reason = ErrorType(exc.error_type), str(exc)
        else:
            error_type, reason = ErrorType.INTERNAL, f"internal error: {exc!r}"
        kept = _bytes(value)
        if kept is not None and len(kept) > MAX_KEPT_VALUE:
            reason = (f"{shorten(reason, MAX_REASON - 140)} [value cut to its first "
                      f"{MAX_KEPT_VALUE} of {len(kept)} bytes, sha256 "
                      f"{hashlib.sha256(kept).hexdigest()}]")
            kept = kept[:MAX_KEPT_VALUE]
        return DeadLetter(
            reason=shorten(reason, MAX_REASON), error_type=error_type, topic=str(topic),
            partition=int(partition), offset=int(offset), key=_bytes(key), value=kept,
            headers=tuple((_header_key(name), _bytes(data) or b"")
                          for name, data in headers or ()),
            failed_at=int(failed_at))
    except Exception as problem:  # the promise: a worker must never stop on a dead letter
        return _last_resort(problem, topic, partition, offset, failed_at)


def _header_key(name: object) -> str:
    """A header key as JSON can carry it: one that was not UTF-8 on the wire (read with
    surrogateescape) keeps its bytes as backslash escapes, e.g. ``\\xff``."""
    key = str(name)
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return key


def _bytes(data: bytes | None) -> bytes | None:
    if data is None or type(data) is bytes:
        return data
    # A bytearray or memoryview a client library handed over; memoryview() refuses non-bytes.
    return bytes(memoryview(data))


def _last_resort(problem: Exception, topic: object, partition: object, offset: object,
                 failed_at: object) -> DeadLetter:
    """A dead letter built only from values that cannot fail to convert."""
    try:
        reason = shorten(f"internal error: the failure could not be recorded ({problem!r})",
                         MAX_REASON)
    except Exception:
        reason = "internal error: the failure could not be recorded"
    return DeadLetter(
        reason=reason, error_type=ErrorType.INTERNAL,
        topic=topic if isinstance(topic, str) and topic else "unknown",
        partition=partition if type(partition) is int else 0,
        offset=offset if type(offset) is int else 0,
        key=None, value=None, headers=(),
        failed_at=failed_at if type(failed_at) is int else 0)
