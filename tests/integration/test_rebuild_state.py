"""`python -m processor rebuild-state`: an operator rebuilds a lost consent store by hand."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from processor.adapters.redis_keys import delete_keys
from processor.adapters.redis_store import RedisConsentStore
from processor.domain.models.enums import ConsentStatus, SendDebug, SendStatus
from processor.settings import Settings
from processor.topics import Topic
from tests.support.consent_helpers import inbound, send
from tests.support.harness import Stack, private_stack, running_worker, worker_env
from tests.support.stack import ROOT

pytestmark = pytest.mark.integration

PHONES = [f"+1202555{n:04d}" for n in range(300, 360)]


async def rebuild_state(settings: Settings, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "processor", "rebuild-state", *args, cwd=ROOT,
        env=worker_env(settings, 0), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def stop_everyone(stack: Stack) -> None:
    for number in PHONES:
        await stack.text(inbound("STOP", "gw1", phone=number, message_id=f"stop-{number}"))
    await stack.read(Topic.CONSENT_EVENTS, len(PHONES))


async def test_rebuild_state_restores_a_wiped_store_from_the_consent_state_topic(
        tmp_path: Path, redis_client: aioredis.Redis) -> None:
    async with private_stack(tmp_path) as stack:
        settings = stack.settings
        async with running_worker(settings) as running:
            await stop_everyone(stack)
            # While a worker runs, the command refuses (it would move the progress back).
            code, out = await rebuild_state(settings)
            assert code == 2, out
            assert "running member" in out
            store = running.worker.store
            progress = {n: await store.progress(n) for n in range(settings.partitions)}
        await delete_keys(redis_client, f"{settings.redis_prefix}*")  # a new, empty Redis
        code, out = await rebuild_state(settings)
        assert code == 0, out
        assert [line.split(":")[0] for line in out.splitlines()
                if line.startswith("partition") and "subscriptions" in line] == [
            f"partition {n}" for n in range(settings.partitions)]
        store = RedisConsentStore(redis_client, settings.redis_prefix, retention_ms=1000)
        loaded = await store.load({number: [] for number in PHONES})
        assert {loaded[n].state.get("gw1").status for n in PHONES} == {ConsentStatus.OPT_OUT}
        assert {n: await store.progress(n) for n in range(settings.partitions)} == progress
        # The workers trust the rebuilt store: no recovery, and the opt-outs hold.
        async with running_worker(settings) as running:
            await stack.send(send("gw1", request_id="after", phone=PHONES[0]))
            results = await stack.read(Topic.SEND_RESULTS, 1)
            assert [(r.status, r.debug) for r in results] == [
                (SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)]
            assert "consent_gate_store_recoveries_total 0.0" in (
                running.worker.metrics.exposition().decode())
        code, out = await rebuild_state(settings, "--partition", str(settings.partitions))
        assert code == 2
        assert "--partition must be in" in out
