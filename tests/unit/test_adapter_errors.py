"""Adapters raise the product's own errors (processor.ports), never redis-py's or aiokafka's."""

from __future__ import annotations

import socket

import pytest
import redis.asyncio as aioredis
from aiokafka.errors import (
    KafkaConnectionError,
    MessageSizeTooLargeError,
    ProducerFenced,
    RecordTooLargeError,
)
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from processor.adapters.kafka.sink import sink_errors, translated
from processor.adapters.kafka.source import source_errors
from processor.adapters.redis_store import RedisConsentStore
from processor.ports import (
    OutputTooLargeError,
    SinkFencedError,
    SinkUnavailableError,
    SourceUnavailableError,
    StoreUnavailableError,
    StreamUnavailableError,
)


@pytest.mark.parametrize(("error", "expected"), [
    (ProducerFenced(), SinkFencedError),
    (MessageSizeTooLargeError(), OutputTooLargeError),
    (RecordTooLargeError(), OutputTooLargeError),
    (KafkaConnectionError("down"), SinkUnavailableError),
    (ConnectionResetError(), SinkUnavailableError),
])
def test_the_sink_raises_kafka_errors_as_the_ports(error: Exception,
                                                    expected: type[Exception]) -> None:
    assert isinstance(translated(error), expected)
    with pytest.raises(expected) as raised, sink_errors():
        raise error
    assert raised.value.__cause__ is error  # the library's error stays as the cause


def test_a_bug_is_not_made_a_retriable_error() -> None:
    error = ZeroDivisionError("a bug")
    assert translated(error) is error
    with pytest.raises(ZeroDivisionError), sink_errors():
        raise error


def test_the_source_raises_kafka_errors_as_the_ports() -> None:
    with pytest.raises(SourceUnavailableError, match="KafkaConnectionError: down"), \
            source_errors():
        raise KafkaConnectionError("down")
    assert issubclass(SourceUnavailableError, StreamUnavailableError)
    assert issubclass(SinkUnavailableError, StreamUnavailableError)


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_redis_store_raises_store_unavailable_when_redis_is_not_there() -> None:
    client = aioredis.Redis(host="127.0.0.1", port=unused_port(), socket_connect_timeout=1,
                            retry=Retry(NoBackoff(), retries=0))
    store = RedisConsentStore(client, "nowhere", retention_ms=1000)
    try:
        with pytest.raises(StoreUnavailableError, match="ConnectionError"):
            await store.load({"+12025550123": []})
        with pytest.raises(StoreUnavailableError):
            await store.progress(0)
    finally:
        await client.aclose()
