"""Figure 1: the worker against the relay ceiling, on the same pre-produced records.

The worker runs as ``tests.bench.worker_process`` (the real worker, exactly once on) in a
process of its own with a fresh consumer group and Redis prefix per trial, so every trial
decides every record afresh. Its clock runs from the first batch reaching the pipeline until
the group's committed offsets (written in the same transactions as the outputs) reach the end
of every input partition. A rate is reported only after the committed outputs prove that every
record was decided once: one send result per send request, one command result per command, one
stored outcome per input, no dead letters.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
import yaml
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from processor import codec
from processor.adapters.kafka.clients import kafka_client_options
from processor.adapters.kafka.topic_admin import create_topics
from processor.adapters.redis_keys import count_keys, delete_keys
from processor.domain.models.enums import SendStatus
from processor.settings import Settings
from processor.topics import INPUT_TOPICS, Topic
from tests.bench.broker import (
    create_plain_topic,
    end_offsets,
    partitions_of,
    produce_workload,
    read_committed,
)
from tests.bench.relay import RELAY_MODES, RelayRun, run_relay
from tests.bench.report import median
from tests.support.workload import GATEWAYS_CONFIG, Workload

# The checkout this benchmark belongs to: its worker module runs from there.
ROOT = Path(__file__).resolve().parents[2]
# How often the committed group offsets are read while the worker runs (the clock's grain).
POLL_S = 0.02


class BenchError(RuntimeError):
    """The benchmark cannot report a figure honestly (e.g. the worker missed records)."""


@dataclass(frozen=True, slots=True)
class WorkerRun:
    records: int
    seconds: float
    stats: Mapping[str, Any]  # what the worker process counted about itself

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def cpu_us(self) -> float:
        """The worker process's CPU time per input record, in microseconds."""
        return float(self.stats["cpu_seconds"]) / self.records * 1e6


@dataclass(frozen=True, slots=True)
class Arena:
    """One partition count's private topics, filled with the workload."""

    settings: Settings
    inputs: dict[TopicPartition, int]  # input partition -> end offset
    relay_topic: str
    gateways_file: Path


async def prepare_arena(base: Settings, prefix: str, partitions: int,
                        workload: Workload, workdir: Path) -> Arena:
    """Creates the product's topics (plus the relay's output) and pre-produces the workload.
    Only the connection settings of `base` are kept: the rest are the defaults."""
    gateways_file = workdir / f"{prefix}gateways.yaml"
    gateways_file.write_text(yaml.safe_dump(GATEWAYS_CONFIG), encoding="utf-8")
    settings = Settings.from_env({}, **base.cluster_settings(),
                                 topic_prefix=prefix, partitions=partitions,
                                 gateways_file=gateways_file)
    await create_topics(settings)
    relay_topic = f"{prefix}relay.out"
    await create_plain_topic(settings, relay_topic, partitions)
    await produce_workload(settings, workload)
    inputs = await end_offsets(
        settings, partitions_of([settings.topics(t) for t in INPUT_TOPICS], partitions))
    if sum(inputs.values()) != len(workload.records):
        raise BenchError(f"{sum(inputs.values())} input records on the broker, "
                         f"expected {len(workload.records)}")
    return Arena(settings, inputs, relay_topic, gateways_file)


