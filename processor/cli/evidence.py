"""``python -m processor evidence +15551234567 [--gateway G] [--format table|json|csv]``: a
phone's full consent history with its evidence, read from ``sms.consent-events``.

The document a compliance officer hands over in a dispute: every opt-in, opt-out, pending and
expiry of the phone, oldest first, each with what made it (the phone's exact opt-in or
opt-out words, our number it texted, the carrier's message id and time; or the command, its
id and actor). Reads every committed event (read_committed) of every partition up to the end
offsets taken when it starts: the worker writes a phone's events on its inputs' partition,
which a producer with another partitioner may have chosen, so no partition is skipped. How
long events are kept is the topic's retention (``CG_EVIDENCE_RETENTION_DAYS``).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from collections.abc import Iterable, Sequence

import msgspec
import phonenumbers
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from processor import codec
from processor.adapters.kafka.clients import kafka_client_options
from processor.domain.models.outputs import ConsentEvent
from processor.settings import Settings, SettingsError
from processor.topics import Topic

HEADERS = ("occurred_at", "gateway", "keyword", "from", "to", "source", "detail", "actor",
           "text", "gateway_number", "received_at", "message_id", "command_id", "event_id",
           "version")


def e164(text: str) -> str:
    """The phone as the topics key it; ValueError when it is not a phone number."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{text!r} is not an international phone number (+<country> ...): "
                         f"{exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


async def read_history(settings: Settings, phone: str,
                       gateway: str | None = None) -> list[ConsentEvent]:
    """The phone's committed consent events (of one gateway, or all), oldest first."""
    name = settings.topics(Topic.CONSENT_EVENTS)
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        described = await admin.describe_topics([name])
    finally:
        await admin.close()
    parts = described[0].get("partitions", []) if described else []
    if not parts:
        raise LookupError(f"topic {name} does not exist")
    partitions = [TopicPartition(name, p["partition"]) for p in parts]
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), auto_offset_reset="earliest",
                                isolation_level="read_committed", enable_auto_commit=False)
    await consumer.start()
    key = codec.encode_key(phone)
    events: list[ConsentEvent] = []
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, starts[tp])
        pending = [tp for tp in partitions if starts[tp] < ends[tp]]
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000)
            for records in batch.values():
                events.extend(codec.decode_consent_event(r.value) for r in records
                              if r.key == key and r.value is not None)
            pending = [tp for tp in pending if await consumer.position(tp) < ends[tp]]
    finally:
        await consumer.stop()
    chosen = [e for e in events if gateway is None or e.gateway == gateway]
    # A phone's events are on one partition in the order they were decided; should its
    # producers have moved it between partitions, their times order the parts (a stable sort
    # keeps the topic's order among events of one decision).
    return sorted(chosen, key=lambda e: e.occurred_at)


def cells(event: ConsentEvent) -> list[str]:
    def time(ms: int | None) -> str:
        return "" if ms is None else codec.format_time(ms)

    return [time(event.occurred_at), event.gateway, event.keyword or "", event.previous_status,
            event.status, event.source, event.detail, event.actor or "",
            event.message_text or "", event.gateway_number or "", time(event.received_at),
            event.message_id or "", event.command_id or "", event.event_id, str(event.version)]


def render(phone: str, events: Sequence[ConsentEvent], fmt: str) -> str:
    """The history as ``table`` (for people), ``csv`` or ``json`` (the events as on the
    topic, in one array)."""
    if fmt == "json":
        return "[" + ",".join(codec.encode_consent_event(e).decode() for e in events) + "]"
    rows = [cells(e) for e in events]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADERS)
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    return table(phone, events)


def table(phone: str, events: Sequence[ConsentEvent]) -> str:
    """One block per change: what changed, then its evidence."""
    lines = [f"Consent history of {phone} ({len(events)} changes, from sms.consent-events)"]
    for event in events:
        scope = f" [{event.keyword}]" if event.keyword else ""
        lines.append("")
        lines.append(f"{codec.format_time(event.occurred_at)}  {event.gateway}{scope}: "
                     f"{event.previous_status} -> {event.status} ({event.source}), "
                     f"version {event.version}")
        lines.append(f"    detail:      {event.detail}")
        lines.extend(f"    {label + ':':12} {value}" for label, value in _evidence(event))
        lines.append(f"    event id:    {event.event_id}")
    return "\n".join(lines)


def _evidence(event: ConsentEvent) -> Iterable[tuple[str, str]]:
    if event.message_id is not None:
        received = codec.format_time(event.received_at) if event.received_at else "?"
        yield "text", (msgspec.json.encode(event.message_text).decode()
                       if event.message_text is not None else "(not kept: not an opt-in or "
                       "opt-out)")
        yield "sent to", event.gateway_number or "?"
        yield "received", received
        yield "message id", event.message_id
    if event.command_id is not None:
        yield "command id", event.command_id
    if event.actor is not None:
        yield "actor", event.actor
    if event.message_id is None and event.command_id is None and event.actor is None:
        yield "cause", event.cause_id + (" (timer)" if event.source == "expiry" else "")


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        phone = e164(args.phone)
    except (SettingsError, ValueError) as exc:
        print(f"evidence: {exc}", file=sys.stderr)
        return 2
    try:
        events = asyncio.run(read_history(settings, phone, args.gateway))
    except LookupError as exc:
        print(f"evidence: {exc}", file=sys.stderr)
        return 2
    print(render(phone, events, args.format))
    return 0
