"""``python -m processor evidence``: a phone's consent history with its evidence, read from
sms.consent-events (real broker, Redis and worker), and the evidence's retention setting on
the topic."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from pathlib import Path

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from processor.adapters.kafka.topic_admin import create_topics
from processor.cli.evidence import e164, read_history, render
from processor.domain.gateways.config import MANUAL_PERMISSION
from processor.domain.models.enums import CommandType, ConsentSource
from processor.domain.models.inputs import Command, InboundMessage
from processor.topics import Topic
from tests.support.harness import private_stack, running_worker, settings_for
from tests.support.stack import KAFKA_BOOTSTRAP, ROOT, unique

pytestmark = pytest.mark.integration

ANA, BEN = "+12025550143", "+12025550178"
T = 1_800_000_000_000
GATEWAYS = {"defaults": {"brand": "Acme"},
            "gateways": {"main": {"mode": "default"}, "alerts": {"mode": "double_opt_in"}}}


async def test_the_history_of_a_phone_with_its_evidence(tmp_path: Path) -> None:
    async with private_stack(tmp_path, GATEWAYS) as stack, running_worker(stack.settings):
        await stack.text(InboundMessage(message_id="SM-1", phone=ANA, to="+12025550100",
                                        gateway="main", body="Stop texting me PLEASE",
                                        received_at=T))
        await stack.text(InboundMessage(message_id="SM-2", phone=BEN, to="22395",
                                        gateway="alerts", body="START", received_at=T))
        await stack.text(InboundMessage(message_id="SM-3", phone=ANA, to="22395",
                                        gateway="alerts", body="start", received_at=T + 1))
        await stack.command(Command(command_id="cmd-9", type=CommandType.MANUAL_OPT_OUT,
                                    phone=ANA, actor="jo@acme.example", created_at=T,
                                    gateway="alerts", permissions=(MANUAL_PERMISSION,)))
        await stack.read(Topic.CONSENT_EVENTS, 4)

        history = await read_history(stack.settings, ANA)
        assert [(e.gateway, e.status, e.source, e.message_text, e.command_id)
                for e in history] == [
            ("main", "Opt-Out", ConsentSource.KEYWORD, "Stop texting me PLEASE", None),
            ("alerts", "Opt-In Pending", ConsentSource.KEYWORD, "start", None),
            ("alerts", "Opt-Out", ConsentSource.MANUAL, None, "cmd-9")]
        assert (history[0].gateway_number, history[0].received_at, history[0].message_id) == (
            "+12025550100", T, "SM-1")
        assert [e.gateway for e in await read_history(stack.settings, ANA, "main")] == ["main"]

        table = render(ANA, history, "table")
        assert f"Consent history of {ANA} (3 changes" in table
        assert 'text:        "Stop texting me PLEASE"' in table
        assert "command id:  cmd-9" in table
        assert "actor:       jo@acme.example" in table
        rows = list(csv.DictReader(io.StringIO(render(ANA, history, "csv"))))
        assert [r["text"] for r in rows] == ["Stop texting me PLEASE", "start", ""]
        assert rows[0]["received_at"] == "2027-01-15T08:00:00.000Z"

        # The command line: the same history, as JSON records of the topic.
        env = {k: v for k, v in os.environ.items() if not k.startswith("CG_")}
        env.update({"KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP,
                    "CG_TOPIC_PREFIX": stack.settings.topic_prefix})
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "processor", "evidence", "+1 (202) 555-0143", "--format",
            "json", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(child.communicate(), 60)
        assert child.returncode == 0, stderr
        records = orjson.loads(stdout)
        assert [(r["gateway"], r["message_text"], r["command_id"]) for r in records] == [
            ("main", "Stop texting me PLEASE", None), ("alerts", "start", None),
            ("alerts", None, "cmd-9")]
        assert all(r["phone"] == ANA for r in records)


def test_a_phone_that_is_not_one_is_refused() -> None:
    assert e164("+1 (202) 555-0143") == ANA
    for text in ("2025550143", "+1555", "hello"):
        with pytest.raises(ValueError, match="phone number"):
            e164(text)


def _retention(entries: list[tuple[object, ...]]) -> object:
    return {e[0]: e[1] for e in entries}["retention.ms"]


async def test_the_evidence_is_kept_as_long_as_the_setting_says(
        kafka_admin: AIOKafkaAdminClient, tmp_path: Path) -> None:
    prefix = unique("ret").replace("-", "") + "."
    settings = settings_for(prefix, tmp_path, evidence_retention_days=400)
    await create_topics(settings)
    name = settings.topics(Topic.CONSENT_EVENTS)

    async def retention() -> object:
        (response,) = await kafka_admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, {"retention.ms": None})])
        return _retention(response.resources[0][4])

    try:
        assert await retention() == str(400 * 86_400_000)
        # The worker leaves an existing topic as it is; `topics create` brings it to the
        # setting, keeping the topic's other settings.
        forever = settings.replace(evidence_retention_days=-1)
        await create_topics(forever)
        assert await retention() == str(400 * 86_400_000)
        outcome = await create_topics(forever, fix_timestamps=True)
        assert outcome[name] == "updated"
        for _ in range(100):  # the broker applies it a moment later
            if await retention() == "-1":
                break
            await asyncio.sleep(0.1)
        assert await retention() == "-1"
        (response,) = await kafka_admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, {"min.insync.replicas": None})])
        assert {e[0]: e[1] for e in response.resources[0][4]}["min.insync.replicas"] == "1"
    finally:
        await kafka_admin.delete_topics([settings.topics(t) for t in Topic])
