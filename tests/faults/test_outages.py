"""Redis outages mid-run: nothing is lost or duplicated, and /readyz says not-ready meanwhile.

The worker talks to a private redis-server of the test (the shared one must stay up). A Kafka
outage cannot be staged the same way: the broker is shared by every test and engineer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from processor.domain.gateways.config import Gateways
from tests.faults.conftest import PrivateRedis, WorkerLauncher, WorkerProcess, wait_for
from tests.faults.exactly_once import (
    read_committed_outputs,
    reference_run,
    verify_exactly_once,
    wait_until_consumed,
)
from tests.support.harness import private_stack
from tests.support.workload import CHURN, build_workload, producing

pytestmark = pytest.mark.faults

TOTAL_RECORDS = 6_000
RECORDS_PER_SECOND = 600
# Down: connections are refused, which the worker sees at once.
DOWN_SECONDS = 4.0
# Hung: nothing answers. The worker notices only when a Redis call times out, so the hang
# outlasts redis-py's default socket timeout (5 s; the worker sets no timeout of its own).
HUNG_SECONDS = 8.0


async def readiness_during(worker: WorkerProcess, seconds: float) -> list[int | None]:
    """The /readyz status codes seen while `seconds` pass (None: no answer in time)."""
    seen: list[int | None] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = await worker.readyz()
        seen.append(None if answer is None else answer[0])
        await asyncio.sleep(0.2)
    return seen


async def run_with_outage(tmp_path: Path, workers: WorkerLauncher, seed: int,
                          outage: Callable[[WorkerProcess], Awaitable[list[int | None]]],
                          redis_url: str) -> list[int | None]:
    """Runs a workload through one worker with `outage` staged once the worker is busy;
    checks that every input was decided exactly once; returns what /readyz said meanwhile."""
    gateways = Gateways()
    workload = build_workload(TOTAL_RECORDS, 440, seed, CHURN)
    reference = reference_run(workload, gateways)
    async with private_stack(tmp_path, partitions=4, session_timeout_ms=6000,
                             redis_url=redis_url) as stack:
        worker = await workers.start(stack.settings)
        await worker.wait_ready()
        async with producing(stack.producer, stack.settings, workload,
                             RECORDS_PER_SECOND) as feed:
            await wait_for(lambda: worker.batch_totals().batches >= 10, 30,
                           "the worker to be busy")
            readiness = await outage(worker)
            await worker.wait_ready(timeout=30)
            assert not feed.done(), "the workload ended before the outage did"
            await feed
        await wait_until_consumed(stack.settings, timeout=60, check=worker.check_alive)
        await worker.terminate()
        outputs = await read_committed_outputs(stack.settings)
    problems = verify_exactly_once(workload, reference, outputs, gateways)
    assert not problems.found, problems.report()
    return readiness


async def test_redis_down_loses_and_duplicates_nothing_and_is_reported_not_ready(
        tmp_path: Path, workers: WorkerLauncher, private_redis: PrivateRedis) -> None:
    async def crash_and_restart(worker: WorkerProcess) -> list[int | None]:
        await private_redis.crash()
        readiness = await readiness_during(worker, DOWN_SECONDS)
        await private_redis.start()
        return readiness

    readiness = await run_with_outage(tmp_path, workers, 31, crash_and_restart,
                                      private_redis.url)
    assert 503 in readiness, f"/readyz never said not-ready while Redis was down: {readiness}"


async def test_redis_hung_loses_and_duplicates_nothing_and_is_reported_not_ready(
        tmp_path: Path, workers: WorkerLauncher, private_redis: PrivateRedis) -> None:
    async def hang(worker: WorkerProcess) -> list[int | None]:
        private_redis.pause()
        try:
            return await readiness_during(worker, HUNG_SECONDS)
        finally:
            private_redis.resume()

    readiness = await run_with_outage(tmp_path, workers, 32, hang, private_redis.url)
    assert 503 in readiness, f"/readyz never said not-ready while Redis hung: {readiness}"
