"""Benchmark figures: a value, the same-run baseline it is compared with, and the target.

The machine is shared and noisy, so speed is judged by ratios against a baseline measured in
the same run; absolute numbers are reported next to them.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

RESULTS_DIR = "bench-results"


@dataclass(frozen=True, slots=True)
class Target:
    """A bound on the figure's value or on its ratio to the baseline."""

    on: Literal["value", "ratio"]
    at_least: float | None = None
    at_most: float | None = None

    def met_by(self, value: float, ratio: float | None) -> bool:
        checked = value if self.on == "value" else ratio
        if checked is None:
            return False
        return ((self.at_least is None or checked >= self.at_least)
                and (self.at_most is None or checked <= self.at_most))

    def describe(self) -> str:
        parts = ["ratio"] if self.on == "ratio" else []
        if self.at_least is not None:
            parts.append(f">= {_number(self.at_least)}")
        if self.at_most is not None:
            parts.append(f"<= {_number(self.at_most)}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str | None = None
    target: Target | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met_by(self.value, self.ratio)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit,
                "baseline": self.baseline, "baseline_name": self.baseline_name,
                "ratio": self.ratio, "target": self.target.describe() if self.target else None,
                "met": self.met}


def median(values: Sequence[float]) -> float:
    """The median trial: robust to one trial hit by a noisy neighbour."""
    return float(statistics.median(values))


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on: they mean little without it."""
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": {name: version(name) for name in ("aiokafka", "redis", "orjson")},
    }


def render_table(figures: Sequence[Figure]) -> str:
    """The figures as an aligned text table: figure, value, baseline, ratio, target, met?"""
    rows = [("figure", "value", "baseline", "ratio", "target", "met?")]
    for f in figures:
        baseline = "" if f.baseline is None else f"{_number(f.baseline)} ({f.baseline_name})"
        ratio = "" if f.ratio is None else f"{f.ratio:.3f}"
        met = {None: "", True: "yes", False: "NO"}[f.met]
        rows.append((f.name, f"{_number(f.value)} {f.unit}", baseline, ratio,
                     f.target.describe() if f.target else "", met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def results_path(stamp: datetime) -> Path:
    """``bench-results/<UTC timestamp>.json`` under the current directory (folder made)."""
    folder = Path.cwd() / RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}.json"


def write_results(results: dict[str, Any], stamp: datetime | None = None) -> Path:
    """Writes the results to ``results_path`` of ``stamp`` (default: now)."""
    path = results_path(stamp or datetime.now(UTC))
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _number(value: float) -> str:
    if value >= 1000 or value == int(value):
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"
