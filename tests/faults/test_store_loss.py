"""A lost or rolled-back Redis never turns an opt-out into a send.

Thousands of phones are brought into every consent status (opted out by STOP, opted in, a
double opt-in window open, a consent request open with a held request, opted in by a manual
command on a mandatory gateway, globally opted out, a campaign keyword scope) by a real worker
process. Then the worker's private Redis loses data three ways:

(a) FLUSHALL while the worker runs;
(b) Redis killed mid-run and restarted with its append-only file deleted;
(c) Redis rolled back: restarted from a copy of its data taken earlier, so it lacks writes that
    Kafka has committed.

Each time, sends to the opted-out phones must never be Forwarded, an opt-in on a mandatory
gateway must survive, and once the worker recovered the partitions from the consent-state
topic every subscription (status, version, held requests, windows, global opt-outs) and the
window index equal what they were before the loss.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from processor import codec
from processor.adapters.kafka.clients import kafka_client_options
from processor.adapters.redis_store import RedisConsentStore
from processor.domain.gateways.config import MANUAL_PERMISSION
from processor.domain.models.enums import (
    CommandType,
    ConsentStatus,
    SendDebug,
    SendKind,
    SendStatus,
)
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.outputs import SendResult
from processor.domain.models.subscription import GLOBAL_GATEWAY, Subscription
from processor.settings import Settings
from processor.topics import Topic
from tests.faults.conftest import PrivateRedis, WorkerLauncher, WorkerProcess, wait_for
from tests.faults.exactly_once import wait_until_consumed
from tests.support.harness import Stack, private_stack

pytestmark = pytest.mark.faults

NOW = 1_800_000_000_000
PHONES = 2_400  # 300 per kind of history below
GATEWAYS: dict[str, Any] = {
    "defaults": {"brand": "Acme", "program": "Alerts", "help_contact": "help@acme.example",
                 "owner": "frontdesk@acme.example", "keywords": {"campaign": ["VOLUNTEER"]}},
    "gateways": {
        "gw-default": {"mode": "default"},
        "gw-double": {"mode": "double_opt_in", "pending_window": "7d"},
        "gw-consent": {"mode": "consent_request", "pending_window": "7d",
                       "consent_request_to_new_numbers": True, "sender_name": "Dana Lee"},
        "gw-mandatory": {"mode": "mandatory"},
    },
}
KINDS = ("stopped", "started", "pending", "confirmed", "held", "manual", "global", "campaign")


def phone(n: int) -> str:
    return f"+1202555{n:04d}"


def kind_of(n: int) -> str:
    return KINDS[n % len(KINDS)]


class Inputs:
    """Builds input records with unique ids."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.count = 0

    def _id(self) -> str:
        self.count += 1
        return f"{self.label}-{self.count}"

    def text(self, number: str, gateway: str, body: str) -> tuple[Topic, bytes, bytes]:
        message = InboundMessage(message_id=self._id(), phone=number, to="12345",
                                 gateway=gateway, body=body, received_at=NOW)
        return Topic.INBOUND, codec.encode_key(number), codec.encode_inbound(message)

    def send(self, number: str, gateway: str,
             request_id: str | None = None) -> tuple[Topic, bytes, bytes]:
        request = SendRequest(request_id=request_id or self._id(), phone=number,
                              gateway=gateway, body="Our news", kind=SendKind.ONE_TO_ONE,
                              requested_by="alice@acme.example", created_at=NOW)
        return Topic.SEND_REQUESTS, codec.encode_key(number), codec.encode_send_request(request)

    def command(self, number: str, kind: CommandType,
                gateway: str | None) -> tuple[Topic, bytes, bytes]:
        command = Command(command_id=self._id(), type=kind, phone=number,
                          actor="agent@acme.example", created_at=NOW, gateway=gateway,
                          permissions=(MANUAL_PERMISSION,))
        return Topic.COMMANDS, codec.encode_key(number), codec.encode_command(command)


