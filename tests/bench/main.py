"""``python -m tests.bench [--quick] [--only ...] [--baseline-worker DIR]``: every figure
the project's targets name, measured against the local stack, printed as a table and written
to ``bench-results/<UTC time>.json`` (the worker's profile next to it).

Everything runs on private topics and Redis keys (prefix ``bench<run id>.``), deleted at the
end whatever happens. ``--quick`` uses tiny sizes so a smoke test exercises every part in
seconds; its numbers mean nothing. ``--only`` measures some sections (the others are left out
of the table). ``--baseline-worker DIR`` runs the worker of another checkout (``git worktree
add /tmp/old <commit>``) in every throughput trial too, interleaved with ours on the same
records, and reports our CPU per record over its.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from processor.adapters.kafka.topic_admin import delete_topics_with_prefix
from processor.adapters.redis_connection import with_hiredis_packing
from processor.adapters.redis_keys import delete_keys
from processor.settings import Settings
from tests.bench.hot_paths import classifier_section, codec_section
from tests.bench.latency import run_latency
from tests.bench.pipeline import bench_pipeline
from tests.bench.profile import profile_worker, render_top
from tests.bench.rebuild import bench_rebuild
from tests.bench.redis_memory import measure_redis_memory
from tests.bench.report import (
    Figure,
    Target,
    machine_info,
    render_table,
    results_path,
    write_results,
)
from tests.bench.throughput import BenchError, measure_throughput, prepare_arena
from tests.support.workload import Workload, build_workload


@dataclass(frozen=True, slots=True)
class Sizes:
    records: int  # input records pre-produced for the worker and the relay
    phones: int  # distinct phones among them
    partitions: int  # of the main worker-vs-relay figure
    trials: int  # of each of worker and relay; the median is reported
    sweep_partitions: tuple[int, ...]  # one more worker and relay trial at each count
    cpu_trials: int
    classify_n: int
    codec_n: int
    memory_phones: int
    batch: int  # records per BatchProcessor call in the pipeline figure
    rebuild_subscriptions: int  # on one consent-state partition, rebuilt into Redis
    latency_rates: tuple[float, ...]  # offered send requests per second, one run each
    latency_seconds: float  # of measured load per rate (after the warm-up)
    latency_warmup: float
    # More latency runs, (rate, partitions): a worker owning fewer partition numbers runs fewer
    # transactions a second (see the README's "Where a decision's milliseconds go").
    latency_sweep: tuple[tuple[float, int], ...] = ()


FULL = Sizes(records=100_000, phones=30_000, partitions=4, trials=3, sweep_partitions=(1, 8),
             cpu_trials=5, classify_n=100_000, codec_n=20_000, memory_phones=10_000, batch=1000,
             rebuild_subscriptions=1_000_000, latency_rates=(2000, 5000), latency_seconds=20,
             latency_warmup=3, latency_sweep=((2000, 1),))
QUICK = Sizes(records=400, phones=200, partitions=2, trials=1, sweep_partitions=(),
              cpu_trials=1, classify_n=2_000, codec_n=500, memory_phones=100, batch=100,
              rebuild_subscriptions=1_000, latency_rates=(200,), latency_seconds=2,
              latency_warmup=0.5, latency_sweep=((200, 1),))

SECTIONS = ("hot", "memory", "pipeline", "rebuild", "throughput", "latency", "profile")
RELAY_TARGET = Target("ratio", at_least=0.5)
CLASSIFIER_TARGET = Target("value", at_least=200_000)
MEMORY_TARGET = Target("value", at_most=200)
# Worker CPU per record against the baseline worker's (issue 14: at most 40% of 1504ec2's).
CPU_TARGET = Target("ratio", at_most=0.4)
LATENCY_TARGET = Target("value", at_most=100)


def sections_from(text: str) -> tuple[str, ...]:
    """``--only``'s comma-separated sections (all when empty)."""
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in SECTIONS]
    if unknown:
        raise BenchError(f"unknown section {unknown[0]!r}: the sections are "
                         f"{', '.join(SECTIONS)}")
    return chosen or SECTIONS


