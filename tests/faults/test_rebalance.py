"""Two workers in one group: partitions move between them mid-run (a member joins, one leaves,
one freezes inside a transaction and comes back as a zombie), and nothing is lost or
duplicated."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from processor.domain.gateways.config import Gateways
from tests.faults.conftest import (
    TransactionProbe,
    WorkerLauncher,
    WorkerProcess,
    freeze_in_transaction,
    wait_for,
)
from tests.faults.exactly_once import (
    read_committed_outputs,
    reference_run,
    verify_exactly_once,
    wait_until_consumed,
)
from tests.support.harness import private_stack
from tests.support.workload import CHURN, build_workload, produce_paced, producing

pytestmark = pytest.mark.faults

PARTITIONS = 4
RECORDS_PER_SECOND = 1000
TOTAL_RECORDS = 20_000
SEED = 77
ZOMBIE_RECORDS = 20_000
ZOMBIE_SEED = 78
ASSIGNMENT_RECORDS = 4_000
ASSIGNMENT_SEED = 80
# Longer than a whole assignment takes: the first fetch is still waiting when records come.
LONG_POLL_MS = 10_000


async def owned(worker: WorkerProcess, *, ready: bool = True) -> set[int]:
    """The partition numbers a worker has producers for (with `ready`: empty until /readyz
    says ready)."""
    answer = await worker.readyz()
    if answer is None or (ready and answer[0] != 200):
        return set()
    body: dict[str, Any] = answer[1]
    return set(body["partitions"])


async def split_between(first: WorkerProcess, second: WorkerProcess) -> bool:
    """Each owns some partitions and every partition has one owner. (Disjoint, because a
    worker waking from a stall claims its old partitions until it notices it lost them.)"""
    mine, theirs = await owned(first), await owned(second)
    return bool(mine and theirs) and not mine & theirs and mine | theirs == set(range(PARTITIONS))


async def owns_all(worker: WorkerProcess) -> bool:
    return await owned(worker) == set(range(PARTITIONS))


def batches(worker: WorkerProcess) -> int:
    return worker.batch_totals().batches


async def test_a_member_joining_and_one_leaving_mid_run_lose_and_duplicate_nothing(
        tmp_path: Path, workers: WorkerLauncher, redis_prefix: str) -> None:
    gateways = Gateways()
    workload = build_workload(TOTAL_RECORDS, 2200, SEED, CHURN)
    reference = reference_run(workload, gateways)
    async with private_stack(tmp_path, partitions=PARTITIONS, session_timeout_ms=6000,
                             redis_prefix=redis_prefix) as stack:
        first = await workers.start(stack.settings, "a")
        await first.wait_ready()
        async with producing(stack.producer, stack.settings, workload,
                             RECORDS_PER_SECOND) as feed:
            await wait_for(lambda: batches(first) >= 10, 30, "a to commit batches")
            second = await workers.start(stack.settings, "b")
            await wait_for(lambda: split_between(first, second), 60, "a and b to share the work")
            before = batches(first)
            await wait_for(lambda: batches(first) >= before + 10 and batches(second) >= 10,
                           30, "a and b to commit batches side by side")
            await first.terminate()
            await wait_for(lambda: owns_all(second), 60, "b to own every partition")
            assert not feed.done(), "the workload ended before the second rebalance"
            await feed
        await wait_until_consumed(stack.settings, timeout=60, check=second.check_alive)
        await second.terminate()
        outputs = await read_committed_outputs(stack.settings)
    problems = verify_exactly_once(workload, reference, outputs, gateways)
    assert not problems.found, problems.report()


async def test_a_member_frozen_in_a_transaction_comes_back_as_a_fenced_zombie(
        tmp_path: Path, workers: WorkerLauncher, redis_prefix: str) -> None:
    """A is frozen (SIGSTOP) inside an open transaction until the group gives its partitions
    to B; then it wakes up with stale positions and that transaction, as if nothing happened.
    B's producers must have fenced it: whatever A still sends or commits is refused."""
    gateways = Gateways()
    workload = build_workload(ZOMBIE_RECORDS, 2200, ZOMBIE_SEED, CHURN)
    reference = reference_run(workload, gateways)
    async with private_stack(tmp_path, partitions=PARTITIONS, session_timeout_ms=6000,
                             redis_prefix=redis_prefix) as stack:
        first = await workers.start(stack.settings, "a")
        second = await workers.start(stack.settings, "b")
        await wait_for(lambda: split_between(first, second), 60, "a and b to share the work")
        async with (TransactionProbe(stack.settings, await owned(first)) as probe,
                    producing(stack.producer, stack.settings, workload,
                              RECORDS_PER_SECOND) as feed):
            await wait_for(lambda: batches(first) >= 10 and batches(second) >= 10, 30,
                           "a and b to commit batches side by side")
            attempts = await freeze_in_transaction(first, probe, random.Random(ZOMBIE_SEED))
            assert attempts is not None, "a was never caught inside one of its transactions"
            try:
                await wait_for(lambda: owns_all(second), 60, "b to take over from the frozen a")
                before = batches(second)
                await wait_for(lambda: batches(second) >= before + 10, 30,
                               "b to commit batches on a's partitions")
            finally:
                first.resume()
            await wait_for(lambda: split_between(first, second), 60,
                           "the woken a to rejoin the group")
            assert not feed.done(), "the workload ended before a came back"
            await feed

        def both_alive() -> None:
            first.check_alive()
            second.check_alive()

        await wait_until_consumed(stack.settings, timeout=60, check=both_alive)
        await first.terminate()
        await second.terminate()
        outputs = await read_committed_outputs(stack.settings)
    problems = verify_exactly_once(workload, reference, outputs, gateways)
    assert not problems.found, problems.report()
    assert first.logged("producer fenced; partition given up"), "a's transaction was not refused"


