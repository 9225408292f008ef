"""The worker's web views and metrics tell the truth, and SIGHUP reloads the gateways file.

A real worker process: its web server listens where the settings say (127.0.0.1, not every
interface), serves only the product's views (none of faust's pages), and /metrics reports
Kafka and Redis as up, the consumer lag of every owned input partition, and the decided,
replayed and dead-lettered records. SIGHUP reloads the gateways file; one that does not
validate changes nothing and stops nothing.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
import yaml

from processor.domain.models.enums import SendDebug, SendStatus
from processor.topics import INPUT_TOPICS, Topic
from tests.faults.conftest import WorkerLauncher, WorkerProcess, wait_for
from tests.support.consent_helpers import send
from tests.support.harness import Stack, private_stack

pytestmark = pytest.mark.faults

PHONE = "+12025550123"
GATEWAYS = {"defaults": {"brand": "Acme", "program": "Alerts",
                         "help_contact": "help@acme.example"},
            "gateways": {"gw1": {"mode": "default"}}}


def listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp spells them) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (fails when it is missing)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}(\{{{re.escape(wanted)}\}})? (\S+)$" if wanted else \
        rf"^{re.escape(name)} (\S+)$"
    for line in text.splitlines():
        if line.startswith(name) and "{" in line and wanted:
            sample_labels = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if sample_labels == labels:
                return float(line.rsplit(" ", 1)[1])
        elif not wanted and re.match(pattern, line):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}{labels} in /metrics")


async def decide(stack: Stack, request_id: str, count: int) -> SendStatus:
    await stack.send(send("gw1", request_id=request_id, phone=PHONE))
    results = await stack.read(Topic.SEND_RESULTS, count)
    (result,) = [r for r in results if r.request_id == request_id][-1:]
    return result.status if result.debug is None else result.debug  # type: ignore[return-value]


async def test_web_views_bind_where_configured_and_metrics_tell_the_truth(
        tmp_path: Path, workers: WorkerLauncher) -> None:
    async with private_stack(tmp_path, GATEWAYS) as stack:
        worker = await workers.start(stack.settings)
        await worker.wait_ready()
        assert listening_addresses(worker.web_port) == {"0100007F"}  # 127.0.0.1 only
        for path in ("/", "/router/", "/table/", "/graph/", "/stats/"):  # faust's own pages
            assert (await worker.get(path) or (0, ""))[0] == 404, path
        key = PHONE.encode()
        await stack.send(send("gw1", request_id="r-1", phone=PHONE))
        await stack.send(send("gw1", request_id="r-2", phone=PHONE))
        await stack.send(send("gw1", request_id="r-1", phone=PHONE))  # a duplicate: replayed
        await stack.produce(Topic.SEND_REQUESTS, b"not json", key)  # dead-lettered
        await stack.read(Topic.SEND_RESULTS, 3)
        await stack.read(Topic.DEAD_LETTER, 1)

        async def settled() -> str | None:
            text = await worker.metrics()
            lags = [metric(text, "consent_gate_consumer_lag", topic=stack.settings.topics(t),
                           partition=str(n))
                    for t in INPUT_TOPICS for n in range(stack.settings.partitions)]
            return text if not any(lags) else None

        text = await wait_for(settled, 10, "every input decided")
        assert metric(text, "consent_gate_kafka_up") == 1
        assert metric(text, "consent_gate_redis_up") == 1
        assert metric(text, "consent_gate_ready") == 1
        assert metric(text, "consent_gate_assigned_partitions") == stack.settings.partitions
        sends = Topic.SEND_REQUESTS.value
        assert metric(text, "consent_gate_records_total", topic=sends, outcome="decided") == 2
        assert metric(text, "consent_gate_records_total", topic=sends, outcome="replayed") == 1
        assert metric(text, "consent_gate_records_total", topic=sends,
                      outcome="dead_lettered") == 1
        assert metric(text, "consent_gate_batches_total") >= 1
        for phase in ("decide", "commit"):
            assert metric(text, "consent_gate_batch_phase_seconds_count", phase=phase) >= 1
        assert metric(text, "consent_gate_batch_phase_seconds_sum", phase="commit") > 0
        for record in ("newest", "oldest"):
            assert metric(text, "consent_gate_batch_record_age_seconds_count",
                          record=record) >= 1


async def test_sighup_reloads_the_gateways_file_and_a_bad_one_changes_nothing(
        tmp_path: Path, workers: WorkerLauncher) -> None:
    async with private_stack(tmp_path, GATEWAYS) as stack:
        config = stack.settings.gateways_file
        assert config is not None
        worker = await workers.start(stack.settings)
        await worker.wait_ready()
        assert await decide(stack, "before", 1) is SendStatus.FORWARDED
        mandatory = {**GATEWAYS, "gateways": {"gw1": {"mode": "mandatory"}}}
        config.write_text(yaml.safe_dump(mandatory))
        await reload(worker, "gateways file reloaded")
        assert await decide(stack, "mandatory", 2) is SendDebug.NO_OPT_IN
        config.write_text("gateways: {gw1: {mode: sometimes}}\n")  # does not validate
        await reload(worker, "gateways file not reloaded; the previous configuration stays")
        worker.check_alive()
        assert await decide(stack, "still-mandatory", 3) is SendDebug.NO_OPT_IN
        assert (await worker.readyz() or (0, {}))[0] == 200


async def reload(worker: WorkerProcess, event: str) -> None:
    seen = sum(1 for line in worker.log_lines() if line.get("event") == event)
    worker.process.send_signal(signal.SIGHUP)
    await wait_for(lambda: sum(1 for line in worker.log_lines()
                               if line.get("event") == event) > seen, 10, event)
