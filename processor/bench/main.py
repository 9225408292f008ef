"""``python -m processor bench [--quick]``: every figure the project's targets name, measured
against the local stack, printed as a table and written to ``bench-results/<UTC time>.json``.

Everything runs on private topics and Redis keys (prefix ``bench<run id>.``), deleted at the
end whatever happens. ``--quick`` uses tiny sizes so a smoke test exercises every part in
seconds; its numbers mean nothing.
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

from processor.adapters.redis_connection import connection_options
from processor.adapters.redis_keys import delete_keys
from processor.adapters.topic_admin import delete_topics_with_prefix
from processor.bench.hot_paths import classifier_section, codec_section
from processor.bench.pipeline import bench_pipeline
from processor.bench.rebuild import bench_rebuild
from processor.bench.redis_memory import measure_redis_memory
from processor.bench.report import Figure, Target, machine_info, render_table, write_results
from processor.bench.throughput import BenchError, measure_throughput, prepare_arena
from processor.bench.workload import build_workload
from processor.settings import Settings


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


FULL = Sizes(records=100_000, phones=30_000, partitions=4, trials=3, sweep_partitions=(1, 8),
             cpu_trials=5, classify_n=100_000, codec_n=20_000, memory_phones=10_000, batch=1000,
             rebuild_subscriptions=1_000_000)
QUICK = Sizes(records=400, phones=200, partitions=2, trials=1, sweep_partitions=(),
              cpu_trials=1, classify_n=2_000, codec_n=500, memory_phones=100, batch=100,
              rebuild_subscriptions=1_000)

RELAY_TARGET = Target("ratio", at_least=0.5)
CLASSIFIER_TARGET = Target("value", at_least=200_000)
MEMORY_TARGET = Target("value", at_most=200)


def run(args: argparse.Namespace) -> int:
    """Runs the benchmark; 0 when every figure was measured (targets met or not)."""
    sizes = QUICK if args.quick else FULL
    try:
        results = asyncio.run(bench(sizes, Settings.from_env()))
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    figures = build_figures(results)
    results["figures"] = [f.as_json() for f in figures]
    print(render_table(figures))
    print(worker_time_summary(results["worker_vs_relay"]))
    print(f"\nresults written to {write_results(results)}")
    return 0


async def bench(sizes: Sizes, settings: Settings) -> dict[str, Any]:
    """Measures every section; returns all numbers, trial values included."""
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    workload = build_workload(sizes.records, sizes.phones)
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": sizes is QUICK, "prefix": prefix, "machine": machine_info(),
        "sizes": asdict(sizes),
        "workload": {"records": len(workload.records), "phones": workload.phones,
                     "by_topic": workload.by_topic(), "keyword_texts": workload.keyword_texts},
    }
    results["classifier"] = classifier_section(sizes.classify_n, sizes.cpu_trials)
    results["codec"] = codec_section(sizes.codec_n, sizes.cpu_trials, workload)
    client = aioredis.Redis.from_url(settings.redis_url,
                                     **connection_options(settings.redis_url))
    try:
        results["redis_memory"] = await measure_redis_memory(client, f"{prefix}mem",
                                                             sizes.memory_phones)
        results["pipeline"] = (await bench_pipeline(client, f"{prefix}pipe", workload,
                                                    sizes.batch)).as_json()
        rebuild_settings = Settings.from_env({}, **settings.cluster_settings(),
                                             topic_prefix=f"{prefix}rebuild.",
                                             redis_prefix=f"{prefix}rebuild")
        results["rebuild"] = await bench_rebuild(rebuild_settings, client,
                                                 sizes.rebuild_subscriptions, trials=1)
        with tempfile.TemporaryDirectory(prefix="consent-gate-bench-") as tmp:
            workdir = Path(tmp)
            sweep = []
            for partitions in (sizes.partitions, *sizes.sweep_partitions):
                arena = await prepare_arena(settings, f"{prefix}p{partitions}.", partitions,
                                            workload, workdir)
                trials = sizes.trials if partitions == sizes.partitions else 1
                sweep.append(await measure_throughput(arena, workload, trials, workdir))
            results["worker_vs_relay"] = sweep[0]
            results["partition_sweep"] = sweep[1:]
    finally:
        await _clean_up(settings, client, prefix)
        await client.aclose()
    return results


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
    """The table rows, from the measured numbers."""
    main = results["worker_vs_relay"]
    runs: list[tuple[str, dict[str, Any], Target | None]] = [
        (f"worker, exactly once ({_partitions(main)})", main, RELAY_TARGET)]
    runs += [(f"worker ({_partitions(s)}, 1 trial)", s, None) for s in results["partition_sweep"]]
    figures = [Figure(name, section["worker_rate"], "rec/s", section[key], relay,
                      target if key == "relay_rate" else None)
               for name, section, target in runs
               for key, relay in (("relay_rate", "plain relay"),
                                  ("batch_relay_rate", "batch relay"))]
    classifier = results["classifier"]
    figures.append(Figure("classifier", classifier["rate"], "/s", classifier["baseline_rate"],
                          "exact lookup", CLASSIFIER_TARGET))
    codec = results["codec"]
    figures += [Figure(f"codec {op.replace('_', ' ')}", rate, "rec/s",
                       codec["baseline_rate"][op],
                       "orjson.loads" if op.startswith("decode") else "orjson.dumps")
                for op, rate in codec["rate"].items()]
    memory = results["redis_memory"]
    figures += [
        Figure("redis bytes/subscription (1 per phone)", memory["bytes_per_subscription_1"],
               "B", target=MEMORY_TARGET),
        Figure("redis bytes/subscription (3 per phone)", memory["bytes_per_subscription_3"],
               "B", target=MEMORY_TARGET),
    ]
    figures += [Figure(f"redis bytes/stored outcome ({kind})",
                       memory[f"bytes_per_outcome_{kind}"], "B")
                for kind in ("send", "chat", "stop")]
    rebuild = results["rebuild"]
    figures.append(Figure(f"rebuild from consent-state ({rebuild['subscriptions']:,} subs)",
                          rebuild["rebuild_rate"], "subs/s", rebuild["read_rate"],
                          "reading the partition"))
    pipeline = results["pipeline"]
    figures += [
        Figure("pipeline, no Kafka (real Redis)", pipeline["rate"], "rec/s"),
        Figure("pipeline, time in store calls excluded",
               pipeline["records"] / (pipeline["seconds"] - pipeline["store_seconds"]), "rec/s"),
    ]
    return figures


def _partitions(section: dict[str, Any]) -> str:
    count = section["partitions"]
    return f"{count} partition{'' if count == 1 else 's'}"


def worker_time_summary(main: dict[str, Any]) -> str:
    """Where the worker's wall time went in its median trial, as the worker counted it."""
    trials = sorted(main["worker_trials"], key=lambda t: t["rate"])
    middle = trials[len(trials) // 2]
    wall = middle["seconds"]
    return (f"\nworker, median trial: {middle['records']} records in {wall:.2f}s, "
            f"{middle['batches']} partition batches; its process used {middle['cpu_seconds']:.2f}s"
            f" CPU ({middle['cpu_seconds'] / wall:.0%} of one core); a batch was inside "
            f"BatchProcessor {middle['pipeline_busy_seconds'] / wall:.0%} of the time; "
            f"{middle['aborted_batches']:.0f} aborted batches")
