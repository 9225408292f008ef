"""Consent report rows (Movius "SMS Opt-In Reports"): how many subscriptions moved from one
status to another, per gateway, source and UTC day. The live service (faust table) and the
``report`` command (a read of the topic) count with the same functions, so they agree.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import msgspec

from processor.domain.gateways.parsing import parse_duration_ms
from processor.domain.models.enums import ConsentSource, ConsentStatus
from processor.domain.models.outputs import ConsentEvent

_MS_PER_DAY = 86_400_000
SEPARATOR = "|"


class ReportRow(msgspec.Struct, frozen=True, order=True):
    day: str  # YYYY-MM-DD, UTC
    gateway: str
    previous_status: ConsentStatus
    status: ConsentStatus
    source: ConsentSource
    count: int = 0


class Report(msgspec.Struct):
    since: str
    gateway: str | None
    rows: list[ReportRow]


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def count_key(event: ConsentEvent) -> str:
    """The table key of an event's transition: ``day|gateway|from|to|source``."""
    return SEPARATOR.join((day_of(event.occurred_at), event.gateway, event.previous_status,
                           event.status, event.source))


def row_of(key: str, count: int) -> ReportRow:
    day, gateway, previous, status, source = key.split(SEPARATOR)
    return ReportRow(day, gateway, ConsentStatus(previous), ConsentStatus(status),
                     ConsentSource(source), count)


def since_ms(text: str, now_ms: int) -> int:
    """``7d``, ``24h``, ``90m`` (as gateway windows are written) before now -> epoch ms."""
    return now_ms - parse_duration_ms(text, "--since")


def report(counts: Mapping[str, int] | Iterable[tuple[str, int]], *, since: int,
           gateway: str | None = None) -> Report:
    """The rows for days from ``since`` (by UTC day) on, optionally for one gateway."""
    first_day = day_of(since - since % _MS_PER_DAY)
    totals: Counter[str] = Counter()
    items = counts.items() if isinstance(counts, Mapping) else counts
    for key, count in items:
        totals[key] += count
    rows = sorted(row_of(key, n) for key, n in totals.items() if n)
    return Report(first_day, gateway, [r for r in rows if r.day >= first_day
                                       and (gateway is None or r.gateway == gateway)])


def count_events(events: Iterable[ConsentEvent]) -> Counter[str]:
    return Counter(count_key(event) for event in events)


HEADERS = ("day", "gateway", "from", "to", "source", "count")


def _cells(row: ReportRow) -> list[str]:
    return [row.day, row.gateway, row.previous_status, row.status, row.source, str(row.count)]


def render(result: Report, fmt: str) -> str:
    """The report as ``table``, ``csv`` or ``json``."""
    if fmt == "json":
        return msgspec.json.encode(result).decode()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADERS)
        writer.writerows(_cells(r) for r in result.rows)
        return out.getvalue().rstrip("\n")
    cells = [_cells(r) for r in result.rows]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.append(f"{sum(r.count for r in result.rows)} changes since {result.since}"
                 + (f" on {result.gateway}" if result.gateway else ""))
    return "\n".join(lines)


def opt_ins_and_outs(result: Report) -> dict[str, dict[str, tuple[int, int]]]:
    """gateway -> day -> (opt-ins, opt-outs), for the chart."""
    series: dict[str, dict[str, tuple[int, int]]] = {}
    for row in result.rows:
        day = series.setdefault(row.gateway, {})
        ins, outs = day.get(row.day, (0, 0))
        if row.status is ConsentStatus.OPT_IN and row.previous_status is not ConsentStatus.OPT_IN:
            ins += row.count
        if row.status is ConsentStatus.OPT_OUT and row.previous_status is not \
                ConsentStatus.OPT_OUT:
            outs += row.count
        day[row.day] = (ins, outs)
    return series
