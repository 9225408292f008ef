"""Reading every record batch a producer may write, header keys that are not UTF-8 included.

aiokafka's record parser decodes header keys as strict UTF-8. The protocol allows any bytes
(librdkafka and other non-Java clients send them), and one such record made ``getmany`` raise
``UnicodeDecodeError`` for its partition on every try: the worker stopped, and stopped again
after a restart, for every partition. ``install()`` wraps the fetcher's ``MemoryRecords``:
batches are still parsed by aiokafka's C parser; when it cannot read a record of a batch, the
rest of that batch is read by ``read_batch`` here, which decodes header keys with
``surrogateescape`` (``key.encode("utf-8", "surrogateescape")`` gives the producer's bytes
back). The record is then decided like any other: its headers mean nothing to consent, and a
STOP must not be lost to a header.

Only the batch with such a record pays for the slower parser. Compressed batches use
aiokafka's codecs (gzip, snappy, lz4, zstd; the latter three need ``cramjam``, a dependency).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiokafka.consumer.fetcher as _fetcher
from aiokafka.codec import gzip_decode, lz4_decode, snappy_decode, zstd_decode
from aiokafka.errors import CorruptRecordException, UnsupportedCodecError
from aiokafka.record.memory_records import MemoryRecords

_LENGTH = struct.Struct(">i")
_HEADER = struct.Struct(">qiibIhiqqqhii")  # the v2 batch header, 61 bytes
_LOG_OVERHEAD = 12  # base offset and length: the same in every message format
_LOG_APPEND_TIME = 0x08
_DECOMPRESS = {1: gzip_decode, 2: snappy_decode, 3: lz4_decode, 4: zstd_decode}


@dataclass(frozen=True, slots=True)
class Record:
    """One record, shaped as aiokafka's parser yields it."""

    offset: int
    timestamp: int
    timestamp_type: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    checksum: None = None


def read_batch(buffer: bytes | memoryview) -> list[Record]:
    """The records of one v2 record batch (header keys decoded with surrogateescape)."""
    data = bytes(buffer)
    (base_offset, _, _, magic, _, attributes, _, base_timestamp, max_timestamp, _, _, _,
     count) = _HEADER.unpack_from(data, 0)
    if magic != 2:
        raise CorruptRecordException(f"read_batch reads message format 2, not {magic}")
    body = data[_HEADER.size:]
    codec = attributes & 0x07
    if codec:
        decompress = _DECOMPRESS.get(codec)
        if decompress is None:
            raise UnsupportedCodecError(f"unknown compression codec {codec}")
        body = decompress(body)
    log_append = bool(attributes & _LOG_APPEND_TIME)
    records = []
    pos = 0
    for _ in range(count):
        length, pos = _varint(body, pos)
        end = pos + length
        pos += 1  # record attributes: unused
        timestamp_delta, pos = _varint(body, pos)
        offset_delta, pos = _varint(body, pos)
        key, pos = _bytes(body, pos)
        value, pos = _bytes(body, pos)
        header_count, pos = _varint(body, pos)
        headers: list[tuple[str, bytes | None]] = []
        for _ in range(header_count):
            name, pos = _bytes(body, pos)
            data_, pos = _bytes(body, pos)
            headers.append(((name or b"").decode("utf-8", "surrogateescape"), data_))
        if pos != end:
            raise CorruptRecordException(f"record at offset {base_offset + offset_delta} is "
                                         f"{length} bytes long, its fields {pos - end} more")
        records.append(Record(
            offset=base_offset + offset_delta,
            timestamp=max_timestamp if log_append else base_timestamp + timestamp_delta,
            timestamp_type=1 if log_append else 0, key=key, value=value, headers=headers))
    return records


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A zigzag varint (Kafka's signed varint) at `pos`; returns it and the next position."""
    shift = result = 0
    while True:
        if pos >= len(data):
            raise CorruptRecordException("a record ends inside a varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7


def _bytes(data: bytes, pos: int) -> tuple[bytes | None, int]:
    length, pos = _varint(data, pos)
    if length < 0:
        return None, pos
    if pos + length > len(data):
        raise CorruptRecordException("a record field runs past its record")
    return data[pos:pos + length], pos + length


class _TolerantBatch:
    """aiokafka's batch, with the rest of its records read by read_batch once it fails."""

    def __init__(self, batch: Any, raw: memoryview) -> None:
        self._batch = batch
        self._raw = raw
        self._yielded = 0
        self._records: Iterator[Any] | None = None
        self._rest: Iterator[Record] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._batch, name)

    def __iter__(self) -> _TolerantBatch:
        return self

    def __next__(self) -> Any:
        if self._records is None:
            self._records = iter(self._batch)  # decompresses a compressed batch first
        if self._rest is None:
            try:
                record = next(self._records)
            except UnicodeDecodeError:
                self._rest = iter(read_batch(self._raw)[self._yielded:])
            else:
                self._yielded += 1
                return record
        return next(self._rest)


class TolerantMemoryRecords:
    """aiokafka's MemoryRecords, handing out batches that survive non-UTF-8 header keys."""

    def __init__(self, bytes_data: bytes) -> None:
        self._records = MemoryRecords(bytes_data)
        self._buffer = memoryview(bytes_data)
        self._pos = 0

    def size_in_bytes(self) -> int:
        return int(self._records.size_in_bytes())

    def has_next(self) -> bool:
        return bool(self._records.has_next())

    def next_batch(self) -> Any:
        start = self._pos
        batch = self._records.next_batch()
        if batch is None:
            return None
        (length,) = _LENGTH.unpack_from(self._buffer, start + 8)
        self._pos = start + _LOG_OVERHEAD + length
        return _TolerantBatch(batch, self._buffer[start:self._pos])


def install() -> None:
    """Makes every aiokafka consumer of this process read batches tolerantly (idempotent)."""
    _fetcher.MemoryRecords = TolerantMemoryRecords
