"""``python -m processor import rows.csv --actor A``: a subscription import as commands.

Reads a CSV with the columns ``phone, gateway, keyword, status`` (MobileConnect/Mogli style:
``Subscribe``/``Active`` opts in where the phone never opted out, ``Unsubscribe`` opts out;
keyword may be empty), streams one ``import`` command per row onto ``sms.commands``, waits for
each command's result on ``sms.command-results`` (read_committed) and writes a results CSV
with one line per input row: ``applied``, ``rejected`` and the worker's reason, ``invalid`` and
why the row was never sent, or ``no result`` when none arrived in time.

Command ids are derived from the file's content, the actor and the row number, so importing
the same file again sends the same commands, which the worker answers with the same results
instead of deciding them twice.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from tqdm import tqdm

from processor import codec
from processor.domain.gateways.config import Gateways
from processor.domain.gateways.parsing import GatewayConfigError
from processor.domain.models.enums import CommandType, ImportStatus
from processor.domain.models.outputs import CommandResult
from processor.ingress.bodies import ApiCommandType, BodyError, CommandBody, command_record
from processor.ingress.tokens import Permission
from processor.settings import Settings, SettingsError, load_gateways
from processor.topics import Topic

COLUMNS = ("phone", "gateway", "keyword", "status")
RESULT_COLUMNS = ("row", "phone", "gateway", "keyword", "status", "command_id", "result",
                  "reason")
_SEND_CHUNK = 500


@dataclass
class Row:
    number: int  # 1 = the first line after the header
    phone: str
    gateway: str
    keyword: str
    status: str
    command_id: str = ""
    result: str = "no result"
    reason: str = ""


@dataclass
class ImportSummary:
    rows: list[Row] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for row in self.rows if row.result == result)


class ImportFileError(ValueError):
    """The file cannot be imported at all (no header, missing columns)."""


def read_rows(path: Path) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = {name.strip().lower(): name for name in reader.fieldnames or ()}
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ImportFileError(f"{path}: missing column(s) {', '.join(missing)} "
                                  f"(expected a header with {', '.join(COLUMNS)})")
        for number, raw in enumerate(reader, start=1):
            yield Row(number, *((raw.get(header[c]) or "").strip() for c in COLUMNS))


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _status(text: str) -> ImportStatus:
    for status in ImportStatus:
        if status.value.lower() == text.lower():
            return status
    raise BodyError(f"status: {text!r} is not one of "
                    f"{', '.join(s.value for s in ImportStatus)}")


async def import_rows(settings: Settings, path: Path, actor: str, *, timeout_s: float = 120.0,
                      progress: bool = True, gateways: Gateways | None = None) -> ImportSummary:
    """Sends every valid row as an import command and gathers the results."""
    gateways = gateways or load_gateways(settings.gateways_file)
    digest = await asyncio.to_thread(_digest, path)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all",
                                enable_idempotence=True, linger_ms=5)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                                isolation_level="read_committed", enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    summary = ImportSummary()
    try:
        results_topic = settings.topics(Topic.COMMAND_RESULTS)
        partitions = [TopicPartition(results_topic, p)
                      for p in sorted(await producer.partitions_for(results_topic))]
        consumer.assign(partitions)
        # Results of this run come after the current end; older ones are not ours to count.
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)
        waiting: dict[str, Row] = {}
        bar = tqdm(desc="import", unit="row", disable=not progress, file=sys.stderr)
        sends = []
        for row in read_rows(path):
            summary.rows.append(row)
            row.command_id = "import-" + hashlib.sha256(
                f"{digest}|{actor}|{row.number}".encode()).hexdigest()[:32]
            try:
                body = CommandBody(type=ApiCommandType.IMPORT, phone=row.phone,
                                   gateway=row.gateway or None, keyword=row.keyword or None,
                                   import_status=_status(row.status), command_id=row.command_id)
                command = command_record(body, command_id=row.command_id, actor=actor,
                                         permissions=frozenset({Permission.IMPORT.value}),
                                         now_ms=time.time_ns() // 1_000_000,
                                         regions=gateways.regions)
            except BodyError as exc:
                row.result, row.reason = "invalid", str(exc)
                bar.update()
                continue
            waiting[row.command_id] = row
            sends.append(await producer.send(settings.topics(Topic.COMMANDS),
                                             codec.encode_command(command),
                                             key=codec.encode_key(command.phone)))
            if len(sends) >= _SEND_CHUNK:
                await asyncio.gather(*sends)
                sends.clear()
        await asyncio.gather(*sends)
        bar.total = len(summary.rows)
        bar.refresh()
        deadline = time.monotonic() + timeout_s
        while waiting and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    result: CommandResult = codec.decode_command_result(record.value)
                    row_waiting = waiting.pop(result.command_id, None)
                    if row_waiting is None or result.type is not CommandType.IMPORT:
                        continue
                    row_waiting.result = result.result.value
                    row_waiting.reason = result.reason or ""
                    bar.update()
        bar.close()
        return summary
    finally:
        await consumer.stop()
        await producer.stop()


def write_results(summary: ImportSummary, out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(RESULT_COLUMNS)
        for row in summary.rows:
            writer.writerow([row.number, row.phone, row.gateway, row.keyword, row.status,
                             row.command_id, row.result, row.reason])


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        gateways = load_gateways(settings.gateways_file)
    except (SettingsError, GatewayConfigError) as exc:
        print(exc, file=sys.stderr)
        return 2
    out: Path = args.out or args.rows.with_name(args.rows.stem + ".results.csv")
    try:
        summary = asyncio.run(import_rows(settings, args.rows, args.actor,
                                          timeout_s=args.timeout, gateways=gateways,
                                          progress=not args.quiet))
    except (ImportFileError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    write_results(summary, out)
    counts = {r: summary.count(r) for r in ("applied", "rejected", "invalid", "no result")}
    print(f"{len(summary.rows)} rows: " + ", ".join(f"{n} {r}" for r, n in counts.items())
          + f"; results in {out}")
    return 0 if counts["invalid"] == counts["no result"] == 0 else 1