async def measure_throughput(arena: Arena, workload: Workload, trials: int,
                             workdir: Path, baseline: Path | None = None) -> dict[str, Any]:
    """Alternates relay and worker trials (ABBA...) so drift on the machine hits both; with
    ``baseline`` (a checkout of another commit) its worker runs in every trial too, next to
    ours, on the same records."""
    relay_runs: dict[str, list[RelayRun]] = {mode: [] for mode in RELAY_MODES}
    worker_runs: list[WorkerRun] = []
    baseline_runs: list[WorkerRun] = []
    for trial in range(trials):
        order = ["relay", "worker", *(["baseline"] if baseline else [])]
        if trial % 2:
            order.reverse()
        for which in order:
            if which == "relay":
                for mode in RELAY_MODES:
                    relay_runs[mode].append(await run_relay(
                        arena.settings, list(arena.inputs), arena.relay_topic,
                        len(workload.records), arena.settings.batch_max_records, mode=mode))
            elif which == "worker":
                worker_runs.append(await run_worker_trial(arena, workload, trial, workdir))
            else:
                baseline_runs.append(await run_worker_trial(arena, workload, trial, workdir,
                                                            code=baseline))
    relay = {mode: median([r.rate for r in runs]) for mode, runs in relay_runs.items()}
    relay_cpu = {mode: median([r.cpu_seconds / r.records * 1e6 for r in runs])
                 for mode, runs in relay_runs.items()}
    worker = median([r.rate for r in worker_runs])
    section: dict[str, Any] = {
        "partitions": arena.settings.partitions,
        "records": len(workload.records),
        # The ceiling: a plain relay (send per record).
        "relay_rate": relay["plain"],
        "ratio": worker / relay["plain"],
        # The floor of the I/O: the same relay with record batches, as the worker sends.
        "batch_relay_rate": relay["batches"],
        "batch_ratio": worker / relay["batches"],
        "worker_rate": worker,
        # CPU time per record (µs), of the worker's process and of each relay's.
        "worker_cpu_us": median([r.cpu_us for r in worker_runs]),
        "relay_cpu_us": relay_cpu["plain"],
        "batch_relay_cpu_us": relay_cpu["batches"],
        "relay_trials": [{"mode": mode, "records": r.records, "seconds": r.seconds,
                          "rate": r.rate, "cpu_seconds": r.cpu_seconds}
                         for mode, runs in relay_runs.items() for r in runs],
        "worker_trials": [_trial(r) for r in worker_runs],
    }
    if baseline_runs:
        old_cpu = median([r.cpu_us for r in baseline_runs])
        section["baseline"] = {
            "code": str(baseline),
            "worker_rate": median([r.rate for r in baseline_runs]),
            "worker_cpu_us": old_cpu,
            # The figure the CPU target is judged by: ours over the baseline's, same run.
            "cpu_ratio": section["worker_cpu_us"] / old_cpu,
            # Per trial pair, ours over the baseline's (the spread shows the noise).
            "cpu_ratio_trials": [new.cpu_us / old.cpu_us for new, old
                                 in zip(worker_runs, baseline_runs, strict=True)],
            "worker_trials": [_trial(r) for r in baseline_runs],
        }
    return section


def _trial(run: WorkerRun) -> dict[str, Any]:
    return {"records": run.records, "seconds": run.seconds, "rate": run.rate,
            "cpu_us": run.cpu_us, **run.stats}


async def run_worker_trial(arena: Arena, workload: Workload, trial: int,
                           workdir: Path, code: Path | None = None) -> WorkerRun:
    """Runs the real worker over the arena's inputs with a fresh group and Redis prefix;
    returns its rate once the committed outputs show every record decided. ``code``: a
    checkout of another commit whose worker runs instead (the same-run baseline)."""
    base = arena.settings
    name = f"w{trial}" if code is None else f"b{trial}"
    gateways_file = arena.gateways_file
    if code is not None:
        # The same gateways in the words of a release from before quiet hours and caps (it
        # refuses settings it does not know, and has neither feature: the same decisions).
        gateways_file = workdir / f"{name}-{arena.gateways_file.name}"
        gateways_file.write_text(yaml.safe_dump(baseline_gateways(GATEWAYS_CONFIG)),
                                 encoding="utf-8")
    settings = trial_settings(base, gateways_file, name)
    outputs = partitions_of([settings.topics(t) for t in
                             (Topic.SEND_RESULTS, Topic.COMMAND_RESULTS, Topic.DEAD_LETTER)],
                            settings.partitions)
    before = await end_offsets(settings, outputs)
    worker = WorkerProcess(settings, workdir / f"worker-p{settings.partitions}-{name}.log",
                           code=code)
    await worker.start()
    try:
        first = await worker.wait_for("first_batch_at", timeout=60.0)
        finished = await _wait_until_committed(settings, arena.inputs, worker.process,
                                               timeout=60.0 + len(workload.records) / 100)
    except BaseException:
        await worker.kill()
        raise
    stats = await worker.stop()
    run = WorkerRun(len(workload.records), finished - first["first_batch_at"], stats)
    await verify_worker_outputs(settings, workload, before, run,
                                f"{name}, log {worker.log_path}")
    await drop_trial_keys(settings)
    return run