def histories() -> list[tuple[Topic, bytes, bytes]]:
    """Every phone's way into its kind of consent state."""
    make = Inputs("setup")
    records = []
    for n in range(PHONES):
        number, kind = phone(n), kind_of(n)
        if kind == "stopped":
            records += [make.text(number, "gw-default", "START"),
                        make.text(number, "gw-default", "STOP")]
        elif kind == "started":
            records.append(make.text(number, "gw-default", "START"))
        elif kind == "pending":
            records.append(make.text(number, "gw-double", "START"))
        elif kind == "confirmed":
            records += [make.text(number, "gw-double", "START"),
                        make.text(number, "gw-double", "YES")]
        elif kind == "held":
            records.append(make.send(number, "gw-consent"))
        elif kind == "manual":
            records.append(make.command(number, CommandType.MANUAL_OPT_IN, "gw-mandatory"))
        elif kind == "global":
            records.append(make.command(number, CommandType.GLOBAL_OPT_OUT_SET, None))
        else:
            records.append(make.text(number, "gw-default", "VOLUNTEER"))
    return records


def probes(label: str) -> tuple[list[tuple[Topic, bytes, bytes]], dict[str, str]]:
    """Sends after the loss: {request id: what the phone's consent demands}."""
    make = Inputs(label)
    records, expected = [], {}
    for n in range(PHONES):
        number, kind = phone(n), kind_of(n)
        gateway = {"stopped": "gw-default", "global": "gw-default", "manual": "gw-mandatory",
                   "confirmed": "gw-double"}.get(kind)
        if gateway is None:
            continue
        request_id = f"{label}-probe-{n}"
        records.append(make.send(number, gateway, request_id))
        expected[request_id] = kind
    return records, expected


async def produce(stack: Stack, records: list[tuple[Topic, bytes, bytes]]) -> None:
    pending = [await stack.producer.send(stack.settings.topics(topic), value, key=key)
               for topic, key, value in records]
    await asyncio.gather(*pending)


@dataclass
class Snapshot:
    subscriptions: dict[tuple[str, str, str | None], Subscription]
    windows: dict[bytes, float]


async def snapshot(settings: Settings) -> Snapshot:
    """Every subscription of the test's phones and the window index, as Redis has them (a
    client of its own: a Redis that was restarted closed the older connections)."""
    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        store = RedisConsentStore(client, settings.redis_prefix, retention_ms=1000)
        loaded = await store.load({phone(n): [] for n in range(PHONES)})
        windows: dict[bytes, float] = {}
        for number in range(settings.partitions):
            entries = await client.zrange(store.pending_key(number), 0, -1, withscores=True)
            windows.update(dict(entries))
    finally:
        await client.aclose()
    subscriptions = {(p, g, k): s for p, found in loaded.items()
                     for (g, k), s in found.state.subscriptions.items()}
    return Snapshot(subscriptions, windows)


async def state_topic(settings: Settings) -> dict[tuple[str, str, str | None], Subscription]:
    """The latest committed value of every subscription on the consent-state topic."""
    reader = AIOKafkaConsumer(**kafka_client_options(settings),
                              isolation_level="read_committed", enable_auto_commit=False)
    await reader.start()
    try:
        tps = [TopicPartition(settings.topics(Topic.CONSENT_STATE), p)
               for p in range(settings.partitions)]
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends = await reader.end_offsets(tps)
        latest: dict[tuple[str, str, str | None], Subscription] = {}
        while [tp for tp in tps if await reader.position(tp) < ends[tp]]:
            for records in (await reader.getmany(timeout_ms=500, max_records=10_000)).values():
                for record in records:
                    sub = codec.decode_consent_state(record.value)
                    assert sub is not None
                    latest[(sub.phone, sub.gateway, sub.keyword)] = sub
        return latest
    finally:
        await reader.stop()


def check_statuses(before: Snapshot) -> None:
    """The setup reached every kind of state (else the test would prove little)."""
    seen = {(g, s.status, bool(s.held), s.pending_until is not None)
            for (_, g, _), s in before.subscriptions.items()}
    for expected in [("gw-default", ConsentStatus.OPT_OUT, False, False),
                     ("gw-default", ConsentStatus.OPT_IN, False, False),
                     ("gw-double", ConsentStatus.OPT_IN_PENDING, False, True),
                     ("gw-double", ConsentStatus.OPT_IN, False, False),
                     ("gw-consent", ConsentStatus.OPT_IN_PENDING, True, True),
                     ("gw-mandatory", ConsentStatus.OPT_IN, False, False),
                     (GLOBAL_GATEWAY, ConsentStatus.OPT_OUT, False, False)]:
        assert expected in seen, expected
    assert len(before.windows) == PHONES // len(KINDS) * 2  # pending + held kinds


