"""Test helpers for the real stack: connection settings, readiness, topic/key hygiene."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
import uuid
from pathlib import Path

import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from processor.adapters.kafka.topic_admin import raise_topic_errors, wait_for_leaders
from processor.adapters.redis_connection import with_hiredis_packing

ROOT = Path(__file__).resolve().parents[2]
KAFKA_BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:19092")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:16379/0")
STACK_DIR = Path(os.environ.get("CG_STACK_DIR", ROOT / ".stack"))
BROKER_LOG = STACK_DIR / "kafka" / "logs" / "server.log"

for _address in (KAFKA_BOOTSTRAP, REDIS_URL):
    # Tests only ever talk to this machine.
    _host = _address.split("//")[-1].split(":")[0]
    if not (_host.startswith("127.") or _host in {"localhost", "[::1]"}):
        raise RuntimeError(f"tests target loopback only, refusing {_address}")


# Listening ports come from below the kernel's ephemeral range (32768-60999 on Linux), where
# an outgoing connection could take the port between our check and the broker's bind.
LOW_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def free_port_below_ephemeral() -> int:
    """A loopback port below 32768 nobody listens on now, not handed out before here."""
    for _ in range(200):
        port = random.choice(LOW_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port below 32768")


async def wait_for_port(port: int, timeout: float) -> None:
    """Returns once something accepts connections on the loopback port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout}s") \
                    from exc
            await asyncio.sleep(0.05)
        else:
            writer.close()
            await writer.wait_closed()
            return


def unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def broker_log_tail(lines: int = 60) -> str:
    try:
        with BROKER_LOG.open("rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 64_000))
            return "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no broker log at {BROKER_LOG}: {exc})"


async def wait_for_kafka(timeout: float = 60.0) -> AIOKafkaAdminClient:
    """An admin client connected to the broker; raises (so the test FAILS) when none answers."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.describe_cluster()
            return admin
        except Exception as exc:
            last = exc
            await admin.close()
            await asyncio.sleep(0.5)
    raise RuntimeError(
        f"Kafka at {KAFKA_BOOTSTRAP} did not answer within {timeout}s ({last!r}). "
        "Start the stack with `make up` (make test does it for you)."
    )


async def wait_for_redis(timeout: float = 30.0) -> aioredis.Redis:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        # The worker's own connection options, so every store test runs its packing too.
        client = with_hiredis_packing(aioredis.Redis.from_url(REDIS_URL))
        try:
            await client.ping()
            return client
        except Exception as exc:
            last = exc
            await client.aclose()
            await asyncio.sleep(0.3)
    raise RuntimeError(
        f"Redis at {REDIS_URL} did not answer within {timeout}s ({last!r}). "
        "Start the stack with `make up` (make test does it for you)."
    )


async def create_topic(admin: AIOKafkaAdminClient, name: str, partitions: int,
                       config: dict[str, str] | None = None) -> None:
    response = await admin.create_topics([NewTopic(name, partitions, 1,
                                                   topic_configs=config or {})])
    raise_topic_errors(response)
    await wait_for_leaders_of(admin, [name])


async def wait_for_leaders_of(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Waits until the metadata shows every partition of the topics with a leader."""
    await wait_for_leaders(admin, names, timeout=5.0)