def run(args: argparse.Namespace) -> int:
    """Runs the benchmark; 0 when every figure was measured (targets met or not)."""
    sizes = QUICK if args.quick else FULL
    stamp = datetime.now(UTC)
    try:
        results = asyncio.run(bench(sizes, Settings.from_env(), sections_from(args.only),
                                    args.baseline_worker, results_path(stamp)))
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    figures = build_figures(results)
    results["figures"] = [f.as_json() for f in figures]
    print(render_table(figures))
    if "worker_vs_relay" in results:
        print(worker_time_summary(results["worker_vs_relay"]))
    for run in results.get("latency", []):
        print(latency_summary(run))
    if "profile" in results:
        print(render_top(results["profile"]))
    print(f"\nresults written to {write_results(results, stamp)}")
    return 0


async def bench(sizes: Sizes, settings: Settings, sections: tuple[str, ...] = SECTIONS,
                baseline: Path | None = None, out: Path | None = None) -> dict[str, Any]:
    """Measures the sections; returns all numbers, trial values included. ``out``: the
    results file to be written (the profile goes next to it)."""
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    workload = build_workload(sizes.records, sizes.phones)
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": sizes is QUICK, "prefix": prefix, "machine": machine_info(),
        "sizes": asdict(sizes), "sections": list(sections),
        "workload": {"records": len(workload.records), "phones": workload.phones,
                     "by_topic": workload.by_topic(), "keyword_texts": workload.keyword_texts},
    }
    if "hot" in sections:
        results["classifier"] = classifier_section(sizes.classify_n, sizes.cpu_trials)
        results["codec"] = codec_section(sizes.codec_n, sizes.cpu_trials, workload)
    client = with_hiredis_packing(aioredis.Redis.from_url(settings.redis_url))
    try:
        if "memory" in sections:
            results["redis_memory"] = await measure_redis_memory(client, f"{prefix}mem",
                                                                 sizes.memory_phones)
        if "pipeline" in sections:
            results["pipeline"] = (await bench_pipeline(client, f"{prefix}pipe", workload,
                                                        sizes.batch)).as_json()
        if "rebuild" in sections:
            rebuild_settings = Settings.from_env({}, **settings.cluster_settings(),
                                                 topic_prefix=f"{prefix}rebuild.",
                                                 redis_prefix=f"{prefix}rebuild")
            results["rebuild"] = await bench_rebuild(rebuild_settings, client,
                                                     sizes.rebuild_subscriptions, trials=1)
        with tempfile.TemporaryDirectory(prefix="consent-gate-bench-") as tmp:
            workdir = Path(tmp)
            await _broker_sections(results, sizes, settings, sections, baseline, out,
                                   prefix, workload, workdir)
    finally:
        await _clean_up(settings, client, prefix)
        await client.aclose()
    return results


async def _broker_sections(results: dict[str, Any], sizes: Sizes, settings: Settings,
                           sections: tuple[str, ...], baseline: Path | None,
                           out: Path | None, prefix: str, workload: Workload,
                           workdir: Path) -> None:
    """Throughput (with the partition sweep), the profile, and latency."""
    if "throughput" in sections or "profile" in sections:
        arena = await prepare_arena(settings, f"{prefix}p{sizes.partitions}.",
                                    sizes.partitions, workload, workdir)
        if "throughput" in sections:
            results["worker_vs_relay"] = await measure_throughput(
                arena, workload, sizes.trials, workdir, baseline)
            sweep = []
            for partitions in sizes.sweep_partitions:
                other = await prepare_arena(settings, f"{prefix}p{partitions}.", partitions,
                                            workload, workdir)
                sweep.append(await measure_throughput(other, workload, 1, workdir))
            results["partition_sweep"] = sweep
        if "profile" in sections:
            target = out or workdir / "profile.json"
            results["profile"] = await profile_worker(
                arena, workload, workdir, target.with_name(f"{target.stem}-worker-profile"))
    if "latency" in sections:
        runs = [(rate, sizes.partitions) for rate in sizes.latency_rates]
        results["latency"] = [
            await run_latency(settings, f"{prefix}lat{index}.", partitions, rate,
                              sizes.latency_seconds, sizes.latency_warmup, sizes.phones,
                              workdir)
            for index, (rate, partitions) in enumerate(runs + list(sizes.latency_sweep))]


