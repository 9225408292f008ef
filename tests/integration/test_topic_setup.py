"""Topics the product creates: production replication by default, which a single broker
cannot give (a clear message, nothing created), and ``min.insync.replicas`` on every topic.
The command line says why it cannot create topics in one line, not a traceback."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from processor.adapters.kafka.topic_admin import TopicSetupError, create_topics, plan_topics
from processor.settings import Settings
from processor.topics import Topic
from tests.support.harness import settings_for
from tests.support.stack import KAFKA_BOOTSTRAP, REDIS_URL, ROOT, free_port_below_ephemeral, unique

pytestmark = pytest.mark.integration

ONE_BROKER_MESSAGE = (
    "cannot create topics with CG_REPLICATION_FACTOR=3: the cluster at {bootstrap} has 1 "
    "broker(s). On a single-broker development stack set CG_REPLICATION_FACTOR=1 and "
    "CG_MIN_INSYNC_REPLICAS=1 (deploy/local/common.sh does)")


async def test_the_default_replication_on_one_broker_fails_clearly_and_creates_nothing(
        kafka_admin: AIOKafkaAdminClient) -> None:
    prefix = unique("rf").replace("-", "") + "."
    settings = Settings.from_env({}, kafka_bootstrap=KAFKA_BOOTSTRAP, topic_prefix=prefix)
    assert (settings.replication_factor, settings.min_insync_replicas) == (3, 2)
    with pytest.raises(TopicSetupError) as refused:
        await create_topics(settings)
    assert str(refused.value) == ONE_BROKER_MESSAGE.format(bootstrap=KAFKA_BOOTSTRAP)
    assert [t for t in await kafka_admin.list_topics() if t.startswith(prefix)] == []


async def test_every_topic_gets_min_insync_replicas(kafka_admin: AIOKafkaAdminClient,
                                                    tmp_path: Path) -> None:
    prefix = unique("isr").replace("-", "") + "."
    settings = settings_for(prefix, tmp_path)
    assert {p.config["min.insync.replicas"] for p in plan_topics(
        Settings.from_env({}))} == {"2"}
    await create_topics(settings)
    try:
        names = [settings.topics(t) for t in Topic]
        (response,) = await kafka_admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, {"min.insync.replicas": None})
             for name in names])
        found = {}
        for resource in response.resources:
            error_code, _, _, name, entries = resource[:5]
            assert error_code == 0, resource
            for entry in entries:
                key, value, _, source = entry[:4]
                # Set on the topic itself (DYNAMIC_TOPIC_CONFIG = 1), not a broker default.
                found[name] = (key, value, source)
        assert found == dict.fromkeys(names, ("min.insync.replicas", "1", 1))
    finally:
        await kafka_admin.delete_topics([settings.topics(t) for t in Topic])


async def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "processor", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


def cli_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CG_")}
    env.update({"KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP, "REDIS_URL": REDIS_URL,
                "CG_TOPIC_PREFIX": unique("cli").replace("-", "") + ".",
                "CG_WEB_PORT": str(free_port_below_ephemeral()), "CG_LOG_FORMAT": "json"})
    env.update(values)
    return env


async def test_topics_create_says_in_one_line_why_it_cannot() -> None:
    code, out = await run_cli("topics", "create", env=cli_env())
    assert (code, out.strip()) == (
        2, "topics: " + ONE_BROKER_MESSAGE.format(bootstrap=KAFKA_BOOTSTRAP))

    nobody = f"127.0.0.1:{free_port_below_ephemeral()}"
    code, out = await run_cli("topics", "create", env=cli_env(KAFKA_BOOTSTRAP=nobody))
    assert (code, out.strip()) == (
        2, f"topics: kafka unreachable: {nobody}: connection refused (is the broker running, "
           f"on this port?)")

    code, out = await run_cli("topics", "create", env=cli_env(
        CG_KAFKA_SECURITY_PROTOCOL="SASL_SSL", CG_KAFKA_SASL_MECHANISM="SCRAM-SHA-512"))
    assert code == 2
    assert out.strip() == ("topics: CG_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs "
                           "CG_KAFKA_SASL_USERNAME and CG_KAFKA_SASL_PASSWORD")


async def test_the_worker_exits_with_one_clear_line_when_topics_cannot_be_made() -> None:
    code, out = await run_cli("run", env=cli_env())
    assert code == 2, out
    assert "Traceback" not in out
    assert ONE_BROKER_MESSAGE.format(bootstrap=KAFKA_BOOTSTRAP) in out
    assert '"event": "cannot start"' in out