async def results_for(stack: Stack, request_ids: set[str],
                      timeout: float = 120.0) -> dict[str, SendResult]:
    """The committed send results of these requests; fails when some are missing."""
    deadline = time.monotonic() + timeout
    found: dict[str, SendResult] = {}
    while time.monotonic() < deadline:
        results = await stack.read(Topic.SEND_RESULTS, len(stack.seen.get(
            Topic.SEND_RESULTS, ())) + 1, timeout=1.0)
        found = {r.request_id: r for r in results if r.request_id in request_ids}
        if len(found) == len(request_ids):
            return found
    raise AssertionError(f"{len(request_ids) - len(found)} of {len(request_ids)} results "
                         f"missing after {timeout}s")


def wrong_decisions(by_id: dict[str, SendResult], expected: dict[str, str]) -> list[str]:
    demanded = {"stopped": (SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT),
                "global": (SendStatus.ERROR, SendDebug.GLOBAL_OPT_OUT),
                "manual": (SendStatus.FORWARDED, None),
                "confirmed": (SendStatus.FORWARDED, None)}
    return [f"{i} ({expected[i]}): {r.status} {r.debug}" for i, r in by_id.items()
            if (r.status, r.debug) != demanded[expected[i]]]


@asynccontextmanager
async def consent_stack(tmp_path: Path, workers: WorkerLauncher,
                        private_redis: PrivateRedis) -> AsyncIterator[tuple[Stack,
                                                                            WorkerProcess]]:
    """A worker on the private Redis (no phone has any state yet)."""
    async with private_stack(tmp_path, GATEWAYS, partitions=3, session_timeout_ms=6000,
                             redis_url=private_redis.url) as stack:
        worker = await workers.start(stack.settings)
        await worker.wait_ready()
        yield stack, worker


async def lose_and_probe(stack: Stack, worker: WorkerProcess,
                         loss: Callable[[], Awaitable[None]], label: str) -> None:
    """Snapshots the store, probes with sends while `loss` strikes halfway through them;
    checks every decision, the recovered store and the window index."""
    before = await snapshot(stack.settings)
    check_statuses(before)
    assert before.subscriptions == await state_topic(stack.settings)
    records, expected = probes(label)
    half = len(records) // 2
    first = [request_id for request_id in expected if int(request_id.rsplit("-", 1)[1]) < 100]
    await produce(stack, records[:half])
    # Mid-run: some of the first half decided, some in flight, the rest still to come.
    await results_for(stack, set(first))
    in_flight = half - len({r.request_id for r in stack.seen_values(Topic.SEND_RESULTS)}
                           & set(expected))
    lost_at = time.monotonic()
    await loss()
    await produce(stack, records[half:])
    results = await results_for(stack, set(expected))
    assert wrong_decisions(results, expected) == []
    await wait_until_consumed(stack.settings, timeout=60, check=worker.check_alive)
    per_request = Counter(r.request_id for r in stack.seen_values(Topic.SEND_RESULTS))
    assert [i for i in expected if per_request[i] != 1] == [], "a request got two results"
    recovered = [line for line in worker.log_lines()
                 if line.get("event") == "partition recovered from the consent-state topic"]
    assert recovered, f"the worker never recovered:\n{worker.log_tail()}"
    after = await snapshot(stack.settings)
    assert after.subscriptions == before.subscriptions
    assert after.windows == before.windows
    status = await wait_for(worker.readyz, 10, "/readyz to answer")
    assert status[0] == 200, status
    # The figures of the closing note's table (shown with pytest -s).
    print(f"\n[store loss {label}] probes {len(expected)}, produced and undecided at the loss "
          f"{in_flight}, lost 0, duplicated 0, forwarded to an opted-out phone 0, recovered "
          f"{len(recovered)} partitions in {max(line['seconds'] for line in recovered)}s "
          f"(loss to all probes decided: {time.monotonic() - lost_at:.1f}s)")


async def test_flushall_never_turns_an_opt_out_into_a_send(
        tmp_path: Path, workers: WorkerLauncher, private_redis: PrivateRedis) -> None:
    async with consent_stack(tmp_path, workers, private_redis) as (stack, worker):
        await produce(stack, histories())
        await wait_until_consumed(stack.settings, timeout=120, check=worker.check_alive)

        async def flush() -> None:
            client = aioredis.Redis.from_url(private_redis.url)
            try:
                await client.flushall()
            finally:
                await client.aclose()

        await lose_and_probe(stack, worker, flush, "a")


