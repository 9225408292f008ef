"""`python -m tests.bench --quick` (``make bench BENCH_ARGS=--quick``) measures every section
against the real stack and cleans up after itself. Nothing here judges speed: that is the
benchmark's own job."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient

from tests.support.stack import KAFKA_BOOTSTRAP, REDIS_URL, ROOT

pytestmark = pytest.mark.integration

CODEC_OPERATIONS = {"decode_inbound", "decode_send_request", "encode_outbound",
                    "encode_send_result", "encode_consent_event"}


async def run_quick_bench(cwd: Path) -> tuple[int, str, str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP, "REDIS_URL": REDIS_URL,
           # The local stack is one broker (the defaults are 3 and 2).
           "CG_REPLICATION_FACTOR": "1", "CG_MIN_INSYNC_REPLICAS": "1",
           # Run from another folder (its bench-results/ is checked): tests/ is found here.
           "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench", "--quick", cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def assert_positive(section: dict[str, Any], *names: str) -> None:
    for name in names:
        assert section[name] > 0, f"{name} = {section[name]!r}"


async def test_quick_bench_reports_every_section_and_leaves_nothing_behind(
        tmp_path: Path, kafka_admin: AIOKafkaAdminClient, redis_client: aioredis.Redis) -> None:
    code, out, err = await run_quick_bench(tmp_path)

    assert code == 0, f"stdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"
    (path,) = (tmp_path / "bench-results").glob("*.json")
    results = json.loads(path.read_text(encoding="utf-8"))
    assert str(path.name) in out
    assert results["quick"] is True
    assert results["machine"]["nproc"] > 0

    throughput = results["worker_vs_relay"]
    assert_positive(throughput, "worker_rate", "relay_rate", "ratio", "batch_relay_rate",
                    "batch_ratio", "records", "partitions")
    assert sorted(t["mode"] for t in throughput["relay_trials"]) == ["batches", "plain"]
    (worker,) = throughput["worker_trials"]
    assert worker["records"] == results["workload"]["records"]
    assert_positive(worker, "seconds", "batches", "cpu_seconds", "pipeline_busy_seconds")
    assert_positive(results["classifier"], "rate", "baseline_rate")
    for key in ("rate", "baseline_rate"):
        assert set(results["codec"][key]) == CODEC_OPERATIONS
        assert_positive(results["codec"][key], *CODEC_OPERATIONS)
    assert_positive(results["redis_memory"], "bytes_per_subscription_1",
                    "bytes_per_subscription_3", "bytes_per_outcome_send",
                    "bytes_per_outcome_chat", "bytes_per_outcome_stop")
    assert_positive(results["pipeline"], "rate", "seconds", "store_seconds", "decode_seconds")
    # The quick sizes: 200 sends/s on the run's 2 partitions, and on 1 (the sweep).
    assert [run["partitions"] for run in results["latency"]] == [2, 1]
    for run in results["latency"]:
        assert run["missing"] == 0 and run["duplicated"] == 0
        # Where a batch's milliseconds go, from the worker's log.
        assert set(run["batch_phases"]) == {"records", "newest_ms", "oldest_ms", "decide_ms",
                                            "commit_ms"}
        phases = {k: v["p50"] for k, v in run["batch_phases"].items()}
        assert_positive(phases, "records", "decide_ms", "commit_ms")
        assert phases["oldest_ms"] >= phases["newest_ms"] >= 0
    assert results["figures"]
    assert all(figure["value"] > 0 for figure in results["figures"])

    prefix = results["prefix"]
    assert [key async for key in redis_client.scan_iter(match=f"{prefix}*")] == []
    assert [t for t in await kafka_admin.list_topics() if t.startswith(prefix)] == []
