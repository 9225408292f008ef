"""Drives a real worker through real topics: a fresh topic prefix, group and Redis prefix per
test, inputs produced with aiokafka, outputs read back with a read_committed consumer."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.exceptions import ConnectionError as RedisConnectionError

from processor import codec
from processor.adapters.kafka.clients import kafka_client_options
from processor.adapters.kafka.topic_admin import create_topics, delete_topics_with_prefix
from processor.adapters.redis_keys import delete_keys
from processor.app import Running, start_worker
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.ports import Clock
from processor.settings import Settings
from processor.topics import Topic
from tests.support.stack import KAFKA_BOOTSTRAP, REDIS_URL, unique


def settings_for(prefix: str, tmp: Path, gateways: dict[str, Any] | None = None,
                 **overrides: Any) -> Settings:
    config = None
    if gateways is not None:
        config = tmp / f"{prefix}gateways.yaml"
        config.write_text(yaml.safe_dump(gateways))
    values: dict[str, Any] = {
        "kafka_bootstrap": KAFKA_BOOTSTRAP, "redis_url": REDIS_URL, "redis_prefix": prefix,
        # The local stack is one broker (the defaults are 3 and 2).
        "replication_factor": 1, "min_insync_replicas": 1,
        "topic_prefix": prefix, "group_id": f"{prefix}group", "partitions": 3,
        "gateways_file": config, "timer_interval_s": 0.2, "batch_timeout_ms": 20,
    }
    values.update(overrides)
    return Settings.from_env({}, **values)


def worker_env(settings: Settings, web_port: int) -> dict[str, str]:
    """The environment that makes ``python -m processor run`` use `settings`."""
    # Unknown CG_ variables are an error in the worker: inherit none of the caller's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CG_")}
    env.update(settings.to_env())
    env.update({"CG_WEB_PORT": str(web_port), "CG_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"})
    return env


@dataclass
class Stack:
    """Inputs in, committed outputs out, for one test's private topics."""

    settings: Settings
    producer: AIOKafkaProducer
    readers: dict[Topic, AIOKafkaConsumer] = field(default_factory=dict)
    seen: dict[Topic, list[Any]] = field(default_factory=dict)

    async def produce(self, topic: Topic, value: bytes | None, key: bytes | None,
                      partition: int | None = None) -> None:
        await self.producer.send_and_wait(self.settings.topics(topic), value, key=key,
                                          partition=partition)

    async def text(self, message: InboundMessage) -> None:
        await self.produce(Topic.INBOUND, codec.encode_inbound(message),
                           codec.encode_key(message.phone))

    async def send(self, request: SendRequest) -> None:
        await self.produce(Topic.SEND_REQUESTS, codec.encode_send_request(request),
                           codec.encode_key(request.phone))

    async def command(self, command: Command) -> None:
        await self.produce(Topic.COMMANDS, codec.encode_command(command),
                           codec.encode_key(command.phone))

    async def reader(self, topic: Topic) -> AIOKafkaConsumer:
        if topic not in self.readers:
            consumer = AIOKafkaConsumer(
                self.settings.topics(topic), **kafka_client_options(self.settings),
                auto_offset_reset="earliest", enable_auto_commit=False,
                isolation_level="read_committed")
            await consumer.start()
            self.readers[topic] = consumer
            self.seen[topic] = []
        return self.readers[topic]

    async def read(self, topic: Topic, count: int, timeout: float = 30.0,
                   key: bytes | None = None) -> list[Any]:
        """Waits until at least `count` records (with this key prefix, if given) were committed
        on `topic`; returns all of them seen so far, decoded."""
        consumer = await self.reader(topic)
        deadline = time.monotonic() + timeout

        def matching() -> list[Any]:
            return [r for r in self.seen[topic] if key is None or (r.key or b"").startswith(key)]

        while len(matching()) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.seen[topic].extend(records)
        return [codec.RECORD_FOR_TOPIC[topic].decode(r.value) for r in matching()]

    def seen_values(self, topic: Topic) -> list[Any]:
        """Every record read from `topic` so far, decoded."""
        return [codec.RECORD_FOR_TOPIC[topic].decode(r.value) for r in self.seen.get(topic, [])]

    async def settle(self, topic: Topic, quiet: float = 1.0) -> list[Any]:
        """Everything committed on `topic` once nothing new arrived for `quiet` seconds."""
        consumer = await self.reader(topic)
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                if records:
                    self.seen[topic].extend(records)
                    last = time.monotonic()
        return [codec.RECORD_FOR_TOPIC[topic].decode(r.value) for r in self.seen[topic]]

    async def close(self) -> None:
        for consumer in self.readers.values():
            await consumer.stop()
        await self.producer.stop()


@asynccontextmanager
async def private_stack(tmp: Path, gateways: dict[str, Any] | None = None,
                        **overrides: Any) -> AsyncIterator[Stack]:
    """Fresh topics (deleted afterwards) and a producer; no worker yet."""
    prefix = unique("t").replace("-", "") + "."
    settings = settings_for(prefix, tmp, gateways, **overrides)
    await create_topics(settings)
    producer = AIOKafkaProducer(**kafka_client_options(settings), acks="all",
                                enable_idempotence=True)
    await producer.start()
    stack = Stack(settings, producer)
    try:
        yield stack
    finally:
        await stack.close()
        await delete_topics_with_prefix(settings, prefix)
        if settings.redis_prefix == prefix:  # a prefix passed in is its owner's to delete
            client = aioredis.Redis.from_url(settings.redis_url)
            try:
                await delete_keys(client, f"{prefix}*")
            except RedisConnectionError:
                pass  # a test of an unreachable Redis: nothing was written there
            finally:
                await client.aclose()


@asynccontextmanager
async def running_worker(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Running]:
    running = await start_worker(settings, clock, with_web=False)
    try:
        await wait_until(lambda: bool(running.worker.slots), 30, "partitions assigned")
        yield running
    finally:
        await running.stop()


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)
