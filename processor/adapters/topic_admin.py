"""Creates the product's topics on the broker with the configured partition counts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from processor.adapters.kafka_clients import kafka_client_options
from processor.settings import Settings
from processor.topics import COMPACTED_TOPICS, Topic


class TopicSetupError(RuntimeError):
    """The topics cannot be made as the settings ask (retrying will not help)."""


@dataclass(frozen=True, slots=True)
class TopicPlan:
    name: str
    partitions: int
    config: dict[str, str]


def plan_topics(settings: Settings) -> list[TopicPlan]:
    """Every topic keyed by phone gets the same partition count, so one phone's records land
    on the same partition number everywhere (the worker relies on this co-partitioning)."""
    plans = []
    for topic in Topic:
        config = {"min.insync.replicas": str(settings.min_insync_replicas)}
        if topic in COMPACTED_TOPICS:
            config["cleanup.policy"] = "compact"
        plans.append(TopicPlan(settings.topics(topic), settings.partitions, config))
    return plans


async def create_topics(settings: Settings) -> dict[str, str]:
    """Creates missing topics; returns {name: "created" | "exists"}. Existing topics with a
    different partition count are reported as an error, never altered."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        plans = plan_topics(settings)
        existing = set(await admin.list_topics())
        missing = [p for p in plans if p.name not in existing]
        outcome = {p.name: "exists" for p in plans if p.name in existing}
        if missing:
            await check_replication(admin, settings)
            new = [NewTopic(p.name, p.partitions, settings.replication_factor,
                            topic_configs=p.config) for p in missing]
            response = await admin.create_topics(new)
            raise_topic_errors(response)
            outcome.update({p.name: "created" for p in missing})
        await wait_for_leaders(admin, [p.name for p in plans])
        present = [p for p in plans if p.name in existing]
        if present:
            described = await admin.describe_topics([p.name for p in present])
            counts = {d["topic"]: len(d["partitions"]) for d in described}
            wrong = [f"{p.name} has {counts.get(p.name)} partitions, settings say {p.partitions}"
                     for p in present if counts.get(p.name) != p.partitions]
            if wrong:
                raise TopicSetupError("topic layout differs from settings: " + "; ".join(wrong))
        return outcome
    finally:
        await admin.close()


async def check_replication(admin: AIOKafkaAdminClient, settings: Settings) -> None:
    """Says in one line what to change when the cluster has fewer brokers than the topics
    need replicas (the broker's own answer is one error per topic)."""
    brokers = len((await admin.describe_cluster()).get("brokers", []))
    if brokers < settings.replication_factor:
        raise TopicSetupError(
            f"cannot create topics with CG_REPLICATION_FACTOR={settings.replication_factor}: "
            f"the cluster at {settings.kafka_bootstrap} has {brokers} broker(s). On a "
            f"single-broker development stack set CG_REPLICATION_FACTOR=1 and "
            f"CG_MIN_INSYNC_REPLICAS=1 (deploy/local/common.sh does)")


async def wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str],
                           timeout: float = 30.0) -> None:
    """Returns once every partition of the topics has a leader (new topics take a moment)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        described = await admin.describe_topics(names)
        if all(d.get("error_code", 0) == 0 and d.get("partitions")
               and all(p.get("leader", -1) >= 0 for p in d["partitions"]) for d in described):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"topics have no leaders after {timeout}s: {names}")
        await asyncio.sleep(0.1)


def raise_topic_errors(response: Any) -> None:
    """CreateTopics answers per topic; "already exists" is fine (another process won the race)."""
    problems = []
    for entry in response.topic_errors:
        topic, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else None
        if code not in (0, TopicAlreadyExistsError.errno):
            problems.append(f"{topic}: {for_code(code).__name__} {message or ''}".strip())
    if problems:
        raise TopicSetupError("could not create topics: " + "; ".join(problems))


async def delete_topics_with_prefix(settings: Settings, prefix: str) -> list[str]:
    """Deletes every topic whose name starts with ``prefix``; returns their names."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        names = [n for n in await admin.list_topics() if n.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
        return names
    finally:
        await admin.close()
