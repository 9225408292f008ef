"""Consent reports against the real broker: the faust table over sms.consent-events (only
committed events, rebuilt from its changelog after a restart) and the report command."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from processor import codec
from processor.domain.models.enums import ConsentSource, ConsentStatus
from processor.domain.models.outputs import ConsentEvent
from processor.ports import ManualClock
from processor.reports.counts import day_of, render
from processor.reports.from_topic import build_report, topic_partitions
from processor.reports.service import TABLE, ReportsApp, build_reports_app
from processor.settings import Settings
from processor.topics import Topic
from tests.support.harness import private_stack
from tests.support.stack import KAFKA_BOOTSTRAP

pytestmark = pytest.mark.integration

DAY = 86_400_000
# Noon UTC today: the events' records are stamped now by the broker, and the report command
# finds its first offsets by record time, so the events must be about now too.
NOW = (time.time_ns() // 1_000_000) // DAY * DAY + DAY // 2
TODAY, YESTERDAY, TEN_DAYS_AGO = (day_of(NOW - n * DAY) for n in (0, 1, 10))
NO, OUT, IN = ConsentStatus.NO_OPT_IN, ConsentStatus.OPT_OUT, ConsentStatus.OPT_IN


def event(phone: str, gateway: str, previous: ConsentStatus, status: ConsentStatus,
          source: ConsentSource, at: int) -> ConsentEvent:
    return ConsentEvent(event_id=str(uuid.uuid4()), phone=phone, gateway=gateway, keyword=None,
                        previous_status=previous, status=status, source=source, detail="test",
                        actor=None, cause_id=f"c-{uuid.uuid4().hex[:8]}", version=1,
                        occurred_at=at)


EVENTS = [
    event("+12025550143", "acme-main", NO, OUT, ConsentSource.KEYWORD, NOW - 1000),
    event("+12025550178", "acme-main", NO, OUT, ConsentSource.KEYWORD, NOW - 2000),
    event("+12025550116", "acme-main", OUT, IN, ConsentSource.KEYWORD, NOW - 3000),
    event("+12025550143", "acme-alerts", NO, IN, ConsentSource.IMPORT, NOW - DAY),
    event("+12025550199", "acme-alerts", NO, IN, ConsentSource.IMPORT, NOW - 10 * DAY),
]
# Written in a transaction that is aborted: a read_uncommitted consumer would count it.
ABORTED = [event("+12025550143", "acme-main", NO, OUT, ConsentSource.MANUAL, NOW - 500)]


async def publish(settings: Settings) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP,
                                transactional_id=f"{settings.topic_prefix}reports-test")
    await producer.start()
    topic = settings.topics(Topic.CONSENT_EVENTS)
    try:
        for batch, commit in ((EVENTS[:3], True), (ABORTED, False), (EVENTS[3:], True)):
            async with producer.transaction() if commit else _aborting(producer):
                for e in batch:
                    await producer.send(topic, codec.encode_consent_event(e),
                                        key=codec.encode_key(e.phone))
    finally:
        await producer.stop()


class _aborting:  # noqa: N801 (reads like producer.transaction())
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def __aenter__(self) -> None:
        await self.producer.begin_transaction()

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.abort_transaction()


async def end_offsets(topic: str) -> dict[TopicPartition, int]:
    partitions = await topic_partitions(KAFKA_BOOTSTRAP, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP)
    await consumer.start()
    try:
        offsets: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return offsets
    finally:
        await consumer.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    import asyncio

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.1)


async def get_json(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, json.loads(await response.text())


EXPECTED_7D = [
    [YESTERDAY, "acme-alerts", "No Opt-In", "Opt-In", "import", 1],
    [TODAY, "acme-main", "No Opt-In", "Opt-Out", "keyword", 2],
    [TODAY, "acme-main", "Opt-Out", "Opt-In", "keyword", 1],
]


def rows(body: dict[str, object]) -> list[list[object]]:
    return [[r["day"], r["gateway"], r["previous_status"], r["status"], r["source"],  # type: ignore[index]
             r["count"]] for r in body["rows"]]  # type: ignore[attr-defined,index]


async def started(settings: Settings) -> ReportsApp:
    reports = build_reports_app(settings, ManualClock(NOW))
    await reports.start()
    return reports


async def test_live_reports_count_committed_events_and_survive_a_restart(
        tmp_path: Path) -> None:
    async with private_stack(tmp_path, reports_port=free_port()) as stack:
        settings = stack.settings
        await publish(settings)
        url = f"http://127.0.0.1:{settings.reports_port}"
        reports = await started(settings)
        try:
            await wait_for(lambda: sum(n for _, n in reports.counts()) >= len(EVENTS), 60,
                           "the agent to count every committed event")
            status, body = await get_json(f"{url}/v1/reports?since=7d")
            assert status == 200
            assert rows(body) == EXPECTED_7D  # the aborted manual opt-out is not there
            status, body = await get_json(f"{url}/v1/reports?since=30d&gateway=acme-alerts")
            assert [r[0] for r in rows(body)] == [TEN_DAYS_AGO, YESTERDAY]
            status, body = await get_json(f"{url}/v1/reports?since=soon")
            assert status == 422
            async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
                metrics = await response.text()
            assert ('consent_gate_consent_transitions_total{gateway="acme-main",'
                    'previous_status="No Opt-In",source="keyword",status="Opt-Out"} 2.0'
                    in metrics)
        finally:
            await reports.stop()

        # A new process has an empty table; faust rebuilds it from the changelog topic, and
        # the committed offsets keep it from counting the events again.
        changelog = f"{reports.app.conf.id}-{TABLE}-changelog"
        assert changelog.startswith(settings.topic_prefix)  # deleted with the test's topics
        assert sum((await end_offsets(changelog)).values()) >= len(EXPECTED_7D)
        again = await started(settings)
        try:
            await wait_for(lambda: sum(n for _, n in again.counts()) >= len(EVENTS), 60,
                           "the table to be rebuilt from its changelog")
            status, body = await get_json(f"{url}/v1/reports?since=7d")
            assert rows(body) == EXPECTED_7D
            assert sorted(again.counts()) == sorted(reports.counts())
        finally:
            await again.stop()


async def test_the_report_command_counts_the_same_from_the_topic(tmp_path: Path) -> None:
    async with private_stack(tmp_path) as stack:
        await publish(stack.settings)
        result = await build_report(stack.settings, "7d", None, ManualClock(NOW))
        assert [[r.day, r.gateway, r.previous_status, r.status, r.source, r.count]
                for r in result.rows] == EXPECTED_7D
        table = render(result, "table")
        assert table.splitlines()[0].split() == ["day", "gateway", "from", "to", "source",
                                                 "count"]
        assert table.endswith(f"4 changes since {day_of(NOW - 7 * DAY)}")
        assert render(result, "csv").splitlines()[1] == \
            f"{YESTERDAY},acme-alerts,No Opt-In,Opt-In,import,1"
        assert json.loads(render(result, "json"))["rows"][0]["count"] == 1
        only = await build_report(stack.settings, "30d", "acme-alerts", ManualClock(NOW))
        assert [r.day for r in only.rows] == [TEN_DAYS_AGO, YESTERDAY]

        from processor.reports.chart import draw_chart

        chart = tmp_path / "chart.png"
        draw_chart(result, chart)
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
