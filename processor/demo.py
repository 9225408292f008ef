"""``python -m processor demo``: a scripted conversation through the real stack.

Starts the worker on private topics (a fresh prefix), plays the conversation one input at a
time, waiting for each input's committed outputs, prints what happened, then the consent
events and send results as tables, and removes its topics and Redis keys.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from msgspec.structs import replace

from processor import codec
from processor.adapters.kafka_clients import kafka_client_options
from processor.adapters.redis_keys import delete_keys
from processor.adapters.topic_admin import delete_topics_with_prefix
from processor.app import start_worker
from processor.domain.gateways import MANUAL_PERMISSION
from processor.domain.models import (
    Command,
    CommandType,
    ConsentEvent,
    InboundMessage,
    SendKind,
    SendRequest,
    SendResult,
)
from processor.logs import configure_logging
from processor.settings import Settings
from processor.topics import Topic

DEMO_GATEWAYS = Path(__file__).resolve().parent.parent / "deploy" / "demo" / "gateways.yaml"
ANA, BEN, CARA = "+12025550143", "+12025550178", "+12025550116"


@dataclass(frozen=True)
class Wait:
    """Lets the wall clock run (a confirmation window closes meanwhile)."""

    seconds: float


Step = tuple[str, InboundMessage | SendRequest | Command | Wait]


def script(now: Callable[[], int]) -> list[Step]:
    """The conversation; ``now`` stamps each input when it is played."""
    def text(phone: str, gateway: str, body: str) -> InboundMessage:
        return InboundMessage(message_id=f"mo-{uuid.uuid4().hex[:8]}", phone=phone,
                              to="+12025550100", gateway=gateway, body=body, received_at=now())

    def send(phone: str, gateway: str, body: str, by: str = "marketing-app") -> SendRequest:
        return SendRequest(request_id=f"req-{uuid.uuid4().hex[:8]}", phone=phone,
                           gateway=gateway, body=body, kind=SendKind.ONE_TO_ONE,
                           requested_by=by, created_at=now())

    def manual_opt_in(phone: str, gateway: str) -> Command:
        return Command(command_id=f"cmd-{uuid.uuid4().hex[:8]}", type=CommandType.MANUAL_OPT_IN,
                       phone=phone, actor="jo@acme.example", created_at=now(), gateway=gateway,
                       permissions=(MANUAL_PERMISSION,))

    return [
        ("Default mode: the app texts Ana", send(ANA, "acme-main", "Your order has shipped")),
        ("Ana texts STOP", text(ANA, "acme-main", "STOP")),
        ("The app texts Ana again", send(ANA, "acme-main", "20% off today only")),
        ("An agent tries to opt Ana back in", manual_opt_in(ANA, "acme-main")),
        ("Ana texts HELP (answered even while opted out)", text(ANA, "acme-main", "HELP")),
        ("Ana texts START", text(ANA, "acme-main", "START")),
        ("The app texts Ana again", send(ANA, "acme-main", "Welcome back!")),
        ("Double opt-in: Ben texts START to 22395", text(BEN, "acme-alerts", "START")),
        ("Ben answers YES inside the window", text(BEN, "acme-alerts", "YES")),
        ("Cara texts START to 22395", text(CARA, "acme-alerts", "START")),
        ("... and does not answer (the 4 s window closes)", Wait(5.0)),
        ("Cara's YES comes too late", text(CARA, "acme-alerts", "yes")),
        ("Consent request: Dana's app texts Cara", send(CARA, "acme-advisors",
                                                        "Hi Cara, about your portfolio",
                                                        by="dana@acme.example")),
        ("Dana sends a second message", send(CARA, "acme-advisors", "Call me when you can",
                                             by="dana@acme.example")),
        ("Cara replies YES: both held messages go out", text(CARA, "acme-advisors", "Yes")),
    ]


OUTPUTS = (Topic.CONSENT_EVENTS, Topic.SEND_RESULTS, Topic.OUTBOUND, Topic.COMMAND_RESULTS,
           Topic.NOTICES)


class Outputs:
    """Committed output records (read_committed), gathered as they arrive."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.consumer = AIOKafkaConsumer(
            *(settings.topics(t) for t in OUTPUTS), **kafka_client_options(settings),
            auto_offset_reset="earliest", isolation_level="read_committed",
            enable_auto_commit=False)
        self.records: list[tuple[Topic, Any]] = []
        self._topics = {settings.topics(t): t for t in OUTPUTS}

    async def poll_until_quiet(self, quiet: float = 0.8, timeout: float = 30.0) -> list[
            tuple[Topic, Any]]:
        """The records that arrive until none has arrived for `quiet` seconds."""
        fresh: list[tuple[Topic, Any]] = []
        start = last = time.monotonic()
        while time.monotonic() - last < quiet and time.monotonic() - start < timeout:
            batch = await self.consumer.getmany(timeout_ms=100)
            for tp, records in batch.items():
                topic = self._topics[tp.topic]
                for record in records:
                    fresh.append((topic, codec.RECORD_FOR_TOPIC[topic].decode(record.value)))
                    last = time.monotonic()
        self.records.extend(fresh)
        return fresh


