"""The tolerant record reader: equal to aiokafka's parser where that one can read a batch, and
able to read the header keys it cannot (not UTF-8, legal on the wire)."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.adapters.kafka.records import TolerantMemoryRecords, read_batch
from tests.support.raw_kafka import RawHeaderKey, build_batch

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

records = st.lists(st.tuples(
    st.one_of(st.none(), st.binary(max_size=40)),
    st.one_of(st.none(), st.binary(max_size=300)),
    st.lists(st.tuples(st.text(max_size=10), st.one_of(st.none(), st.binary(max_size=20))),
             max_size=3)), min_size=1, max_size=20)


def fields(record: Any) -> tuple[Any, ...]:
    return (record.offset, record.timestamp, record.timestamp_type, record.key, record.value,
            [(k, v) for k, v in record.headers])


def aiokafka_read(data: bytes) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    memory = MemoryRecords(data)
    while memory.has_next():
        batch = memory.next_batch()
        assert batch is not None
        out.extend(fields(r) for r in batch)
    return out


@settings(max_examples=150, deadline=None)
@given(records, st.sampled_from(sorted(CODECS)), st.integers(0, 10**6), st.booleans())
def test_read_batch_equals_aiokafka_where_aiokafka_can_read(
        content: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes | None]]]],
        codec: str, base_offset: int, log_append: bool) -> None:
    data = build_batch(content, compression=CODECS[codec], base_offset=base_offset,
                       log_append_time=log_append)
    assert [fields(r) for r in read_batch(data)] == aiokafka_read(data)


def tolerant_read(data: bytes) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    memory = TolerantMemoryRecords(data)
    while memory.has_next():
        out.extend(fields(r) for r in memory.next_batch())
    return out


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(records, st.sampled_from(sorted(CODECS))), min_size=1, max_size=4))
def test_the_tolerant_reader_equals_aiokafka_on_batches_it_can_read(
        batches: list[tuple[list[Any], str]]) -> None:
    """Found in review: compressed batches came out garbled once wrapped (the wrapper asked
    aiokafka's batch for records without starting its iteration, which decompresses)."""
    data = b"".join(build_batch(content, compression=CODECS[codec], base_offset=10 * i)
                    for i, (content, codec) in enumerate(batches))
    assert tolerant_read(data) == aiokafka_read(data)


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_a_header_key_that_is_not_utf8_no_longer_stops_the_reader(codec: str) -> None:
    content = [(b"k1", b"first", [("trace", b"1")]),
               (b"k2", b"second", [(RawHeaderKey(b"\xff\xfebad"), b"x"), ("ok", None)]),
               (b"k3", b"third", [])]
    data = build_batch(content, compression=CODECS[codec], base_offset=40)
    with pytest.raises(UnicodeDecodeError):  # what aiokafka alone does
        aiokafka_read(data)
    memory = TolerantMemoryRecords(data + data)  # two batches: the position stays right
    read = []
    while memory.has_next():
        read.extend(memory.next_batch())
    assert [r.value for r in read] == [b"first", b"second", b"third"] * 2
    assert [r.offset for r in read] == [40, 41, 42] * 2
    bad = read[1].headers
    assert bad[0][0].encode("utf-8", "surrogateescape") == b"\xff\xfebad"
    assert bad[1] == ("ok", None)


def test_the_batch_keeps_the_rest_of_aiokafkas_batch_interface() -> None:
    data = build_batch([(b"k", b"v", [])], compression=0, base_offset=7)
    memory = TolerantMemoryRecords(data)
    batch = memory.next_batch()
    assert (batch.base_offset, batch.next_offset, batch.is_control_batch,
            batch.is_transactional) == (7, 8, False, False)
    assert batch.validate_crc()
    assert memory.next_batch() is None
    assert DefaultRecordBatchBuilder is not None
