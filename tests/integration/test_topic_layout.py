"""The topics the worker needs: co-partitioned inputs stamped with broker time."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from processor.adapters.kafka.topic_admin import (
    BROKER_TIME,
    TIMESTAMP_TYPE,
    TopicLayoutError,
    _topic_configs,
    create_topics,
)
from processor.app import start_worker
from processor.topics import INPUT_TOPICS, Topic
from tests.support.harness import settings_for
from tests.support.stack import unique, wait_for_leaders_of

pytestmark = pytest.mark.integration


async def configs_of(admin: AIOKafkaAdminClient, name: str) -> dict[str, str]:
    (entries,) = (await _topic_configs(admin, [name])).values()
    return {e[0]: e[1] for e in entries}


async def test_input_topics_are_created_with_broker_time(
        tmp_path: Path, kafka_admin: AIOKafkaAdminClient) -> None:
    prefix = unique("layout").replace("-", "") + "."
    settings = settings_for(prefix, tmp_path)
    try:
        await create_topics(settings)
        for topic in Topic:
            stamped = (await configs_of(kafka_admin, settings.topics(topic)))[TIMESTAMP_TYPE]
            assert (stamped == BROKER_TIME) == (topic in INPUT_TOPICS), topic
    finally:
        await kafka_admin.delete_topics([settings.topics(t) for t in Topic])


async def test_an_input_topic_stamped_by_producers_stops_the_worker_until_it_is_fixed(
        tmp_path: Path, kafka_admin: AIOKafkaAdminClient) -> None:
    prefix = unique("layout").replace("-", "") + "."
    settings = settings_for(prefix, tmp_path)
    inbound = settings.topics(Topic.INBOUND)
    # Created elsewhere, with producer time and a retention of its own.
    await kafka_admin.create_topics([NewTopic(inbound, settings.partitions, 1, topic_configs={
        "retention.ms": "3600000"})])
    await wait_for_leaders_of(kafka_admin, [inbound])
    try:
        with pytest.raises(TopicLayoutError, match=f"{inbound}: {TIMESTAMP_TYPE} is not "
                                                   f"{BROKER_TIME}.*topics create"):
            await start_worker(settings, with_web=False)
        # `python -m processor topics create` fixes it and keeps the topic's own settings.
        outcome = await create_topics(settings, fix_timestamps=True)
        assert outcome[inbound] == "updated"
        configs = await configs_of(kafka_admin, inbound)
        assert (configs[TIMESTAMP_TYPE], configs["retention.ms"]) == (BROKER_TIME, "3600000")
        assert (await create_topics(settings))[inbound] == "exists"
    finally:
        await kafka_admin.delete_topics([settings.topics(t) for t in Topic])
