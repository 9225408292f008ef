"""The runner on test doubles of its ports: no broker, no Redis.

What the worker does with a batch when the store or the sink fails, when the dead-letter limit
trips, when another worker fenced it, and when the store lost writes, checked through the
ports alone (the same paths run against Kafka and Redis in tests/integration and tests/faults).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import pytest
from msgspec.structs import replace

from processor import codec
from processor.domain.models.enums import ConsentStatus, SendDebug, SendStatus
from processor.pipeline import BatchProcessor, InputRecord
from processor.pipeline.runner import Runner, record_ages
from processor.ports import ManualClock, OnRead, Rebuilt
from processor.settings import Settings
from processor.topics import Topic
from tests.support.consent_helpers import gateways, inbound, send
from tests.support.fake_stream import ListSource, RecordingSink
from tests.support.memory_store import MemoryConsentStore

PHONE = "+12025550123"


class Feed:
    """Input records of one partition number, with offsets per topic."""

    def __init__(self, partition: int = 0) -> None:
        self.partition = partition
        self.offsets: dict[Topic, int] = {}

    def record(self, topic: Topic, value: bytes | None) -> InputRecord:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        return InputRecord(topic, self.partition, offset, PHONE.encode(), value,
                           timestamp=offset, source=topic.value)

    def text(self, body: str, message_id: str) -> InputRecord:
        return self.record(Topic.INBOUND, codec.encode_inbound(
            inbound(body, "gw1", message_id=message_id, phone=PHONE)))

    def send(self, request_id: str) -> InputRecord:
        return self.record(Topic.SEND_REQUESTS, codec.encode_send_request(
            send("gw1", request_id=request_id, phone=PHONE)))


@dataclass
class Rig:
    runner: Runner
    source: ListSource
    sink: RecordingSink
    store: MemoryConsentStore
    rebuilds: list[tuple[int, dict[str, int]]]


async def wait_until(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def running(**settings: object) -> AsyncIterator[Rig]:
    store = MemoryConsentStore()
    source = ListSource([0, 1])
    sink = RecordingSink()
    rebuilds: list[tuple[int, dict[str, int]]] = []

    async def rebuild(partition: int, committed: Mapping[str, int], on_read: OnRead) -> Rebuilt:
        rebuilds.append((partition, dict(committed)))
        await store.set_progress(partition, committed)
        return Rebuilt(partition, 0, 0, 0)

    clock = ManualClock()
    config = Settings.from_env({}, **settings)
    runner = Runner(config, BatchProcessor(store, gateways(gw1={}), clock), store, clock,
                    source=source, sink=sink, rebuild=rebuild)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        yield Rig(runner, source, sink, store, rebuilds)
    finally:
        runner.request_stop()
        await task
        await runner.stop()


def results(sink: RecordingSink) -> list[tuple[str, SendStatus, SendDebug | None]]:
    return [(r.request_id, r.status, r.debug) for r in
            (codec.decode_send_result(v) for v in sink.outputs(Topic.SEND_RESULTS))]


async def test_a_batch_is_decided_and_committed_with_its_offsets() -> None:
    async with running() as rig:
        feed = Feed()
        rig.source.append(0, [feed.send("r-1"), feed.text("STOP", "m-1"), feed.send("r-2")])
        await wait_until(lambda: len(results(rig.sink)) == 2, "two results")
        assert results(rig.sink) == [("r-1", SendStatus.FORWARDED, None),
                                     ("r-2", SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)]
        assert rig.sink.committed[-1].offsets == {Topic.SEND_REQUESTS: 2, Topic.INBOUND: 1}
        assert rig.source.committed(0) == {Topic.SEND_REQUESTS: 2, Topic.INBOUND: 1}
        assert await rig.store.progress(0) == {"sms.send-requests": 2, "sms.inbound": 1}
        assert sorted(rig.sink.opened) == [0, 1]
        assert rig.runner.ready == (True, [])


async def test_a_store_outage_commits_nothing_and_the_batch_is_decided_once_later() -> None:
    async with running() as rig:
        rig.store.unavailable = True
        feed = Feed()
        rig.source.append(0, [feed.text("STOP", "m-1"), feed.send("r-1")])
        await wait_until(lambda: not rig.runner.health.redis_ok, "the outage to be seen")
        assert rig.sink.committed == []
        assert "redis unreachable" in rig.runner.ready[1]
        rig.store.unavailable = False
        await wait_until(lambda: len(results(rig.sink)) == 1, "the result")
        events = [codec.decode_consent_event(v)
                  for v in rig.sink.outputs(Topic.CONSENT_EVENTS)]
        assert [e.status for e in events] == [ConsentStatus.OPT_OUT]
        assert results(rig.sink) == [("r-1", SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)]


async def test_a_failed_commit_is_decided_again_with_the_same_outputs() -> None:
    """The sink fails after the store was written: the replay answers from the stored
    outcomes, byte for byte, and the sink partition is reopened first."""
    async with running() as rig:
        rig.sink.failures = 1
        feed = Feed()
        rig.source.append(0, [feed.send("r-1")])
        await wait_until(lambda: len(rig.sink.committed) == 1, "the commit")
        assert results(rig.sink) == [("r-1", SendStatus.FORWARDED, None)]
        assert rig.sink.opened.count(0) == 2  # reopened after the failed transaction
        assert (await rig.store.load({PHONE: ["r:r-1"]}))[PHONE].outcomes


async def test_the_dead_letter_limit_stops_the_partition_and_commits_nothing() -> None:
    async with running(dlq_window=10, dlq_min_invalid=5, dlq_max_invalid_ratio=0.5) as rig:
        feed = Feed(1)
        rig.source.append(1, [feed.record(Topic.SEND_REQUESTS, b"{not json")
                              for _ in range(8)])
        await wait_until(lambda: bool(rig.runner.slots[1].paused_reason), "the stop")
        ready, problems = rig.runner.ready
        assert not ready
        assert any("partition 1 stopped" in p and "invalid" in p for p in problems)
        assert rig.sink.committed == []
        assert {p.partition for p in rig.runner.paused} == {1}


async def test_a_fenced_partition_is_given_up_and_not_reopened() -> None:
    async with running() as rig:
        rig.sink.fenced.add(1)
        feed = Feed(1)
        rig.source.append(1, [feed.send("r-1")])
        await wait_until(lambda: 1 not in rig.runner.slots, "the partition given up")
        await asyncio.sleep(0.05)
        assert 1 not in rig.runner.slots
        assert rig.sink.opened.count(1) == 1
        assert rig.sink.committed == []


async def test_a_store_behind_the_committed_offsets_is_recovered_before_deciding() -> None:
    async with running(timer_interval_s=0.01) as rig:
        feed = Feed()
        rig.source.append(0, [feed.text("STOP", "m-1")])
        await wait_until(lambda: len(rig.sink.committed) == 1, "the first commit")
        rig.store.progress_by_partition.clear()  # the store lost its writes (FLUSHALL)
        await wait_until(lambda: bool(rig.rebuilds), "the recovery")
        assert rig.rebuilds == [(0, {"sms.inbound": 1})]
        rig.source.append(0, [feed.send("r-1")])
        await wait_until(lambda: len(results(rig.sink)) == 1, "the next result")
        assert not rig.runner.slots[0].recovering
        assert rig.runner.metrics.recoveries._value.get() == 1


@pytest.mark.parametrize("partition", [0, 1])
async def test_each_partition_number_commits_on_its_own(partition: int) -> None:
    async with running() as rig:
        feed = Feed(partition)
        rig.source.append(partition, [feed.send("r-1")])
        await wait_until(lambda: len(rig.sink.committed) == 1, "the commit")
        assert rig.sink.committed[0].partition == partition


def sample(runner: Runner, name: str, **labels: str) -> float:
    value = runner.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_a_batch_reports_its_phases_and_the_age_of_its_records() -> None:
    async with running() as rig:
        feed = Feed()
        # Broker times 1.5 s and 0.5 s before now (ms); a record without one is left out.
        now_ms = int(time.time() * 1000)
        records = [feed.send("r-1"), feed.send("r-2"), feed.send("r-3")]
        records = [replace(records[0], timestamp=now_ms - 1500), replace(records[1], timestamp=0),
                   replace(records[2], timestamp=now_ms - 500)]
        rig.source.append(0, records)
        await wait_until(lambda: len(results(rig.sink)) == 3, "three results")
        runner = rig.runner
        decide = sample(runner, "consent_gate_batch_phase_seconds_sum", phase="decide")
        commit = sample(runner, "consent_gate_batch_phase_seconds_sum", phase="commit")
        total = sample(runner, "consent_gate_batch_seconds_sum")
        assert decide > 0 and commit > 0
        assert decide + commit == pytest.approx(total, abs=1e-6)  # the two phases are the batch
        assert sample(runner, "consent_gate_batch_record_age_seconds_count",
                      record="newest") == 1
        newest = sample(runner, "consent_gate_batch_record_age_seconds_sum", record="newest")
        oldest = sample(runner, "consent_gate_batch_record_age_seconds_sum", record="oldest")
        assert 0.5 <= newest < 1.4 and 1.5 <= oldest < 2.4


def test_record_ages_leave_out_records_without_a_broker_time() -> None:
    feed = Feed()
    sent = feed.send("r-1")
    assert record_ages([replace(sent, timestamp=0)], 10.0) == {}
    assert record_ages([replace(sent, timestamp=9_000), replace(sent, timestamp=-1),
                        replace(sent, timestamp=8_000)], 10.0) == {"newest": 1.0, "oldest": 2.0}
    # A broker clock ahead of the worker's: no negative age.
    assert record_ages([replace(sent, timestamp=11_000)], 10.0) == {"newest": 0.0, "oldest": 0.0}
