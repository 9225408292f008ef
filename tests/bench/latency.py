"""Decision latency at a fixed offered load: what an app that sends a request waits for.

A paced producer sends the workload's mix (send requests at ``rate`` per second, plus inbound
texts and commands in the workload's share) into private topics, while the real worker
(``tests.bench.worker_process``, exactly once on) decides them. A ``read_committed``
consumer of ``sms.send-results`` notes when each request's committed result arrives. A
request's latency runs from the moment it is handed to the producer to the moment its result
is read: producer, broker, the worker's fetch, order and batch, Redis, the transaction and its
markers, and the reader's fetch.

The reader must not add latency of its own: it fetches with a short ``fetch_max_wait_ms``
(a fetch also returns at once when data arrives; the short wait only bounds what a missed
wake-up could cost) and stamps records as soon as ``getmany`` returns them. Requests sent in
the first ``warmup`` seconds are checked (every request must get exactly one result) but not
counted in the distribution: the worker's first batches also pay for connection set-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from processor.adapters.kafka.clients import kafka_client_options
from processor.adapters.kafka.topic_admin import create_topics
from processor.settings import Settings
from processor.topics import Topic
from tests.bench.broker import partitions_of
from tests.bench.throughput import WorkerProcess, drop_trial_keys, trial_settings
from tests.support.workload import GATEWAYS_CONFIG, REALISTIC, Workload, build_workload

# The share of send requests among the workload's records.
SEND_SHARE = REALISTIC.send_share
# The reader's fetch wait: returns at once when data arrives; this bounds a missed wake-up.
READER_FETCH_WAIT_MS = 5
# Final statuses. A Held result is followed by a final one when the hold ends: a campaign send
# inside the recipient's quiet hours (by the wall clock: the benchmark's phones span US time
# zones) waits hours for it, so a held request is counted apart, not waited for.
FINAL = frozenset({"Forwarded", "Error"})
HELD = "Held"


class _Result(msgspec.Struct):
    """The part of a send result the reader needs."""

    request_id: str
    status: str


_RESULT = msgspec.json.Decoder(_Result)


@dataclass(frozen=True, slots=True)
class Paced:
    """One record to produce: its topic's name, key, value, and request id for sends."""

    topic: str
    key: bytes
    value: bytes
    request_id: str | None


def paced_records(settings: Settings, workload: Workload) -> list[Paced]:
    """The workload's records with the request id of each send (read once, before timing)."""
    out = []
    for record in workload.records:
        request_id = None
        if record.topic is Topic.SEND_REQUESTS:
            request_id = msgspec.json.decode(record.value)["request_id"]
        out.append(Paced(settings.topics(record.topic), record.key, record.value, request_id))
    return out


def latency_workload(rate: float, seconds: float, phones: int, seed: int) -> Workload:
    """Enough records for ``rate`` send requests per second during ``seconds``."""
    return build_workload(round(rate * seconds / SEND_SHARE), phones, seed=seed)


async def produce_paced(settings: Settings, records: list[Paced], per_second: float,
                        sent: dict[str, float]) -> float:
    """Sends ``records`` at ``per_second`` records per second, noting when each send request
    was handed to the producer; returns when the last one was acknowledged."""
    producer = AIOKafkaProducer(**kafka_client_options(settings), acks="all",
                                enable_idempotence=True, linger_ms=0)
    await producer.start()
    try:
        pending = []
        started = time.monotonic()
        interval = 1.0 / per_second
        for index, record in enumerate(records):
            due = started + index * interval
            wait = due - time.monotonic()
            if wait > 0.0005:
                await asyncio.sleep(wait)
            if record.request_id is not None:
                sent[record.request_id] = time.monotonic()
            pending.append(await producer.send(record.topic, record.value, key=record.key))
        await asyncio.gather(*pending)
        return time.monotonic() - started
    finally:
        await producer.stop()


async def read_results(reader: AIOKafkaConsumer, expected: int, arrived: dict[str, list[float]],
                       held: set[str], done: asyncio.Event) -> None:
    """Stamps every committed final send result as it arrives, and notes the requests held
    for later, until ``expected`` requests have one or the other and ``done`` is set (the
    producer finished)."""
    while not (done.is_set() and len(arrived.keys() | held) >= expected):
        batch = await reader.getmany(timeout_ms=100)
        now = time.monotonic()
        for records in batch.values():
            for record in records:
                result = _RESULT.decode(record.value)
                if result.status in FINAL:
                    arrived.setdefault(result.request_id, []).append(now)
                elif result.status == HELD:
                    held.add(result.request_id)