async def _clean_up(settings: Settings, client: aioredis.Redis, prefix: str) -> None:
    """Deletes the run's topics and Redis keys; reports (never raises) what it could not."""
    try:
        await delete_topics_with_prefix(settings, prefix)
    except Exception as exc:
        print(f"could not delete the topics {prefix}*: {exc!r}", file=sys.stderr)
    try:
        await delete_keys(client, f"{prefix}*")
    except Exception as exc:
        print(f"could not delete the Redis keys {prefix}*: {exc!r}", file=sys.stderr)


def build_figures(results: dict[str, Any]) -> list[Figure]:
    """The table rows, from the measured numbers (of the sections that were measured)."""
    figures = []
    if "worker_vs_relay" in results:
        figures += _throughput_figures(results)
    for run in results.get("latency", []):
        rate = f"{run['offered_sends_per_s']:,.0f} sends/s, {_partitions(run)}"
        figures += [Figure(f"decision latency p99 at {rate}", run["p99_ms"], "ms",
                           target=LATENCY_TARGET),
                    Figure(f"decision latency p50 at {rate}", run["p50_ms"], "ms")]
    if "classifier" in results:
        figures += _hot_figures(results)
    if "redis_memory" in results:
        figures += _memory_figures(results["redis_memory"])
    if "rebuild" in results:
        rebuild = results["rebuild"]
        figures.append(Figure(f"rebuild from consent-state ({rebuild['subscriptions']:,} subs)",
                              rebuild["rebuild_rate"], "subs/s", rebuild["read_rate"],
                              "reading the partition"))
    if "pipeline" in results:
        pipeline = results["pipeline"]
        figures += [
            Figure("pipeline, no Kafka (real Redis)", pipeline["rate"], "rec/s"),
            Figure("pipeline, time in store calls excluded",
                   pipeline["records"] / (pipeline["seconds"] - pipeline["store_seconds"]),
                   "rec/s"),
        ]
    return figures


def _throughput_figures(results: dict[str, Any]) -> list[Figure]:
    main = results["worker_vs_relay"]
    runs: list[tuple[str, dict[str, Any], Target | None]] = [
        (f"worker, exactly once ({_partitions(main)})", main, RELAY_TARGET)]
    runs += [(f"worker ({_partitions(s)}, 1 trial)", s, None) for s in results["partition_sweep"]]
    figures = [Figure(name, section["worker_rate"], "rec/s", section[key], relay,
                      target if key == "relay_rate" else None)
               for name, section, target in runs
               for key, relay in (("relay_rate", "plain relay"),
                                  ("batch_relay_rate", "batch relay"))]
    figures += [
        Figure("worker CPU per record", main["worker_cpu_us"], "µs", main["relay_cpu_us"],
               "plain relay"),
        Figure("plain relay CPU per record", main["relay_cpu_us"], "µs"),
        Figure("batch relay CPU per record", main["batch_relay_cpu_us"], "µs"),
    ]
    if "baseline" in main:
        old = main["baseline"]
        figures.append(Figure("worker CPU per record, against the baseline worker",
                              main["worker_cpu_us"], "µs", old["worker_cpu_us"],
                              f"worker of {Path(old['code']).name}", CPU_TARGET))
    return figures


def _hot_figures(results: dict[str, Any]) -> list[Figure]:
    figures = []
    classifier = results["classifier"]
    figures.append(Figure("classifier", classifier["rate"], "/s", classifier["baseline_rate"],
                          "exact lookup", CLASSIFIER_TARGET))
    codec = results["codec"]
    figures += [Figure(f"codec {op.replace('_', ' ')}", rate, "rec/s",
                       codec["baseline_rate"][op],
                       "orjson.loads" if op.startswith("decode") else "orjson.dumps")
                for op, rate in codec["rate"].items()]
    return figures


