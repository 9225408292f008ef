"""Creates the product's topics on the broker with the configured partition counts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from processor.adapters.kafka.clients import kafka_client_options
from processor.settings import Settings
from processor.topics import COMPACTED_TOPICS, INPUT_TOPICS, Topic

# The worker decides its three input topics in broker-time order
# (processor.adapters.kafka.partition_group): the broker, not each producer's clock, must
# stamp their records.
TIMESTAMP_TYPE = "message.timestamp.type"
BROKER_TIME = "LogAppendTime"
# DescribeConfigs: a value set on the topic itself (not a broker default).
_TOPIC_CONFIG_SOURCE = 1
RETENTION = "retention.ms"


def evidence_retention_ms(settings: Settings) -> str:
    """``retention.ms`` of sms.consent-events, the consent evidence (CG_EVIDENCE_RETENTION_DAYS)."""
    days = settings.evidence_retention_days
    return "-1" if days == -1 else str(days * 86_400_000)


class TopicSetupError(RuntimeError):
    """The topics cannot be made as the settings ask (retrying will not help)."""


class TopicLayoutError(TopicSetupError):
    """The topics on the broker differ from what the worker needs; the message says how."""


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
        if topic in INPUT_TOPICS:
            config[TIMESTAMP_TYPE] = BROKER_TIME
        if topic is Topic.CONSENT_EVENTS:
            config[RETENTION] = evidence_retention_ms(settings)
        plans.append(TopicPlan(settings.topics(topic), settings.partitions, config))
    return plans


async def create_topics(settings: Settings, *, fix_timestamps: bool = False) -> dict[str, str]:
    """Creates missing topics; returns {name: "created" | "exists" | "updated"}. Existing
    topics with a different partition count are reported as an error, never altered. An
    existing input topic stamped by producers (CreateTime) is an error too, unless
    `fix_timestamps` (the ``topics create`` command) switches it to broker time."""
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
                raise TopicLayoutError("topic layout differs from settings: " + "; ".join(wrong))
            inputs = [settings.topics(t) for t in INPUT_TOPICS]
            stamped = await producer_stamped(admin, [p.name for p in present if p.name in inputs])
            if stamped and not fix_timestamps:
                raise TopicLayoutError(
                    f"{', '.join(stamped)}: {TIMESTAMP_TYPE} is not {BROKER_TIME}. The worker "
                    "decides its input topics in broker-time order, so a send produced after a "
                    "STOP is decided after it; producer clocks cannot promise that. Run "
                    "`python -m processor topics create` (it sets the config, keeping the "
                    "topics' other settings) or kafka-configs.sh --alter --entity-type topics "
                    f"--entity-name <topic> --add-config {TIMESTAMP_TYPE}={BROKER_TIME}")
            for name in stamped:
                await set_broker_time(admin, name)
                outcome[name] = "updated"
            events = settings.topics(Topic.CONSENT_EVENTS)
            if fix_timestamps and events in existing:
                # `topics create` also brings the evidence's retention to the setting.
                wanted = evidence_retention_ms(settings)
                configs = await _topic_configs(admin, [events])
                if {e[0]: e[1] for e in configs[events]}.get(RETENTION) != wanted:
                    await alter_topic_config(admin, events, {RETENTION: wanted})
                    outcome[events] = "updated"
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


async def _topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, Any]:
    """DescribeConfigs per topic: {name: [(config, value, read only, source, ...)]}."""
    if not names:
        return {}
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
    found = {}
    for response in responses:
        for error_code, message, _, name, entries in response.resources:
            if error_code:
                raise RuntimeError(f"cannot read the config of {name}: "
                                   f"{for_code(error_code).__name__} {message or ''}".strip())
            found[name] = entries
    return found


async def producer_stamped(admin: AIOKafkaAdminClient, names: list[str]) -> list[str]:
    """The topics among `names` whose records carry the producer's time (CreateTime)."""
    configs = await _topic_configs(admin, names)
    return sorted(name for name, entries in configs.items()
                  if {e[0]: e[1] for e in entries}.get(TIMESTAMP_TYPE) != BROKER_TIME)


async def alter_topic_config(admin: AIOKafkaAdminClient, name: str,
                             changes: dict[str, str]) -> None:
    """Sets configs of a topic. AlterConfigs replaces a topic's whole configuration, so every
    value set on the topic itself is sent again with the changes."""
    (entries,) = (await _topic_configs(admin, [name])).values()
    kept = {e[0]: e[1] for e in entries if e[3] == _TOPIC_CONFIG_SOURCE}
    kept.update(changes)
    responses = await admin.alter_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name, kept)])
    for response in responses:
        for error_code, message, *_ in response.resources:
            if error_code:
                raise RuntimeError(f"cannot set {', '.join(changes)} on {name}: "
                                   f"{for_code(error_code).__name__} {message or ''}".strip())


async def set_broker_time(admin: AIOKafkaAdminClient, name: str) -> None:
    """Switches a topic to broker time."""
    await alter_topic_config(admin, name, {TIMESTAMP_TYPE: BROKER_TIME})
    # The broker applies the change a moment later; the worker checks it at start.
    deadline = asyncio.get_running_loop().time() + 10.0
    while await producer_stamped(admin, [name]):
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"{name}: {TIMESTAMP_TYPE} still not {BROKER_TIME} after 10s")
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