def nearest_rank(ordered: list[float], p: float) -> float:
    """The ``p`` quantile of sorted ``ordered`` by nearest rank."""
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max (nearest rank), in milliseconds."""
    ordered = sorted(values)
    return {"p50_ms": nearest_rank(ordered, 0.50) * 1000,
            "p95_ms": nearest_rank(ordered, 0.95) * 1000,
            "p99_ms": nearest_rank(ordered, 0.99) * 1000,
            "max_ms": ordered[-1] * 1000, "mean_ms": sum(ordered) / len(ordered) * 1000}


async def measure_latency(settings: Settings, workload: Workload, rate: float,
                          warmup: float, timeout: float = 60.0) -> dict[str, Any]:
    """Produces ``workload`` paced at ``rate`` send requests per second into the topics of
    ``settings`` (a worker must be deciding them) and measures every request's latency."""
    records = paced_records(settings, workload)
    # Paced so that the send requests among the records come at `rate` per second.
    sends = sum(1 for r in records if r.request_id is not None)
    per_second = rate * len(records) / sends
    reader = AIOKafkaConsumer(**kafka_client_options(settings), enable_auto_commit=False,
                              isolation_level="read_committed", auto_offset_reset="earliest",
                              fetch_max_wait_ms=READER_FETCH_WAIT_MS)
    await reader.start()
    sent: dict[str, float] = {}
    arrived: dict[str, list[float]] = {}
    held: set[str] = set()
    done = asyncio.Event()
    try:
        results = partitions_of([settings.topics(Topic.SEND_RESULTS)], settings.partitions)
        reader.assign(results)
        await reader.seek_to_end(*results)
        for tp in results:
            await reader.position(tp)  # positioned before the first request goes out
        reading = asyncio.create_task(read_results(reader, sends, arrived, held, done))
        started = time.monotonic()
        started_wall = time.time()
        try:
            producing = await produce_paced(settings, records, per_second, sent)
            done.set()
            await asyncio.wait_for(asyncio.shield(reading), timeout)
        except TimeoutError:
            pass
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
    finally:
        await reader.stop()
    measured = [times[0] - sent[rid] for rid, times in arrived.items()
                if rid in sent and sent[rid] - started >= warmup]
    waiting = held - arrived.keys()  # held, not released within the run
    missing = len(set(sent) - arrived.keys() - waiting)
    duplicated = sum(1 for times in arrived.values() if len(times) > 1)
    return {
        "offered_sends_per_s": rate, "offered_records_per_s": per_second,
        "records": len(records), "send_requests": sends,
        "producing_seconds": producing, "achieved_sends_per_s": sends / producing,
        "results_checked": len(arrived), "held": len(waiting), "missing": missing,
        "duplicated": duplicated,
        "measured": len(measured), "warmup_s": warmup,
        "measured_from": started_wall + warmup, "measured_until": started_wall + producing,
        **(percentiles(measured) if measured else {}),
    }


async def prepare_latency_topics(base: Settings, prefix: str, partitions: int,
                                 workdir: Path) -> Settings:
    """Fresh, empty topics for one latency run (and the gateways file the worker reads)."""
    gateways_file = workdir / f"{prefix}gateways.yaml"
    gateways_file.write_text(yaml.safe_dump(GATEWAYS_CONFIG), encoding="utf-8")
    settings = Settings.from_env({}, **base.cluster_settings(), topic_prefix=prefix,
                                 partitions=partitions, gateways_file=gateways_file)
    await create_topics(settings)
    return settings


async def run_latency(base: Settings, prefix: str, partitions: int, rate: float,
                      seconds: float, warmup: float, phones: int, workdir: Path
                      ) -> dict[str, Any]:
    """One offered load: fresh topics, a fresh worker that is serving before the first
    request goes out, the paced run, and the worker's own counters."""
    topics = await prepare_latency_topics(base, prefix, partitions, workdir)
    assert topics.gateways_file is not None
    settings = trial_settings(topics, topics.gateways_file, "l")
    workload = latency_workload(rate, seconds + warmup, phones, seed=int(rate))
    worker = WorkerProcess(settings, workdir / f"worker-latency-{prefix}log")
    await worker.start()
    try:
        await worker.wait_for("serving_at", timeout=60.0)
        result = await measure_latency(settings, workload, rate, warmup)
    except BaseException:
        await worker.kill()
        raise
    stats = await worker.stop()
    await drop_trial_keys(settings)
    result["worker"] = stats
    result["partitions"] = partitions
    result["batch_phases"] = batch_phases(worker.log_path, result["measured_from"],
                                          result["measured_until"])
    return result


PHASES = ("records", "newest_ms", "oldest_ms", "decide_ms", "commit_ms")


def batch_phases(log_path: Path, since: float, until: float) -> dict[str, dict[str, float]]:
    """Where the worker's batches spent their time (its "batch committed" log lines: the ages
    of the newest and oldest records when the batch began, deciding, committing): p50 and p95
    (nearest rank) of each over the batches committed between ``since`` and ``until`` (Unix
    seconds: after the warm-up, before the producer stopped)."""
    rows = []
    for line in log_path.read_text(encoding="utf-8").splitlines():
        if '"batch committed"' not in line:
            continue
        with contextlib.suppress(ValueError, KeyError):
            row = json.loads(line)
            if since <= datetime.fromisoformat(row["timestamp"]).timestamp() <= until:
                rows.append(row)
    out: dict[str, dict[str, float]] = {}
    for phase in PHASES:
        values = sorted(float(row[phase]) for row in rows if phase in row)
        if values:
            out[phase] = {"p50": nearest_rank(values, 0.50), "p95": nearest_rank(values, 0.95)}
    return out