def _memory_figures(memory: dict[str, Any]) -> list[Figure]:
    figures = [
        Figure("redis bytes/subscription (1 per phone)", memory["bytes_per_subscription_1"],
               "B", target=MEMORY_TARGET),
        Figure("redis bytes/subscription (3 per phone)", memory["bytes_per_subscription_3"],
               "B", target=MEMORY_TARGET),
    ]
    figures += [Figure(f"redis bytes/stored outcome ({kind})",
                       memory[f"bytes_per_outcome_{kind}"], "B")
                for kind in ("send", "chat", "stop")]
    return figures


def _partitions(section: dict[str, Any]) -> str:
    count = section["partitions"]
    return f"{count} partition{'' if count == 1 else 's'}"


def latency_summary(run: dict[str, Any]) -> str:
    """One offered load's distribution, and what was checked."""
    worker = run["worker"]
    return (f"\nlatency at {run['offered_sends_per_s']:,.0f} send requests/s on "
            f"{_partitions(run)} "
            f"({run['offered_records_per_s']:,.0f} records/s with inbound and commands; "
            f"achieved {run['achieved_sends_per_s']:,.0f} sends/s): "
            f"p50 {run['p50_ms']:.1f} ms, p95 {run['p95_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms,"
            f" max {run['max_ms']:.1f} ms over {run['measured']:,} requests after a "
            f"{run['warmup_s']:g} s warm-up; {run['results_checked']:,} of "
            f"{run['send_requests']:,} results checked, {run['held']} held for later, "
            f"{run['missing']} missing, "
            f"{run['duplicated']} duplicated; the worker used "
            f"{worker['cpu_seconds'] / run['records'] * 1e6:.0f} µs CPU per record in "
            f"{worker['batches']:,} batches" + phases_summary(run.get("batch_phases", {})))


def phases_summary(phases: dict[str, dict[str, float]]) -> str:
    """Where a batch's milliseconds went (p50 / p95 over the batches after the warm-up)."""
    if not phases:
        return ""
    names = {"records": "records per batch",
             "newest_ms": "newest record's age when its batch began",
             "oldest_ms": "oldest record's age", "decide_ms": "decide", "commit_ms": "commit"}
    return "; per batch, p50 / p95: " + ", ".join(
        f"{names[k]} {v['p50']:g} / {v['p95']:g}{'' if k == 'records' else ' ms'}"
        for k, v in phases.items())


def worker_time_summary(main: dict[str, Any]) -> str:
    """Where the worker's wall time went in its median trial, as the worker counted it."""
    trials = sorted(main["worker_trials"], key=lambda t: t["rate"])
    middle = trials[len(trials) // 2]
    wall = middle["seconds"]
    return (f"\nworker, median trial: {middle['records']} records in {wall:.2f}s, "
            f"{middle['batches']} partition batches; its process used {middle['cpu_seconds']:.2f}s"
            f" CPU ({middle['cpu_seconds'] / wall:.0%} of one core); a batch was inside "
            f"BatchProcessor {middle['pipeline_busy_seconds'] / wall:.0%} of the time; "
            f"{middle['aborted_batches']:.0f} aborted batches\n"
            f"CPU per record: worker {main['worker_cpu_us']:.1f} µs, plain relay "
            f"{main['relay_cpu_us']:.1f} µs, batch relay {main['batch_relay_cpu_us']:.1f} µs"
            + (f"; baseline worker {main['baseline']['worker_cpu_us']:.1f} µs (ours/baseline "
               f"{main['baseline']['cpu_ratio']:.2f}, per trial "
               f"{', '.join(f'{r:.2f}' for r in main['baseline']['cpu_ratio_trials'])})"
               if "baseline" in main else ""))
