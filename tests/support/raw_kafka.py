"""A raw Kafka client for the tests: record batches written byte by byte as the protocol allows
(header keys that are not UTF-8, broker-time batches), sent with a plain Produce request.

aiokafka's producer cannot write such records (it encodes header keys itself); librdkafka and
other clients can, so the worker must read them.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence

from aiokafka import TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import for_code
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy
from aiokafka.record.util import calc_crc32c

# (key, value, headers); a header key may be a RawHeaderKey
RawRecord = tuple[bytes | None, bytes | None, Sequence[tuple[object, bytes | None]]]

_ATTRIBUTES_AT = struct.calcsize(">qiibI")
_CRC_AT = struct.calcsize(">qiib")
_MAX_TIMESTAMP_AT = struct.calcsize(">qiibIhiq")


class RawHeaderKey:
    """A header key written as these exact bytes (aiokafka's builder calls ``encode``)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def encode(self, *_: object) -> bytes:
        return self.raw


def build_batch(records: Sequence[RawRecord], *, compression: int = 0, base_offset: int = 0,
                timestamp: int = 1_800_000_000_000, log_append_time: bool = False) -> bytes:
    """One v2 record batch holding `records`, as a producer (or, for `log_append_time` and
    `base_offset`, the broker) would write it."""
    builder = _DefaultRecordBatchBuilderPy(
        magic=2, compression_type=compression, is_transactional=0, producer_id=-1,
        producer_epoch=-1, base_sequence=-1, batch_size=64 * 1024 * 1024)
    for offset, (key, value, headers) in enumerate(records):
        builder.append(offset, timestamp=timestamp + offset, key=key, value=value,
                       headers=list(headers))  # type: ignore[arg-type]
    data = bytearray(builder.build())
    struct.pack_into(">q", data, 0, base_offset)  # the broker assigns offsets; not in the CRC
    if log_append_time:
        (attributes,) = struct.unpack_from(">h", data, _ATTRIBUTES_AT)
        struct.pack_into(">h", data, _ATTRIBUTES_AT, attributes | 0x08)
        struct.pack_into(">q", data, _MAX_TIMESTAMP_AT, timestamp + 10**6)
        struct.pack_into(">I", data, _CRC_AT, calc_crc32c(bytes(data[_ATTRIBUTES_AT:])))
    return bytes(data)


async def produce_raw(bootstrap: str, topic: str, partition: int,
                      records: Sequence[RawRecord], *, compression: int = 0) -> None:
    """Appends one batch of `records` to the partition (acks=all), as a non-Java client
    could; raises when the broker refuses it."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    tp = TopicPartition(topic, partition)
    request = ProduceRequest(
        required_acks=-1, timeout=30_000, transactional_id=None,
        topics=[(topic, [(partition, build_batch(records, compression=compression))])])
    try:
        for attempt in range(50):  # a new topic's leader takes a moment to be known
            await client._wait_on_metadata(topic)
            leader = client.cluster.leader_for_partition(tp)
            if leader is None or leader < 0:
                await asyncio.sleep(0.1)
                continue
            response = await client.send(leader, request)
            codes = [result[1] for _, partitions in response.topics for result in partitions]
            if not any(codes):
                return
            error = for_code(max(codes))
            if not error.retriable or attempt == 49:
                raise error(f"produce to {tp} refused")
            client.force_metadata_update()
            await asyncio.sleep(0.1)
        raise RuntimeError(f"no leader for {tp}")
    finally:
        await client.close()