async def test_records_arriving_just_after_an_assignment_are_not_dropped(
        tmp_path: Path, workers: WorkerLauncher, redis_prefix: str) -> None:
    """A worker's first fetch after an assignment may have begun before it: aiokafka holds it
    until the assignment is set, then hands out records from wherever the worker positioned
    itself. Those records must be decided, not dropped as "fetched across a rebalance".

    A restart into a quiet group with a long poll (CG_BATCH_TIMEOUT_MS) makes that first fetch
    wait for sure: the records produced once the new worker has its partitions are its first.
    """
    gateways = Gateways()
    workload = build_workload(ASSIGNMENT_RECORDS, 440, ASSIGNMENT_SEED, CHURN)
    reference = reference_run(workload, gateways)
    before, after = workload.split(ASSIGNMENT_RECORDS // 2)
    async with private_stack(tmp_path, partitions=PARTITIONS, session_timeout_ms=6000,
                             redis_prefix=redis_prefix) as stack:
        first = await workers.start(stack.settings, "a")
        await first.wait_ready()
        await produce_paced(stack.producer, stack.settings, before, RECORDS_PER_SECOND)
        await wait_until_consumed(stack.settings, timeout=60, check=first.check_alive)
        await first.terminate()
        long_poll = replace(stack.settings, batch_timeout_ms=LONG_POLL_MS)
        second = await workers.start(long_poll, "b")
        await wait_for(lambda: owned_all_partitions(second), 60, "b to take every partition")
        await produce_paced(stack.producer, stack.settings, after, RECORDS_PER_SECOND)
        await wait_until_consumed(stack.settings, timeout=60, check=second.check_alive)
        await second.terminate()
        outputs = await read_committed_outputs(stack.settings)
    problems = verify_exactly_once(workload, reference, outputs, gateways)
    assert not problems.found, problems.report()


async def owned_all_partitions(worker: WorkerProcess) -> bool:
    """It has a producer for every partition; positioning follows within milliseconds
    (committed offsets, no record fetch), so records produced from now on come after it."""
    return await owned(worker, ready=False) == set(range(PARTITIONS))
