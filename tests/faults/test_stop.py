"""Stopping a worker: SIGTERM ends its transaction (committed or aborted, never left open),
the process exits 0 within a bound, and a worker started after it decides every input exactly
once; a stop while the group rebalances returns too.

The rebalance case was found in review: stop() held the worker lock while aiokafka's close()
waited for the group's coordination task, and that task waited in the assignment callback for
the same lock.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor

from processor.app import start_worker
from processor.domain.gateways.config import Gateways
from processor.settings import Settings
from processor.topics import INPUT_TOPICS
from tests.faults import exactly_once
from tests.faults.conftest import (
    TransactionProbe,
    WorkerLauncher,
    freeze_in_transaction,
    wait_for,
)
from tests.support.harness import private_stack, wait_until
from tests.support.stack import KAFKA_BOOTSTRAP
from tests.support.workload import CHURN, build_workload, producing

pytestmark = pytest.mark.faults

# A stopping worker finishes the batch in flight and closes its clients: seconds. Far below
# the transaction timeout (60 s), after which the broker would abort a transaction itself.
STOP_WITHIN_S = 15.0
# Stopping while the slow member delays the rebalance it joined: that member's 10 s, then the
# worker leaves; the deadlock this guards against never returned.
REBALANCE_STOP_WITHIN_S = 30.0
# The broker writes an ended transaction's markers right after it answered the end.
MARKERS_WITHIN_S = 3.0
RECORDS = 4_000
RECORDS_PER_SECOND = 1_000
SEED = 20_261_203


def closed(probe: TransactionProbe) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return not await probe.open_now()

    return check


async def test_sigterm_ends_the_transaction_exits_0_and_a_restart_decides_all_once(
        tmp_path: Path, workers: WorkerLauncher, redis_prefix: str) -> None:
    gateways = Gateways()  # no gateways file: every gateway in "default" mode
    workload = build_workload(RECORDS, 440, SEED, CHURN)
    reference = exactly_once.reference_run(workload, gateways)
    async with (private_stack(tmp_path, redis_prefix=redis_prefix) as stack,
                TransactionProbe(stack.settings) as probe):
        first = await workers.start(stack.settings)
        await first.wait_ready()
        async with producing(stack.producer, stack.settings, workload,
                             RECORDS_PER_SECOND) as feed:
            # SIGTERM inside an open transaction: frozen there (SIGSTOP), signalled, resumed.
            attempts = await freeze_in_transaction(first, probe, random.Random(SEED))
            assert attempts is not None, "no moment inside an open transaction was found"
            signalled = time.monotonic()
            first.process.send_signal(signal.SIGTERM)
            first.resume()
            code = await asyncio.wait_for(first.process.wait(), STOP_WITHIN_S)
            stopped_in = time.monotonic() - signalled
            assert code == 0, f"the worker stopped with {code}:\n{first.log_tail()}"
            # What it had begun is committed or aborted: nothing stays open until the
            # broker's transaction timeout (a SIGKILLed worker leaves it open). The broker
            # writes the markers of an ended transaction just after it answered the end.
            await wait_for(closed(probe), MARKERS_WITHIN_S,
                           "the stopped worker's transaction to be committed or aborted")
            assert first.logged("stopping")
            assert not feed.done(), "the workload ended before the stop"
            second = await workers.start(stack.settings)
            await feed
        await exactly_once.wait_until_consumed(stack.settings, timeout=90,
                                               check=second.check_alive)
        await second.terminate(timeout=STOP_WITHIN_S)
        outputs = await exactly_once.read_committed_outputs(stack.settings)
    decided_first = first.batch_totals().records
    print(f"first worker stopped {stopped_in:.2f}s after SIGTERM, having decided "
          f"{decided_first} records; second: {second.batch_totals()}")
    assert 0 < decided_first < RECORDS, "the stop did not fall inside the workload"
    problems = exactly_once.verify_exactly_once(workload, reference, outputs, gateways)
    assert not problems.found, problems.report()


class SlowToRejoin(ConsumerRebalanceListener):  # type: ignore[misc]
    """A member that takes a while to give up its partitions (a long batch in flight)."""

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if revoked:
            await asyncio.sleep(10)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


async def join(settings: Settings, listener: ConsumerRebalanceListener | None = None
               ) -> tuple[AIOKafkaConsumer, asyncio.Task[None]]:
    """Another member of the worker's group, polling until cancelled."""
    member = AIOKafkaConsumer(
        bootstrap_servers=KAFKA_BOOTSTRAP, group_id=settings.group_id,
        enable_auto_commit=False, partition_assignment_strategy=(RangePartitionAssignor,),
        session_timeout_ms=10_000, heartbeat_interval_ms=1000)
    await member.start()
    topics = [settings.topics(t) for t in INPUT_TOPICS]
    if listener is None:
        member.subscribe(topics)
    else:
        member.subscribe(topics, listener=listener)

    async def poll() -> None:
        while True:
            await member.getmany(timeout_ms=100)

    return member, asyncio.create_task(poll())


async def test_stop_while_the_group_rebalances_returns(tmp_path: Path) -> None:
    async with private_stack(tmp_path) as stack:
        running = await start_worker(stack.settings, with_web=False)
        members: list[tuple[AIOKafkaConsumer, asyncio.Task[None]]] = []
        stopping: asyncio.Task[None] | None = None
        try:
            await wait_until(lambda: bool(running.worker.slots), 30, "assignment")
            members.append(await join(stack.settings, SlowToRejoin()))
            await wait_until(lambda: len(running.worker.slots) < 3, 60, "a shared group")
            running.worker.request_stop()
            await running.task  # the worker's loop is done, its consumer is still a member
            members.append(await join(stack.settings))  # a rebalance the slow member delays
            # Time for the worker to give its partitions up and wait to rejoin behind the slow
            # member (the moment of the old deadlock; not observable from outside, so a pause).
            await asyncio.sleep(4)
            started = time.monotonic()
            stopping = asyncio.create_task(running.worker.stop())
            done, _ = await asyncio.wait([stopping], timeout=REBALANCE_STOP_WITHIN_S)
            assert done, f"stop() still waiting after {REBALANCE_STOP_WITHIN_S}s (a deadlock)"
            stopping.result()
            print(f"stopped in {time.monotonic() - started:.2f}s")
            assert running.task.exception() is None
        finally:
            if stopping is not None and not stopping.done():
                stopping.cancel()
            for member, poller in members:
                poller.cancel()
                await asyncio.gather(poller, return_exceptions=True)
                await member.stop()
            await running.web.web.stop()
            await running.redis.aclose()
