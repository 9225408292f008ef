"""Worker subprocesses for the fault tests: start, wait until ready, SIGKILL, SIGTERM, and
freeze inside an open transaction.

Every worker runs ``python -m processor run`` against the real stack with its own web port and
a log file; a failing test gets the tail of every worker log it started in its report. Workers
still running when a test ends are killed by their process id (never by name).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import random
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from processor.adapters.kafka.clients import kafka_client_options
from processor.settings import Settings
from processor.topics import Topic
from tests.support.harness import worker_env
from tests.support.stack import ROOT, wait_for_port

WORKERS = pytest.StashKey[list["WorkerProcess"]]()
LOG_TAIL_LINES = 40
COMMIT_MARKERS_SECONDS = 0.3


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class BatchTotals:
    """What one worker process committed, summed over its "batch committed" log lines."""

    batches: int = 0
    records: int = 0
    decided: int = 0
    replayed: int = 0


@dataclass
class WorkerProcess:
    name: str
    process: asyncio.subprocess.Process
    web_port: int
    log_path: Path

    def check_alive(self) -> None:
        """Raises (with the log tail) when the worker exited on its own."""
        if self.process.returncode is not None:
            raise AssertionError(f"worker {self.name} exited with {self.process.returncode}:\n"
                                 f"{self.log_tail()}")

    async def get(self, path: str) -> tuple[int, str] | None:
        """(HTTP status, body) of a web view; None while the web port does not answer."""
        url = f"http://127.0.0.1:{self.web_port}{path}"
        try:
            async with (aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
                        http.get(url) as response):
                return response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def readyz(self) -> tuple[int, dict[str, Any]] | None:
        """(HTTP status, body) of /readyz; None while the web port does not answer."""
        answer = await self.get("/readyz")
        return None if answer is None else (answer[0], json.loads(answer[1]))

    async def metrics(self) -> str:
        """The worker's /metrics exposition (Prometheus text)."""
        answer = await self.get("/metrics")
        assert answer is not None and answer[0] == 200, answer
        return answer[1]

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            answer = await self.readyz()
            if answer is not None and answer[0] == 200:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"worker {self.name} not ready after {timeout}s "
                                     f"(last /readyz: {answer}):\n{self.log_tail()}")
            await asyncio.sleep(0.1)

    async def kill(self) -> None:
        """SIGKILL: no revocation, no transaction abort, no goodbye to the group."""
        self.check_alive()
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    def pause(self) -> None:
        """SIGSTOP: a stall (GC pause, frozen VM) long enough for the group to give up on it."""
        self.check_alive()
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    async def terminate(self, timeout: float = 30.0) -> None:
        """SIGTERM and wait for the graceful stop; it must exit cleanly."""
        self.check_alive()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"worker {self.name} ignored SIGTERM for {timeout}s:\n"
                                 f"{self.log_tail()}") from None
        assert code == 0, f"worker {self.name} stopped with {code}:\n{self.log_tail()}"

    def log_lines(self) -> list[dict[str, Any]]:
        """The worker's structured log lines (the library lines that are not JSON are left)."""
        lines = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                parsed = json.loads(raw)
                if isinstance(parsed, dict):
                    lines.append(parsed)
        return lines

    def logged(self, event: str) -> bool:
        return any(line.get("event") == event for line in self.log_lines())

    def batch_totals(self) -> BatchTotals:
        committed = [line for line in self.log_lines() if line.get("event") == "batch committed"]
        return BatchTotals(
            batches=len(committed),
            records=sum(line["records"] for line in committed),
            decided=sum(line["decided"] for line in committed),
            replayed=sum(line["replayed"] for line in committed),
        )

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The batch totals, then the last log lines other than "batch committed" (the
        assignments, warnings and tracebacks that explain a failure)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no log at {self.log_path}: {exc})"
        rest = [line for line in text.splitlines() if '"batch committed"' not in line]
        return "\n".join([str(self.batch_totals()), *rest[-lines:]])


