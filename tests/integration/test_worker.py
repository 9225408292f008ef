"""The running worker through the real topics: decisions, transactions, dead letters."""

from __future__ import annotations

from pathlib import Path

import pytest

from processor import codec
from processor.domain.models.enums import ConsentStatus, ReplyKind, SendDebug, SendStatus
from processor.pipeline.runner import Runner
from processor.topics import INPUT_TOPICS, Topic
from tests.support.consent_helpers import inbound, send
from tests.support.harness import Stack, private_stack, running_worker, wait_until

pytestmark = pytest.mark.integration

PHONE = "+12025550123"


async def test_stop_blocks_the_next_send_end_to_end(tmp_path: Path) -> None:
    async with private_stack(tmp_path) as stack, running_worker(stack.settings):
        await stack.send(send("gw1", request_id="r-1", phone=PHONE))
        (first,) = await stack.read(Topic.SEND_RESULTS, 1)
        assert first.status is SendStatus.FORWARDED
        await stack.text(inbound("STOP", "gw1", message_id="m-1", phone=PHONE))
        (event,) = await stack.read(Topic.CONSENT_EVENTS, 1)
        assert (event.status, event.detail) == (ConsentStatus.OPT_OUT, "Opt-out keyword: STOP")
        await stack.send(send("gw1", request_id="r-2", phone=PHONE))
        results = await stack.read(Topic.SEND_RESULTS, 2)
        assert [(r.request_id, r.status, r.debug) for r in results] == [
            ("r-1", SendStatus.FORWARDED, None),
            ("r-2", SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)]
        outbound = await stack.read(Topic.OUTBOUND, 2)
        assert [(o.request_id, o.reply_kind) for o in outbound] == [
            ("r-1", None), (None, ReplyKind.OPT_OUT_CONFIRMATION)]
        (state,) = await stack.read(Topic.CONSENT_STATE, 1)
        assert state.status is ConsentStatus.OPT_OUT


async def test_a_malformed_record_between_good_ones_goes_to_the_dead_letter_topic(
        tmp_path: Path) -> None:
    async with private_stack(tmp_path) as stack, running_worker(stack.settings):
        key = PHONE.encode()
        await stack.send(send("gw1", request_id="r-1", phone=PHONE))
        await stack.produce(Topic.SEND_REQUESTS, b'{"schema_version": 1, "request_id": 5}', key)
        await stack.send(send("gw1", request_id="r-2", phone=PHONE))
        results = await stack.read(Topic.SEND_RESULTS, 2)
        assert [r.request_id for r in results] == ["r-1", "r-2"]
        (letter,) = await stack.read(Topic.DEAD_LETTER, 1)
        assert letter.topic == stack.settings.topics(Topic.SEND_REQUESTS)
        assert letter.offset == 1
        assert "request_id" in letter.reason
        assert letter.value == b'{"schema_version": 1, "request_id": 5}'


async def test_a_phones_outputs_share_its_input_partition_number(tmp_path: Path) -> None:
    async with private_stack(tmp_path) as stack, running_worker(stack.settings):
        # Produced to a partition the default partitioner would not pick for this key.
        key = PHONE.encode()
        for partition in (0, 2):
            await stack.produce(Topic.SEND_REQUESTS, codec.encode_send_request(
                send("gw1", request_id=f"r-{partition}", phone=PHONE)), key, partition)
        await stack.read(Topic.SEND_RESULTS, 2)
        await stack.read(Topic.OUTBOUND, 2)
        for topic in (Topic.SEND_RESULTS, Topic.OUTBOUND):
            placed = {codec.decode_send_result(r.value).request_id if topic is Topic.SEND_RESULTS
                      else codec.decode_outbound(r.value).request_id: r.partition
                      for r in stack.seen[topic]}
            assert placed == {"r-0": 0, "r-2": 2}, topic


async def test_a_flood_of_invalid_records_stops_its_partition_loudly(tmp_path: Path) -> None:
    async with private_stack(tmp_path, dlq_window=50, dlq_min_invalid=10,
                             dlq_max_invalid_ratio=0.5) as stack:
        key = PHONE.encode()
        for i in range(30):  # a bad deploy upstream: every record on partition 1 is broken
            await stack.produce(Topic.INBOUND, b'{"schema_version": 1, "message_id": %d}' % i,
                                key, partition=1)
        # Queued before the worker starts, so they are one batch (produced while it runs, the
        # first few could be decided, as they should, before the limit is reached).
        async with running_worker(stack.settings) as running:
            await flood_stops_partition_one(stack, running.worker)


async def flood_stops_partition_one(stack: Stack, worker: Runner) -> None:
    key = PHONE.encode()
    await stack.produce(Topic.SEND_REQUESTS, codec.encode_send_request(
        send("gw1", request_id="r-0", phone=PHONE)), key, partition=0)
    (result,) = await stack.read(Topic.SEND_RESULTS, 1)  # partition 0 goes on
    assert result.request_id == "r-0"
    await wait_until(lambda: worker.slots[1].paused_reason is not None, 30, "the stop")
    ready, problems = worker.ready
    assert not ready
    assert any("partition 1 stopped" in p and "invalid" in p for p in problems)
    # Nothing of the stopped batch was committed: no dead letters drained, offsets unmoved.
    assert await stack.settle(Topic.DEAD_LETTER, quiet=1.0) == []
    metrics = worker.metrics.exposition().decode()
    assert "consent_gate_dlq_paused_partitions 1.0" in metrics
    # Every input topic of partition 1 is paused, not only the one with records: found in
    # review, a stopped partition otherwise fetched and rewound its other topics forever.
    assert {(tp.topic, tp.partition) for tp in worker.paused} == {
        (stack.settings.topics(t), 1) for t in INPUT_TOPICS}
