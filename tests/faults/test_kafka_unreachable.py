"""Kafka unreachable when the worker starts: it does not exit with a traceback; it serves
/healthz and a /readyz that says why it is not ready, retries with backoff, and starts
normally once a broker appears on that address (a private broker, started late)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from processor.adapters.kafka.clients import kafka_client_options
from processor.topics import Topic
from tests.faults.conftest import WorkerLauncher, wait_for
from tests.support.consent_helpers import send
from tests.support.harness import Stack, settings_for
from tests.support.private_kafka import launch_private_kafka, prepare_private_kafka
from tests.support.stack import free_port_below_ephemeral, unique

pytestmark = pytest.mark.faults

# Long enough for several attempts at the start-up backoff (after 0.5, 1.5, 3.5 s).
RETRYING_SECONDS = 5.0


async def test_a_worker_started_before_kafka_waits_not_ready_and_starts_when_it_appears(
        tmp_path: Path, workers: WorkerLauncher) -> None:
    port = free_port_below_ephemeral()  # nothing listens here yet
    bootstrap = f"127.0.0.1:{port}"
    settings = settings_for(unique("t").replace("-", "") + ".", tmp_path,
                            kafka_bootstrap=bootstrap)
    worker = await workers.start(settings)

    async def unreachable() -> list[str] | None:
        answer = await worker.readyz()
        return answer[1]["problems"] if answer and answer[0] == 503 and \
            answer[1]["problems"] != ["connecting to kafka"] else None

    problems = await wait_for(unreachable, 30, "/readyz to say why")
    assert problems == [f"kafka unreachable: {bootstrap}: connection refused (is the broker "
                        f"running, on this port?)"]
    retrying_until = time.monotonic() + RETRYING_SECONDS
    # Meanwhile the broker's storage is formatted (its own JVM, a few seconds); nothing
    # listens on the port until it is launched.
    kafka = prepare_private_kafka(tmp_path / "kafka", listeners=(), ports={"PLAINTEXT": port})
    await asyncio.sleep(max(0.0, retrying_until - time.monotonic()))
    worker.check_alive()
    assert (await worker.readyz() or (0, {}))[0] == 503
    complaints = [line for line in worker.log_lines() if line.get("level") in {"error", "warning"}]
    assert [(c["level"], c["event"], c["reason"]) for c in complaints] == [
        ("warning", "kafka not available; retrying", problems[0])], complaints

    try:
        await launch_private_kafka(kafka)
        await worker.wait_ready(timeout=60)
        producer = AIOKafkaProducer(**kafka_client_options(settings), acks="all",
                                    enable_idempotence=True)
        await producer.start()
        stack = Stack(settings, producer)
        try:
            await stack.send(send("gw1", request_id="r-1"))
            assert [r.request_id for r in await stack.read(Topic.SEND_RESULTS, 1)] == ["r-1"]
        finally:
            await stack.close()
        await worker.terminate()
    finally:
        await kafka.stop()
    assert "Traceback" not in worker.log_path.read_text(errors="replace")
