"""`python -m processor rebuild-state [--partition N]`: rebuild the consent store from Kafka.

Reads partition N (or every partition) of the compacted ``sms.consent-state`` topic and writes
every subscription into the consent store (Redis), then sets the store's progress to the
consumer group's committed offsets, so the workers trust it again. The worker does the same on
its own for the partitions it owns whenever it finds its store behind Kafka; this command is
for an operator who restores a Redis by hand, e.g. before starting the workers on a new one.

The workers of the group should be stopped: the command refuses while the group has members
(``--force`` overrides; a subscription newer in the store is never overwritten, but a running
worker would find the progress moved back and recover the partition again). Exit status: 0
rebuilt, 1 failed, 2 refused or unusable settings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import TextIO

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from processor.adapters.kafka.clients import kafka_client_options
from processor.adapters.kafka.recovery import RecoveryError, rebuild_partition
from processor.adapters.redis_store import RedisConsentStore
from processor.settings import Settings, SettingsError
from processor.topics import INPUT_TOPICS

# Group states in which no member consumes (DescribeGroups).
_IDLE_GROUP_STATES = {"Empty", "Dead", ""}


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.partition is not None and not 0 <= args.partition < settings.partitions:
        print(f"--partition must be in 0..{settings.partitions - 1}", file=sys.stderr)
        return 2
    return asyncio.run(rebuild(settings, args.partition, force=args.force, out=sys.stderr))


async def rebuild(settings: Settings, partition: int | None, *, force: bool,
                  out: TextIO) -> int:
    from processor.app import connect_redis

    committed, members = await _group(settings)
    if members and not force:
        print(f"the consumer group {settings.group_id!r} has {members} running member(s); "
              "stop the workers first (or pass --force)", file=out)
        return 2
    client = connect_redis(settings)
    store = RedisConsentStore(client, settings.redis_prefix,
                              retention_ms=settings.idempotency_retention_s * 1000,
                              cluster=settings.redis_cluster)
    numbers = range(settings.partitions) if partition is None else [partition]
    try:
        for number in numbers:
            bar = ProgressBar(f"partition {number}", out)
            started = time.monotonic()
            try:
                rebuilt = await rebuild_partition(settings, store, number, committed[number],
                                                  on_read=bar.update)
            except RecoveryError as exc:
                bar.done()
                print(f"partition {number}: {exc}", file=out)
                return 1
            bar.done()
            print(f"partition {number}: {rebuilt.subscriptions} subscriptions from "
                  f"{rebuilt.records} state records ({rebuilt.written} written) in "
                  f"{time.monotonic() - started:.1f}s; progress set to "
                  f"{dict(sorted(committed[number].items())) or 'nothing committed'}", file=out)
    finally:
        await client.aclose()
    return 0


async def _group(settings: Settings) -> tuple[dict[int, dict[str, int]], int]:
    """Per partition number, the group's committed offset of each input topic; and how many
    members the group has now."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        (described,) = await admin.describe_consumer_groups([settings.group_id])
        _, _, state, _, _, members, *_ = described.groups[0]
        offsets = await admin.list_consumer_group_offsets(settings.group_id)
    finally:
        await admin.close()
    names = {settings.topics(t): t.value for t in INPUT_TOPICS}
    committed: dict[int, dict[str, int]] = {n: {} for n in range(settings.partitions)}
    for tp, meta in offsets.items():
        if isinstance(tp, TopicPartition) and tp.topic in names and meta.offset >= 0:
            committed.setdefault(tp.partition, {})[names[tp.topic]] = meta.offset
    return committed, 0 if state in _IDLE_GROUP_STATES else len(members)


class ProgressBar:
    """One line on a terminal, redrawn; nothing but the final line elsewhere."""

    def __init__(self, label: str, out: TextIO, width: int = 30) -> None:
        self._label = label
        self._out = out
        self._width = width
        self._tty = out.isatty()
        self._last = ""

    def update(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = round(share * self._width)
        self._last = (f"{self._label}: [{'#' * filled}{'.' * (self._width - filled)}] "
                      f"{done}/{total} state records")
        if self._tty:
            self._out.write("\r" + self._last)
            self._out.flush()

    def done(self) -> None:
        if self._tty:
            self._out.write("\n")
        elif self._last:
            print(self._last, file=self._out)
