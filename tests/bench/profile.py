"""A profile of the worker process deciding the throughput workload, written next to the
results, and its top ten.

py-spy samples the worker from outside (no code in the worker, ~1% overhead), aggregated by
function; its raw output is the collapsed stacks that flamegraph.pl and speedscope read. Where
py-spy cannot attach (no ptrace permission in some containers), cProfile runs inside the
worker instead (``BENCH_CPROFILE``), which slows call-heavy code and so inflates it: the
report says which profiler produced the numbers.
"""

from __future__ import annotations

import asyncio
import os
import pstats
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.throughput import (
    Arena,
    BenchError,
    WorkerProcess,
    _wait_until_committed,
    drop_trial_keys,
    trial_settings,
)
from tests.bench.worker_process import CPROFILE_ENV
from tests.support.workload import Workload

SAMPLES_PER_SECOND = 250


@dataclass(frozen=True, slots=True)
class Hot:
    """One function's share of the samples: where the samples stopped (own) and where it was
    on the stack (total)."""

    function: str
    own: float
    total: float

    def as_json(self) -> dict[str, Any]:
        return {"function": self.function, "own": self.own, "total": self.total}


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter, or on the PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def profile_worker(arena: Arena, workload: Workload, workdir: Path,
                         out: Path) -> dict[str, Any]:
    """Runs one worker trial under a profiler; writes the profile to ``out`` (plus a suffix)
    and returns the top ten functions by own time."""
    settings = trial_settings(arena.settings, arena.gateways_file, "prof")
    spy = py_spy()
    raw = out.with_suffix(".collapsed.txt")
    stats_path = out.with_suffix(".pstats")
    worker = WorkerProcess(settings, workdir / "worker-profile.log",
                           extra_env={} if spy else {CPROFILE_ENV: str(stats_path)})
    await worker.start()
    sampler = None
    try:
        # Sampled from the moment it serves: its imports and start-up are not the hot path.
        await worker.wait_for("serving_at", timeout=60.0)
        if spy:
            sampler = await asyncio.create_subprocess_exec(
                spy, "record", "--pid", str(worker.process.pid), "--rate",
                str(SAMPLES_PER_SECOND), "--format", "raw", "--function", "--nonblocking",
                "--output", str(raw), stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE)
        await worker.wait_for("first_batch_at", timeout=60.0)
        await _wait_until_committed(settings, arena.inputs, worker.process,
                                    timeout=60.0 + len(workload.records) / 100)
    except BaseException:
        await worker.kill()
        if sampler is not None and sampler.returncode is None:
            sampler.kill()
        raise
    await worker.stop()
    await drop_trial_keys(settings)
    if sampler is not None:
        _, err = await asyncio.wait_for(sampler.communicate(), 60.0)
        if sampler.returncode != 0 or not raw.exists():
            raise BenchError(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
        hot, samples = top_from_collapsed(raw.read_text(encoding="utf-8"))
        return {"profiler": "py-spy", "file": str(raw), "samples": samples,
                "top": [h.as_json() for h in hot]}
    hot, calls = top_from_pstats(stats_path)
    return {"profiler": "cProfile", "file": str(stats_path), "calls": calls,
            "top": [h.as_json() for h in hot]}


def top_from_collapsed(text: str, n: int = 10) -> tuple[list[Hot], int]:
    """The ``n`` functions with the most own samples in py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        own[_short(frames[-1])] += count
        for frame in {_short(f) for f in frames}:
            total[frame] += count
    if not samples:
        raise BenchError("the profile holds no samples")
    return [Hot(name, count / samples, total[name] / samples)
            for name, count in own.most_common(n)], samples


def top_from_pstats(path: Path, n: int = 10) -> tuple[list[Hot], int]:
    """The ``n`` functions with the most own time in cProfile's statistics."""
    stats = pstats.Stats(str(path))
    entries = stats.stats  # type: ignore[attr-defined]
    whole = sum(tottime for _, _, tottime, _, _ in entries.values()) or 1.0
    calls = sum(ncalls for _, ncalls, _, _, _ in entries.values())
    ranked = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:n]
    return [Hot(f"{name} ({Path(file).name}:{line})", tottime / whole, cumtime / whole)
            for (file, line, name), (_, _, tottime, cumtime, _) in ranked], calls


def _short(frame: str) -> str:
    """``func (path/to/module.py:12)`` -> ``func (module.py:12)``."""
    name, _, where = frame.partition(" (")
    return f"{name} ({os.path.basename(where)}" if where else name


def render_top(profile: dict[str, Any]) -> str:
    """The top ten as lines for the closing summary."""
    lines = [f"\nworker profile ({profile['profiler']}, {profile['file']}), top ten by own time:"]
    for rank, hot in enumerate(profile["top"], 1):
        lines.append(f"{rank:>3}. {hot['own']:6.1%} own {hot['total']:6.1%} total  "
                     f"{hot['function']}")
    return "\n".join(lines)
