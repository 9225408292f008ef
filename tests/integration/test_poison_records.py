"""No record or header stops the worker: whatever a producer can put on the wire ends as a
decided output or a dead letter with its reason, and the partition moves on.

The records are written with a raw client (tests/support/raw_kafka.py), as librdkafka or another
non-Java client can write them, between good ones that must all be decided.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from processor import codec
from processor.domain.models.enums import ConsentStatus, SendStatus
from processor.domain.models.inputs import InboundMessage
from processor.topics import Topic
from tests.support.consent_helpers import send
from tests.support.harness import private_stack, running_worker
from tests.support.raw_kafka import RawHeaderKey, RawRecord, produce_raw

pytestmark = pytest.mark.integration

NOW = 1_800_000_000_000
CODECS = {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def text(n: int, body: str) -> tuple[bytes, bytes]:
    phone = f"+1202555{n:04d}"
    message = InboundMessage(message_id=f"m-{n}", phone=phone, to="12345", gateway="gw1",
                             body=body, received_at=NOW)
    return codec.encode_key(phone), codec.encode_inbound(message)


async def test_records_a_producer_can_write_never_stop_the_partition(tmp_path: Path) -> None:
    async with private_stack(tmp_path) as stack:
        bootstrap, inbound = stack.settings.kafka_bootstrap, stack.settings.topics(Topic.INBOUND)
        key, stop = text(1, "STOP")
        batches: list[tuple[list[RawRecord], int]] = [
            # A STOP whose header key is not UTF-8: decided as a STOP, never lost to a header.
            ([(key, stop, [(RawHeaderKey(b"\xff\xfe-trace"), b"1"), ("ok", None)])], 0),
            ([(b"+12025550002", b"{not json", [])], 0),  # garbage
            ([(b"+12025550003", None, [])], 0),  # no value (a tombstone on an input topic)
            ([(b"\x80\x81", text(4, "START")[1], [])], 0),  # a key that is not UTF-8
            ([(b"+12025550005", b"\xff\xfe\xfd", [])], 0),  # a value that is not UTF-8
            # Far above any size the schemas allow, within the broker's 1 MB.
            ([(b"+12025550006", b'{"pad": "' + b"x" * 900_000 + b'"}', [])], 0),
        ]
        # Good records in every compression codec, one batch each.
        batches += [([(*text(10 + i, "STOP"), [])], number)
                    for i, number in enumerate(CODECS.values())]
        for records, compression in batches:
            await produce_raw(bootstrap, inbound, 0, records, compression=compression)
        async with running_worker(stack.settings) as running:
            letters = await stack.read(Topic.DEAD_LETTER, 4, timeout=60)
            events = await stack.read(Topic.CONSENT_EVENTS, 2 + len(CODECS), timeout=60)
            # The partition goes on: a send after all of it is decided too.
            await stack.send(send("gw1", request_id="after", phone="+12025550001"))
            results = await stack.read(Topic.SEND_RESULTS, 1)
            assert running.worker.ready[0], running.worker.ready
        assert sorted((e.phone, e.status) for e in events) == sorted(
            [("+12025550001", ConsentStatus.OPT_OUT), ("+12025550004", ConsentStatus.OPT_IN)]
            + [(f"+1202555{10 + i:04d}", ConsentStatus.OPT_OUT) for i in range(len(CODECS))])
        assert [(r.request_id, r.status) for r in results] == [("after", SendStatus.ERROR)]
        by_offset = {letter.offset: letter for letter in letters}
        assert sorted(by_offset) == [1, 2, 4, 5]
        assert by_offset[1].error_type == "not_json"
        assert by_offset[2].error_type == "no_value"
        assert by_offset[4].error_type == "not_utf8"
        assert by_offset[5].error_type == "too_large"  # refused before it was parsed
        assert all(letter.error_type != "internal" for letter in letters), letters
