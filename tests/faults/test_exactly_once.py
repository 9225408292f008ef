"""Exactly once under crashes: the worker is SIGKILLed again and again during a 50k-record run.

SIGKILL leaves no chance to abort a transaction, revoke partitions or leave the group: the
restarted worker must fence the dead one's transactions, reposition at the committed offsets,
and answer inputs whose Redis write survived the crash from their stored outcomes.
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
from dataclasses import dataclass
from pathlib import Path

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
from tests.support.workload import CHURN, build_workload, producing

pytestmark = pytest.mark.faults

TOTAL_RECORDS = 50_000
SEED = 20_251_124
# Paced so that producing lasts about as long as the kill schedule: each kill of a member
# costs a restart plus the group's session timeout (6 s) before its partitions move.
RECORDS_PER_SECOND = 1100


class After(enum.Enum):
    """The moment a kill's delay counts from."""

    SPAWN = "spawn"  # the process exists: still importing, not yet connected
    JOINING = "joining"  # its consumer started and is joining the group
    READY = "ready"  # /readyz says 200: partitions assigned, batches flowing


@dataclass(frozen=True)
class Kill:
    after: After
    delay: float
    # Then freeze the worker at random moments until one is inside an open transaction:
    # after the batch's Redis write, before its Kafka commit (the moment exactly once is for).
    in_transaction: bool = False


def kill_schedule(rng: random.Random) -> list[Kill]:
    return [
        Kill(After.READY, rng.uniform(1.0, 4.0)),
        Kill(After.SPAWN, rng.uniform(0.1, 0.9)),
        Kill(After.JOINING, rng.uniform(0.1, 0.9)),
        Kill(After.READY, rng.uniform(0.0, 0.5), in_transaction=True),
        Kill(After.READY, rng.uniform(1.0, 4.0)),
        Kill(After.READY, rng.uniform(0.0, 2.0), in_transaction=True),
        Kill(After.READY, rng.uniform(0.0, 2.0), in_transaction=True),
    ]


async def reach(worker: WorkerProcess, moment: After) -> None:
    if moment is After.JOINING:
        await wait_for(lambda: worker.logged("worker started"), 30, f"{worker.name} to start")
    elif moment is After.READY:
        await worker.wait_ready()


async def test_every_input_is_decided_exactly_once_across_repeated_sigkills(
        tmp_path: Path, workers: WorkerLauncher, redis_prefix: str) -> None:
    gateways = Gateways()  # no gateways file: every gateway in "default" mode
    workload = build_workload(TOTAL_RECORDS, 2200, SEED, CHURN)
    reference = reference_run(workload, gateways)
    rng = random.Random(SEED)
    in_transaction = 0
    started = time.monotonic()
    async with (private_stack(tmp_path, partitions=4, session_timeout_ms=6000,
                              redis_prefix=redis_prefix) as stack,
                TransactionProbe(stack.settings) as probe,
                producing(stack.producer, stack.settings, workload, RECORDS_PER_SECOND) as feed):
        worker = await workers.start(stack.settings)
        for kill in kill_schedule(rng):
            await reach(worker, kill.after)
            await asyncio.sleep(kill.delay)  # the random point of the crash, not a wait
            fate = f"{worker.name}: killed {kill.delay:.2f}s after {kill.after.value}"
            if kill.in_transaction:
                attempts = await freeze_in_transaction(worker, probe, rng)
                in_transaction += attempts is not None
                fate += (f", inside a transaction (freeze #{attempts})" if attempts
                         else ", no open transaction found")
            await worker.kill()
            # For the report (pytest -s or -rP) and, on failure, next to the worker logs.
            print(f"{fate}, at {time.monotonic() - started:.1f}s")
            worker = await workers.start(stack.settings)
        await worker.wait_ready()
        produced_after = await feed
        await wait_until_consumed(stack.settings, timeout=120, check=worker.check_alive)
        await worker.terminate()
        outputs = await read_committed_outputs(stack.settings)
    # "replayed" counts the records answered from their stored outcomes: batches whose Redis
    # write beat a crash that their Kafka transaction did not.
    print(f"produced in {produced_after:.1f}s, all decided after "
          f"{time.monotonic() - started:.1f}s")
    for each in workers.started:
        print(f"{each.name}: {each.batch_totals()}")

    exits = [w.process.returncode for w in workers.started]
    assert exits == [-9] * (len(workers.started) - 1) + [0], f"worker exit codes: {exits}"
    problems = verify_exactly_once(workload, reference, outputs, gateways)
    assert not problems.found, problems.report()
    assert in_transaction, "no kill landed inside a transaction: the replay path went untested"
    replayed = sum(w.batch_totals().replayed for w in workers.started)
    assert replayed, f"{in_transaction} kills inside a transaction, yet nothing was replayed"
