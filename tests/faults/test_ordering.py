"""A send produced after a STOP is decided after it, however far behind the worker is.

The worker is stopped (a deploy, a crash, a rebalance) while ``sms.inbound`` partition 0 holds a
backlog of ordinary chat. For fresh phones a STOP (or a manual opt-out command) is produced, and
once the broker acknowledged it, a send request to the same phone. When the worker starts, the
send requests sit in a short topic and the opt-outs behind thousands of records of another:
merging by time inside one fetched batch cannot help, because the opt-out has not been fetched
yet. The worker must decide the three input topics of a partition number in broker-time order
across batches, so every one of these sends is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from processor import codec
from processor.domain.gateways.config import MANUAL_PERMISSION
from processor.domain.models.enums import CommandType, SendDebug, SendKind, SendStatus
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.topics import Topic
from tests.faults.conftest import WorkerLauncher, wait_for
from tests.support.harness import Stack, private_stack, running_worker

pytestmark = pytest.mark.faults

NOW = 1_800_000_000_000
BACKLOG = 20_000  # about 6 MB of chat: more than one fetch of a partition (4 MB) holds
PAIRS = 40  # phones that opt out and are then sent to: half by STOP, half by command


def chat(n: int) -> InboundMessage:
    return InboundMessage(message_id=f"chat-{n}", phone=f"+1202555{n % 3000:04d}", to="12345",
                          gateway="gw1", body=f"hello there, this is ordinary chat number {n}",
                          received_at=NOW)


def opted_out_phone(n: int) -> str:
    return f"+1212555{n:04d}"


async def queue_backlog_and_opt_outs(stack: Stack, pairs: int = PAIRS) -> list[str]:
    """Queues the backlog, then per phone an opt-out and (once acknowledged) a send to it, all
    on partition 0; returns the request ids, every one of which must be refused."""
    topics = stack.settings.topics
    deliveries = [await stack.producer.send(topics(Topic.INBOUND), codec.encode_inbound(m),
                                            key=codec.encode_key(m.phone), partition=0)
                  for m in map(chat, range(BACKLOG))]
    await asyncio.gather(*deliveries)
    request_ids = []
    for n in range(pairs):
        phone = opted_out_phone(n)
        key = codec.encode_key(phone)
        if n % 2 == 0:
            stop = InboundMessage(message_id=f"stop-{n}", phone=phone, to="12345", gateway="gw1",
                                  body="STOP", received_at=NOW)
            await stack.produce(Topic.INBOUND, codec.encode_inbound(stop), key, partition=0)
        else:
            command = Command(command_id=f"out-{n}", type=CommandType.MANUAL_OPT_OUT,
                              phone=phone, actor="agent@acme.example", created_at=NOW,
                              gateway="gw1", permissions=(MANUAL_PERMISSION,))
            await stack.produce(Topic.COMMANDS, codec.encode_command(command), key, partition=0)
        # Only once the broker acknowledged the opt-out is the send produced.
        request = SendRequest(request_id=f"after-out-{n}", phone=phone, gateway="gw1",
                              body="Our spring sale starts now", kind=SendKind.ONE_TO_ONE,
                              requested_by="alice@acme.example", created_at=NOW)
        await stack.produce(Topic.SEND_REQUESTS, codec.encode_send_request(request), key,
                            partition=0)
        request_ids.append(request.request_id)
    return request_ids


def forwarded_after_opt_out(results: Sequence[object], request_ids: Sequence[str]) -> list[str]:
    """Request ids that were forwarded (each must be refused as Previous Opt-out)."""
    by_id = {r.request_id: r for r in results}  # type: ignore[attr-defined]
    missing = [i for i in request_ids if i not in by_id]
    assert not missing, f"no result for {missing[:5]}"
    wrong = [i for i in request_ids
             if (by_id[i].status, by_id[i].debug) != (SendStatus.ERROR,
                                                      SendDebug.PREVIOUS_OPT_OUT)]
    return [f"{i}: {by_id[i].status} {by_id[i].debug}" for i in wrong]


@pytest.mark.parametrize("run", range(3))
async def test_a_send_after_an_opt_out_is_refused_when_the_worker_starts_behind(
        tmp_path: Path, run: int) -> None:
    async with private_stack(tmp_path, partitions=2) as stack:
        request_ids = await queue_backlog_and_opt_outs(stack)
        async with running_worker(stack.settings):
            results = await stack.read(Topic.SEND_RESULTS, PAIRS, timeout=120)
        assert forwarded_after_opt_out(results, request_ids) == []


async def test_a_send_after_an_opt_out_is_refused_across_a_rebalance(
        tmp_path: Path, workers: WorkerLauncher) -> None:
    async with private_stack(tmp_path, partitions=2, session_timeout_ms=6000) as stack:
        request_ids = await queue_backlog_and_opt_outs(stack)
        first = await workers.start(stack.settings, "w1")
        await first.wait_ready()
        # A second member joins while the first works through the backlog: partition 0 may
        # move in the middle of it, and its new owner starts behind as well.
        second = await workers.start(stack.settings, "w2")
        await wait_for(lambda: first.logged("partitions revoked"), 60, "the rebalance")
        await second.wait_ready()
        results = await stack.read(Topic.SEND_RESULTS, PAIRS, timeout=120)
        assert forwarded_after_opt_out(results, request_ids) == []
        first.check_alive()
        second.check_alive()