def describe(topic: Topic, record: Any) -> str:
    if topic is Topic.CONSENT_EVENTS:
        scope = f" [{record.keyword}]" if record.keyword else ""
        return (f"consent  {record.gateway}{scope}: {record.previous_status} -> "
                f"{record.status} ({record.detail})")
    if topic is Topic.SEND_RESULTS:
        why = f" / {record.debug}" if record.debug else ""
        return f"result   {record.status}{why}" + (f": {record.detail}" if record.detail else "")
    if topic is Topic.OUTBOUND:
        kind = f"auto reply ({record.reply_kind})" if record.auto_reply else "message"
        return f"outbound {kind}: {record.body!r}"
    if topic is Topic.NOTICES:
        return f"notice   to {record.recipient}: {record.body!r}"
    reason = f": {record.reason}" if record.reason else ""
    return f"command  {record.type} {record.result}{reason}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)


async def play(settings: Settings) -> int:
    running = await start_worker(settings, with_web=False)
    producer = AIOKafkaProducer(**kafka_client_options(settings), acks="all",
                                enable_idempotence=True)
    outputs = Outputs(settings)
    await producer.start()
    await outputs.consumer.start()
    try:
        await running.wait_serving(60)
        print(f"\nconsent-gate demo (topics {settings.topic_prefix}*)\n")

        def now() -> int:
            return time.time_ns() // 1_000_000

        for caption, step in script(now):
            print(f"> {caption}")
            if isinstance(step, Wait):
                await asyncio.sleep(step.seconds)
            else:
                stamped = _stamped(step, now())
                topic, value = _encode(stamped)
                await producer.send_and_wait(settings.topics(topic), value,
                                             key=codec.encode_key(stamped.phone))
            for topic, record in await outputs.poll_until_quiet():
                print(f"    {describe(topic, record)}")
        _print_tables(outputs.records)
        return 0
    finally:
        await outputs.consumer.stop()
        await producer.stop()
        await running.stop()


def _stamped(step: InboundMessage | SendRequest | Command,
             ms: int) -> InboundMessage | SendRequest | Command:
    """The input stamped with the time it is played (the script is written ahead)."""
    if isinstance(step, InboundMessage):
        return replace(step, received_at=ms)
    return replace(step, created_at=ms)


def _encode(step: InboundMessage | SendRequest | Command) -> tuple[Topic, bytes]:
    if isinstance(step, InboundMessage):
        return Topic.INBOUND, codec.encode_inbound(step)
    if isinstance(step, SendRequest):
        return Topic.SEND_REQUESTS, codec.encode_send_request(step)
    return Topic.COMMANDS, codec.encode_command(step)


def _print_tables(records: list[tuple[Topic, Any]]) -> None:
    events: list[ConsentEvent] = [r for t, r in records if t is Topic.CONSENT_EVENTS]
    results: list[SendResult] = [r for t, r in records if t is Topic.SEND_RESULTS]
    print("\nConsent events (sms.consent-events)\n")
    print(table(["phone", "gateway", "keyword", "from", "to", "source", "detail", "v"],
                [[e.phone, e.gateway, e.keyword or "", e.previous_status, e.status,
                  e.source, e.detail, str(e.version)] for e in events]))
    print("\nSend results (sms.send-results)\n")
    print(table(["request", "phone", "gateway", "status", "debug", "detail"],
                [[r.request_id, r.phone, r.gateway, r.status, r.debug or "", r.detail or ""]
                 for r in results]))
    print()


async def cleanup(settings: Settings) -> None:
    await delete_topics_with_prefix(settings, settings.topic_prefix)
    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        await delete_keys(client, f"{settings.redis_prefix}:*")
    finally:
        await client.aclose()


async def demo() -> int:
    run_id = uuid.uuid4().hex[:6]
    settings = Settings.from_env(
        topic_prefix=f"demo{run_id}.", group_id=f"demo{run_id}", redis_prefix=f"demo{run_id}",
        gateways_file=DEMO_GATEWAYS, timer_interval_s=0.2, batch_timeout_ms=20,
        log_level="warning")
    configure_logging(settings)
    # Fresh topics make aiokafka log transient leader elections as errors; not news here.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        return await play(settings)
    finally:
        await cleanup(settings)


def main() -> int:
    return asyncio.run(demo())