def baseline_gateways(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` without the settings added since issue 14's baseline (1504ec2)."""
    def older(settings: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in settings.items() if k not in {"quiet_hours", "frequency_cap"}}

    return {**config, "defaults": older(config.get("defaults", {})),
            "gateways": {gw: older(values) for gw, values in config.get("gateways", {}).items()}}


def trial_settings(base: Settings, gateways_file: Path, name: str) -> Settings:
    """The settings of one worker run on ``base``'s topics: a fresh group and Redis prefix."""
    return Settings.from_env(
        {}, **base.cluster_settings(),
        topic_prefix=base.topic_prefix, partitions=base.partitions,
        gateways_file=gateways_file, group_id=f"{base.topic_prefix}{name}",
        redis_prefix=f"{base.topic_prefix}{name}")


class WorkerProcess:
    """``python -m tests.bench.worker_process`` for some settings: its JSON messages on
    stdout, its log in a file (shown when it fails)."""

    def __init__(self, settings: Settings, log_path: Path, code: Path | None = None,
                 extra_env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.log_path = log_path
        self.code = code
        self.extra_env = dict(extra_env or {})
        self._process: asyncio.subprocess.Process | None = None

    @property
    def process(self) -> asyncio.subprocess.Process:
        assert self._process is not None
        return self._process

    async def start(self) -> None:
        env = {**worker_env(self.settings), **self.extra_env}
        code = ROOT if self.code is None else self.code
        env = await baseline_env(code, env) if self.code is not None else {
            **env, "PYTHONPATH": str(ROOT)}
        with self.log_path.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", worker_module(code),
                env=env, cwd=code, stdout=asyncio.subprocess.PIPE, stderr=log)

    async def wait_for(self, key: str, timeout: float) -> dict[str, Any]:
        """The next message that has ``key`` (messages before it are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            message = await _next_message(self.process, max(0.1, deadline - time.monotonic()))
            if key in message:
                return message

    async def stop(self) -> dict[str, Any]:
        """Stops the worker cleanly; returns the counters it reports on the way out."""
        self.process.send_signal(signal.SIGTERM)
        try:
            stats = await self.wait_for("records", timeout=60.0)
        except BaseException:
            await self.kill()
            raise
        if await self.process.wait() != 0:
            raise BenchError(f"the worker exited with {self.process.returncode}: "
                             f"{_tail(self.log_path)}")
        return stats

    async def kill(self) -> None:
        """Ends a worker that failed, and shows its log."""
        if self._process is None:
            return
        if self._process.returncode is None:
            self._process.kill()
        await self._process.wait()
        sys.stderr.write(f"worker log ({self.log_path}):\n{_tail(self.log_path)}\n")


def worker_module(code: Path) -> str:
    """The benchmark's worker module in a checkout: ``tests/bench/`` since the benchmark left
    the package, ``processor/bench/`` in a checkout from before."""
    if (code / "tests" / "bench" / "worker_process.py").is_file():
        return "tests.bench.worker_process"
    return "processor.bench.worker_process"


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of ``python -m processor run`` for these settings (no stray CG_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CG_")}
    env.update(settings.to_env())
    env["CG_LOG_FORMAT"] = "json"
    return env


async def baseline_env(code: Path, env: dict[str, str]) -> dict[str, str]:
    """``env`` for the worker of another checkout: its code first on the path, and only the
    settings its own Settings knows (it refuses unknown CG_ variables)."""
    env = {**env, "PYTHONPATH": str(code)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import dataclasses, processor.settings as s; "
        "print(' '.join(f.name for f in dataclasses.fields(s.Settings)))",
        env=env, cwd=code, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise BenchError(f"cannot read the settings of the worker in {code}")
    known = {f"CG_{name.upper()}" for name in out.decode().split()}
    return {k: v for k, v in env.items() if not k.startswith("CG_") or k in known}


async def _next_message(process: asyncio.subprocess.Process, timeout: float) -> dict[str, Any]:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout)
    if not line:
        raise BenchError(f"the worker process ended early (exit {await process.wait()})")
    message: dict[str, Any] = orjson.loads(line)
    return message


async def _wait_until_committed(settings: Settings, ends: Mapping[TopicPartition, int],
                                process: asyncio.subprocess.Process, timeout: float) -> float:
    """The time at which the group's committed offsets first covered every input record."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            committed = await admin.list_consumer_group_offsets(settings.group_id)
            now = time.monotonic()
            if all(tp in committed and committed[tp].offset >= end
                   for tp, end in ends.items() if end > 0):
                return now
            if process.returncode is not None:
                raise BenchError(f"the worker exited with {process.returncode} mid-run")
            if now > deadline:
                raise BenchError(f"the worker did not commit every input within {timeout:.0f}s")
            await asyncio.sleep(POLL_S)
    finally:
        await admin.close()


async def verify_worker_outputs(settings: Settings, workload: Workload,
                                before: dict[TopicPartition, int], run: WorkerRun,
                                run_name: str = "worker") -> None:
    """Raises BenchError unless this trial decided every input exactly once."""
    problems = []
    committed = await read_committed(settings, before)
    values: dict[str, list[bytes]] = {}
    for record in committed:
        values.setdefault(settings.topics.logical(record.topic).value, []).append(record.value)
    # One final result per request; a campaign send inside the recipient's quiet hours (by the
    # wall clock) gets a Held result first, and its final one when a STOP refuses it or the
    # hold ends, maybe long after the run.
    results = [codec.decode_send_result(v) for v in values.get(Topic.SEND_RESULTS.value, [])]
    finals = Counter(r.request_id for r in results if r.status is not SendStatus.HELD)
    holds = Counter(r.request_id for r in results if r.status is SendStatus.HELD)
    if (finals.keys() | holds.keys()) != workload.request_ids or any(
            n > 1 for n in (*finals.values(), *holds.values())):
        problems.append(f"{sum(finals.values())} final send results ({len(finals)} distinct) "
                        f"and {sum(holds.values())} held ({len(holds)} distinct) for "
                        f"{len(workload.request_ids)} send requests")
    commands = [codec.decode_command_result(v).command_id
                for v in values.get(Topic.COMMAND_RESULTS.value, [])]
    if len(commands) != len(workload.command_ids) or set(commands) != workload.command_ids:
        problems.append(f"{len(commands)} command results for "
                        f"{len(workload.command_ids)} commands")
    if letters := values.get(Topic.DEAD_LETTER.value):
        problems.append(f"{len(letters)} dead letters")
    outcomes = await count_outcomes(settings)
    if outcomes != len(workload.records):
        problems.append(f"{outcomes} stored outcomes for {len(workload.records)} inputs")
    # More is fine (a batch retried after an abort is replayed); fewer means a missed stamp.
    if run.stats.get("records", 0) < len(workload.records):
        problems.append(f"the pipeline saw {run.stats.get('records')} of "
                        f"{len(workload.records)} records")
    if problems:
        raise BenchError(f"the worker ({run_name}) did not decide every record once: "
                         + "; ".join(problems))


async def count_outcomes(settings: Settings) -> int:
    """Stored idempotency outcomes under the trial's Redis prefix: one per decided input."""
    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        return await count_keys(client, f"{settings.redis_prefix}:*:o:*")
    finally:
        await client.aclose()


async def drop_trial_keys(settings: Settings) -> None:
    """A trial's state and outcomes are not needed once verified (keeps Redis small)."""
    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        await delete_keys(client, f"{settings.redis_prefix}:*")
    finally:
        await client.aclose()


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