async def not_ready(worker: WorkerProcess) -> dict[str, Any] | None:
    answer = await worker.readyz()
    return answer[1] if answer is not None and answer[0] == 503 else None


async def test_a_store_that_cannot_be_recovered_decides_nothing_and_says_why(
        tmp_path: Path, workers: WorkerLauncher, private_redis: PrivateRedis) -> None:
    async with consent_stack(tmp_path, workers, private_redis) as (stack, worker):
        await produce(stack, histories()[:400])
        await wait_until_consumed(stack.settings, timeout=120, check=worker.check_alive)
        # Somebody wrote garbage onto the consent-state topic, then the store is wiped while
        # nothing arrives: the periodic check alone must notice the loss.
        bad_key = b"+12025559999|gw-default|"
        await stack.produce(Topic.CONSENT_STATE, b"not a consent-state record", bad_key,
                            partition=0)
        client = aioredis.Redis.from_url(private_redis.url)
        try:
            await client.flushall()
        finally:
            await client.aclose()
        status = await wait_for(lambda: not_ready(worker), 20, "/readyz to say not ready")
        problems = " ".join(status["problems"])
        assert "partition 0 recovering its consent store" in problems, status
        await wait_for(lambda: worker.logged("recovery failed; retrying"), 20, "a failed try")
        # A phone that said STOP, on the stuck partition: its send waits, it is not guessed.
        stopped = next(phone(n) for n in range(0, 400, len(KINDS))
                       if partition_of(phone(n), stack.settings.partitions) == 0)
        make = Inputs("stuck")
        await produce(stack, [make.send(stopped, "gw-default", "stuck-probe")])
        await asyncio.sleep(3)
        assert "stuck-probe" not in {r.request_id for r in stack.seen_values(
            Topic.SEND_RESULTS)} | {r.request_id for r in await stack.settle(
                Topic.SEND_RESULTS, quiet=0.5)}
        metrics = await worker.metrics()
        assert "consent_gate_recovering_partitions 1.0" in metrics, metrics
        # The operator deletes the bad record (a tombstone): the next try succeeds.
        await stack.produce(Topic.CONSENT_STATE, None, bad_key, partition=0)
        (result,) = (await results_for(stack, {"stuck-probe"}, timeout=60)).values()
        assert (result.status, result.debug) == (SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)
        await worker.wait_ready(timeout=10)
        assert "consent_gate_store_recoveries_total 3.0" in await worker.metrics()


def partition_of(number: str, partitions: int) -> int:
    """Where the tests' producer (aiokafka's default partitioner) puts a phone's records."""
    return int(DefaultPartitioner()(codec.encode_key(number), list(range(partitions)),
                                    list(range(partitions))))


async def test_a_redis_restarted_without_its_data_never_turns_an_opt_out_into_a_send(
        tmp_path: Path, workers: WorkerLauncher, private_redis: PrivateRedis) -> None:
    async with consent_stack(tmp_path, workers, private_redis) as (stack, worker):
        await produce(stack, histories())
        await wait_until_consumed(stack.settings, timeout=120, check=worker.check_alive)

        async def restart_empty() -> None:
            await private_redis.crash()
            shutil.rmtree(private_redis.data_dir)
            private_redis.data_dir.mkdir()
            await private_redis.start()

        await lose_and_probe(stack, worker, restart_empty, "b")


async def test_a_rolled_back_redis_is_detected_and_recovered(
        tmp_path: Path, workers: WorkerLauncher, private_redis: PrivateRedis) -> None:
    async with consent_stack(tmp_path, workers, private_redis) as (stack, worker):
        records = histories()
        await produce(stack, records[:len(records) // 2])
        await wait_until_consumed(stack.settings, timeout=120, check=worker.check_alive)
        # An older copy of the data (a backup, or a replica that fell behind) ...
        await private_redis.crash()
        older = private_redis.data_dir.with_name("older")
        shutil.copytree(private_redis.data_dir, older)
        await private_redis.start()
        await produce(stack, records[len(records) // 2:])
        await wait_until_consumed(stack.settings, timeout=120, check=worker.check_alive)

        async def roll_back() -> None:
            # ... comes back: every write since it was taken is gone, and Kafka has them.
            await private_redis.crash()
            shutil.rmtree(private_redis.data_dir)
            shutil.copytree(older, private_redis.data_dir)
            await private_redis.start()

        await lose_and_probe(stack, worker, roll_back, "c")
