"""Fixtures for the real stack that `make test` starts (deploy/local/up.sh).

Integration and fault tests FAIL when the broker or Redis is missing; nothing here skips.
Each test gets fresh topic names and a fresh Redis key prefix, and a failing test that used the
broker gets the broker log tail attached to its report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient

from processor.adapters.redis_keys import delete_keys
from tests.support.private_kafka import PrivateKafka
from tests.support.stack import (
    broker_log_tail,
    create_topic,
    unique,
    wait_for_kafka,
    wait_for_redis,
)

# A failing test that used the broker gets the broker log tail in its report.
KAFKA_FIXTURES = {"kafka_admin", "new_topic", "stack"}


@pytest.fixture(scope="session")
async def kafka_admin() -> AsyncIterator[AIOKafkaAdminClient]:
    admin = await wait_for_kafka()
    yield admin
    await admin.close()


@pytest.fixture(scope="session")
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = await wait_for_redis()
    yield client
    await client.aclose()


NewTopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def new_topic(kafka_admin: AIOKafkaAdminClient,
                    request: pytest.FixtureRequest) -> AsyncIterator[NewTopicFactory]:
    """Creates topics with fresh names for this test; deletes them afterwards."""
    created: list[str] = []

    async def make(label: str = "t", partitions: int = 1,
                   config: dict[str, str] | None = None) -> str:
        name = unique(f"{request.node.name[:40]}-{label}".replace("[", "-").replace("]", ""))
        await create_topic(kafka_admin, name, partitions, config)
        created.append(name)
        return name

    yield make
    if created:
        await kafka_admin.delete_topics(created)


@pytest.fixture
async def redis_prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    """A fresh key prefix; every key under it is deleted after the test."""
    prefix = unique("test")
    yield prefix
    await delete_keys(redis_client, f"{prefix}*")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.failed and KAFKA_FIXTURES & set(getattr(item, "fixturenames", ())):
        report.sections.append(("Kafka broker log (tail)", broker_log_tail()))
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, PrivateKafka):
                report.sections.append(("private Kafka broker log (tail)", value.log_tail()))
    return report