class TransactionProbe:
    """Tells whether an output transaction is open on some partition numbers: records written
    that are neither committed nor aborted (the last stable offset is below the end)."""

    def __init__(self, settings: Settings, numbers: Iterable[int] | None = None) -> None:
        numbers = range(settings.partitions) if numbers is None else numbers
        # Topics keyed by phone: their partition number is the input partition's.
        self._partitions = [TopicPartition(settings.topics(t), n) for n in numbers
                            for t in (Topic.SEND_RESULTS, Topic.OUTBOUND,
                                      Topic.CONSENT_EVENTS, Topic.COMMAND_RESULTS)]
        self._committed = AIOKafkaConsumer(**kafka_client_options(settings),
                                           isolation_level="read_committed")
        self._written = AIOKafkaConsumer(**kafka_client_options(settings))

    async def __aenter__(self) -> TransactionProbe:
        await self._committed.start()
        await self._written.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._committed.stop()
        await self._written.stop()

    async def open_now(self) -> bool:
        stable = await self._committed.end_offsets(self._partitions)
        end = await self._written.end_offsets(self._partitions)
        return any(stable[tp] < end[tp] for tp in self._partitions)


async def freeze_in_transaction(worker: WorkerProcess, probe: TransactionProbe,
                                rng: random.Random, timeout: float = 20.0) -> int | None:
    """Freezes the worker (SIGSTOP) at random moments until one falls inside an open
    transaction (after the batch's Redis write, before its Kafka commit) and leaves it frozen
    there; returns the attempts that took, or None (worker running) when none did in time."""
    deadline = time.monotonic() + timeout
    attempts = 0
    while time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(0.0, 0.2))  # a random moment, not a wait
        worker.pause()
        attempts += 1
        if await probe.open_now():
            # A commit the worker already asked for completes without it (the markers are
            # the broker's job): whatever is still open a moment later is the frozen worker's.
            await asyncio.sleep(COMMIT_MARKERS_SECONDS)
            if await probe.open_now():
                return attempts
        worker.resume()
    return None


@dataclass
class WorkerLauncher:
    """Starts worker processes for one test and remembers them for cleanup and reports."""

    log_dir: Path
    started: list[WorkerProcess]

    async def start(self, settings: Settings, name: str | None = None) -> WorkerProcess:
        name = name or f"w{len(self.started) + 1}"
        port = free_port()
        log_path = self.log_dir / f"worker-{name}.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "processor", "run", cwd=ROOT,
                env=worker_env(settings, port), stdout=log, stderr=log)
        worker = WorkerProcess(name, process, port, log_path)
        self.started.append(worker)
        return worker

    async def stop_all(self) -> None:
        for worker in self.started:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGKILL)
                await worker.process.wait()


@pytest.fixture
async def workers(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[WorkerLauncher]:
    launcher = WorkerLauncher(tmp_path, [])
    request.node.stash[WORKERS] = launcher.started
    yield launcher
    await launcher.stop_all()


@dataclass
class PrivateRedis:
    """A redis-server of this test's own, so it can fail without touching the shared stack.

    It keeps an append-only file synced on every write: a crash then loses no write it
    acknowledged, like a production Redis with persistence, so a test of a Redis crash sees
    the worker's behaviour and not the data loss of a Redis without persistence."""

    port: int
    data_dir: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable is not None, "redis-server is not on PATH (the local stack needs it)"
        self.process = await asyncio.create_subprocess_exec(
            executable, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.data_dir),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        await wait_for_port(self.port, timeout=10.0)

    async def crash(self) -> None:
        """SIGKILL: connections are reset and new ones refused until `start` again."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    def pause(self) -> None:
        """SIGSTOP: connections stay open and nothing answers (a hung Redis)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            await self.crash()  # SIGKILL ends a paused (SIGSTOPped) server too


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    data_dir = tmp_path / "redis"
    data_dir.mkdir()
    server = PrivateRedis(free_port(), data_dir)
    try:
        await server.start()
        yield server
    finally:
        await server.stop()


async def wait_for(condition: Callable[[], Any], timeout: float, what: str,
                   interval: float = 0.1) -> Any:
    """Polls a condition (plain or async) until it is truthy; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None],
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for worker in item.stash.get(WORKERS, []):
            report.sections.append((f"worker {worker.name} log (tail)", worker.log_tail()))
    return report
