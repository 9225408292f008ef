"""``python -m processor import``: rows become import commands, the worker decides them, and
the results CSV says per row what happened (against the real broker, Redis and worker)."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from pathlib import Path

import pytest

from processor.cli.import_rows import ImportFileError, import_rows, write_results
from processor.domain.models.inputs import InboundMessage
from processor.topics import Topic
from tests.support.harness import private_stack, running_worker
from tests.support.ingress_harness import GATEWAYS
from tests.support.stack import ROOT

pytestmark = pytest.mark.integration

ANA, BEN, CARA = "+12025550143", "+12025550178", "+12025550116"
ROWS = [
    ("phone", "gateway", "keyword", "status"),
    (ANA, "acme-main", "", "Subscribe"),  # Ana texted STOP: only she can opt back in
    (BEN, "acme-main", "", "subscribe"),
    ("(202) 555-0178", "acme-alerts", "volunteer", "Unsubscribe"),
    ("555", "acme-main", "", "Subscribe"),
    (CARA, "acme-main", "", "Maybe"),
    (CARA, "", "", "Subscribe"),
]


def results_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


async def test_an_import_reports_every_row(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    with rows.open("w", newline="") as f:
        csv.writer(f).writerows(ROWS)
    async with private_stack(tmp_path, GATEWAYS) as stack, running_worker(stack.settings):
        await stack.text(InboundMessage(message_id="mo-1", phone=ANA, to="+12025550100",
                                        gateway="acme-main", body="STOP",
                                        received_at=1_800_000_000_000))
        await stack.read(Topic.CONSENT_EVENTS, 1)
        summary = await import_rows(stack.settings, rows, "ops@acme.example", timeout_s=30,
                                    progress=False)
        out = tmp_path / "results.csv"
        write_results(summary, out)
        got = results_of(out)
        assert [(r["row"], r["result"]) for r in got] == [
            ("1", "rejected"), ("2", "applied"), ("3", "applied"), ("4", "invalid"),
            ("5", "invalid"), ("6", "invalid")]
        assert got[0]["reason"]
        assert "phone" in got[3]["reason"]
        assert "status" in got[4]["reason"]
        assert "gateway" in got[5]["reason"]
        commands = await stack.read(Topic.COMMANDS, 3)
        assert {(c.actor, c.phone, c.keyword) for c in commands} == {
            ("ops@acme.example", ANA, None), ("ops@acme.example", BEN, None),
            ("ops@acme.example", BEN, "VOLUNTEER")}

        # The same file again, through the command line: the same command ids, so the
        # worker answers with the same results instead of deciding the rows twice.
        env = {**os.environ, "KAFKA_BOOTSTRAP": stack.settings.kafka_bootstrap,
               "REDIS_URL": stack.settings.redis_url,
               "CG_TOPIC_PREFIX": stack.settings.topic_prefix,
               "CG_GATEWAYS_FILE": str(stack.settings.gateways_file)}
        again = tmp_path / "again.csv"
        # (a child process the event loop waits for: the worker runs in this loop)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "processor", "import", str(rows), "--actor",
            "ops@acme.example", "--out", str(again), "--timeout", "30",
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(child.communicate(), 120)
        assert child.returncode == 1, stderr  # invalid rows are a failure of the import
        assert "6 rows: 2 applied, 1 rejected, 3 invalid, 0 no result" in stdout.decode()
        assert results_of(again) == got
        events = await stack.settle(Topic.CONSENT_EVENTS)
        # The STOP and two imports; the replay repeats the same events (same ids), so
        # nothing was decided twice.
        assert len({e.event_id for e in events}) == 3


def test_a_file_without_the_columns_is_refused(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("number,list\n+12025550143,main\n")
    from processor.cli.import_rows import read_rows

    with pytest.raises(ImportFileError, match="phone, gateway, keyword, status"):
        list(read_rows(rows))
