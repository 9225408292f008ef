"""Stopping a worker while its group rebalances must not hang.

Found in review: stop() held the worker lock while aiokafka's close() waited for the group's
coordination task, and that task waited in the assignment callback for the same lock.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor

from processor.app import start_worker
from processor.settings import Settings
from processor.topics import INPUT_TOPICS
from tests.support.harness import private_stack, wait_until
from tests.support.stack import KAFKA_BOOTSTRAP

pytestmark = pytest.mark.faults


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
        try:
            await wait_until(lambda: bool(running.worker.slots), 30, "assignment")
            members.append(await join(stack.settings, SlowToRejoin()))
            await wait_until(lambda: len(running.worker.slots) < 3, 60, "a shared group")
            running.worker.request_stop()
            await running.task  # the worker's loop is done, its consumer is still a member
            members.append(await join(stack.settings))  # a rebalance the slow member delays
            await asyncio.sleep(4)  # the worker has revoked and waits to rejoin
            await asyncio.wait_for(running.worker.stop(), 45)
        finally:
            for member, poller in members:
                poller.cancel()
                await asyncio.gather(poller, return_exceptions=True)
                await member.stop()
            await running.web.web.stop()
            await running.redis.aclose()
