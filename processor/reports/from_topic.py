"""``python -m processor report --since 7d [--gateway G] [--format table|csv|json]
[--chart out.png]``: the consent report read straight from ``sms.consent-events``.

Reads every committed event (read_committed) from the first offset at or after the start
time to the end offsets taken when it starts, and counts them as the live service does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from processor import codec
from processor.ports import Clock, SystemClock
from processor.reports.counts import Report, count_key, render, report, since_ms
from processor.settings import Settings, SettingsError
from processor.topics import Topic


async def topic_partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    parts = described[0].get("partitions", []) if described else []
    if not parts:
        raise LookupError(f"topic {topic} does not exist")
    return [TopicPartition(topic, p["partition"]) for p in parts]


async def count_from_topic(settings: Settings, since: int) -> Counter[str]:
    """Transition counts of the committed events that occurred at or after ``since``."""
    name = settings.topics(Topic.CONSENT_EVENTS)
    partitions = await topic_partitions(settings.kafka_bootstrap, name)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                                isolation_level="read_committed", enable_auto_commit=False)
    await consumer.start()
    counts: Counter[str] = Counter()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.offsets_for_times(dict.fromkeys(partitions, since))
        pending = []
        for tp in partitions:
            found = starts.get(tp)
            start = found.offset if found is not None else ends[tp]
            consumer.seek(tp, start)
            if start < ends[tp]:
                pending.append(tp)
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    event = codec.decode_consent_event(record.value)
                    if event.occurred_at >= since:  # record time and event time may differ
                        counts[count_key(event)] += 1
            pending = [tp for tp in pending if await consumer.position(tp) < ends[tp]]
        return counts
    finally:
        await consumer.stop()


async def build_report(settings: Settings, since_text: str, gateway: str | None,
                       clock: Clock | None = None) -> Report:
    since = since_ms(since_text, (clock or SystemClock()).now_ms())
    return report(await count_from_topic(settings, since), since=since, gateway=gateway)


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        since_ms(args.since, 0)
    except (SettingsError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    result = asyncio.run(build_report(settings, args.since, args.gateway))
    print(render(result, args.format))
    if args.chart:
        from processor.reports.chart import draw_chart

        draw_chart(result, Path(args.chart))
        print(f"chart: {args.chart}", file=sys.stderr)
    return 0
