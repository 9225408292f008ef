"""Live consent reports (``python -m processor reports-service``): a faust-streaming agent over
``sms.consent-events`` counts transitions per day × gateway × from → to × source in a table,
served as JSON at ``/v1/reports`` and as Prometheus counters at ``/metrics``.

This is what faust is good at: a table kept in memory and rebuilt from its compacted changelog
topic after a restart (faust's recovery), not the exactly-once hot path (see README). Two
things are set deliberately:

* faust's worker consumer reads ``read_uncommitted`` unless faust's own exactly-once mode is on
  (faust-streaming ``AIOKafkaConsumerThread._create_worker_consumer``), and that mode has open
  duplicate/loss bugs. The worker writes consent events in transactions and aborts a batch it
  retries, so an uncommitted read would count aborted events. :class:`ReadCommittedTransport`
  gives the consumer ``read_committed`` and nothing else changes.
* faust writes a table update to the changelog partition of the event being processed. Events
  are keyed by phone, so one count key can be updated from several partitions; the table key
  therefore starts with the source partition (``p3|...``) and the reply sums over partitions.

One replica serves every partition's counts; with several, each would answer only for the
partitions it owns (run one: the aggregation is small).
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import faust
import structlog
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry, Counter, generate_latest

from processor import codec
from processor.adapters.kafka.clients import faust_broker, faust_credentials
from processor.logs import configure_logging
from processor.ports import Clock, SystemClock
from processor.reports.counts import SEPARATOR, count_key, render, report, since_ms
from processor.settings import Settings
from processor.topics import Topic
from processor.web import product_app

log = structlog.get_logger("consent_gate.reports")

TABLE = "consent-transitions"


class ReadCommittedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads the level when the consumer starts (its Fetcher); it is set here,
        # before the start. tests/integration/test_reports.py proves aborted events are
        # not counted, so an aiokafka that renamed the attribute fails loudly there.
        if not hasattr(consumer, "_isolation_level"):
            raise RuntimeError("aiokafka's consumer has no _isolation_level; cannot make the "
                               "faust consumer read committed records only")
        consumer._isolation_level = "read_committed"
        return consumer


class ReadCommittedConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ReadCommittedConsumerThread:
        return ReadCommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)


class ReadCommittedTransport(faust_aiokafka.Transport):
    Consumer = ReadCommittedConsumer


class ReportMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.transitions = Counter(
            "consent_gate_consent_transitions", "Consent changes by gateway, from, to, source",
            ["gateway", "previous_status", "status", "source"], registry=self.registry)
        self.undecodable = Counter("consent_gate_reports_undecodable_events",
                                   "Consent events the reports could not read", [],
                                   registry=self.registry)


@dataclass
class ReportsApp:
    app: faust.App
    table: Any
    metrics: ReportMetrics
    # faust creates a data directory even for the memory store; a private temporary one
    # keeps it off the working directory (read-only in the container).
    datadir: tempfile.TemporaryDirectory[str]

    async def start(self) -> None:
        await self.app.start()

    async def stop(self) -> None:
        await self.app.stop()
        self.datadir.cleanup()

    def counts(self) -> list[tuple[str, int]]:
        """(count key, count) over every partition this replica holds."""
        return [(key.partition(SEPARATOR)[2], int(value)) for key, value in self.table.items()]


def build_reports_app(settings: Settings, clock: Clock | None = None) -> ReportsApp:
    now: Clock = clock or SystemClock()
    datadir = tempfile.TemporaryDirectory(prefix="consent-gate-reports-")
    app = product_app(
        f"{settings.topic_prefix}{settings.group_id}-reports",
        broker=faust_broker(settings), store="memory://",
        broker_credentials=faust_credentials(settings),
        host=settings.reports_host, port=settings.reports_port,
        consumer_auto_offset_reset="earliest",
        datadir=datadir.name,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
    )
    app.transport = ReadCommittedTransport(app.conf.broker_consumer, app)
    events = app.topic(settings.topics(Topic.CONSENT_EVENTS), key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")
    table = app.Table(TABLE, default=int, partitions=settings.partitions,
                      key_type=str, value_type=int)
    metrics = ReportMetrics()
    reports = ReportsApp(app, table, metrics, datadir)

    @app.agent(events)
    async def count_transitions(stream: Any) -> AsyncIterator[None]:
        async for event in stream.events():
            try:
                consent = codec.decode_consent_event(event.value)
            except codec.DecodeError as exc:
                metrics.undecodable.inc()
                log.warning("undecodable consent event", partition=event.message.partition,
                            offset=event.message.offset, reason=str(exc))
                continue
            table[f"p{event.message.partition}{SEPARATOR}{count_key(consent)}"] += 1
            metrics.transitions.labels(consent.gateway, consent.previous_status,
                                       consent.status, consent.source).inc()
            yield None

    @app.page("/v1/reports")
    class Reports(View):
        async def get(self, request: Request) -> Response:
            query = request.query
            try:
                since = since_ms(query.get("since", "7d"), now.now_ms())
            except ValueError as exc:
                return self.json({"error": str(exc)}, status=422)
            result = report(reports.counts(), since=since, gateway=query.get("gateway"))
            return self.bytes(render(result, "json").encode(), content_type="application/json")

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(generate_latest(metrics.registry),
                              content_type="text/plain; version=0.0.4")

    @app.page("/healthz")
    class Healthz(View):
        async def get(self, request: Request) -> Response:
            return self.json({"ok": True})

    return reports


async def serve_forever(settings: Settings) -> None:
    reports = build_reports_app(settings)
    await reports.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("reports started", web=f"http://{settings.reports_host}:{settings.reports_port}")
    await stop.wait()
    await reports.stop()


def run(args: Any) -> int:
    settings = Settings.from_env()
    configure_logging(settings)
    asyncio.run(serve_forever(settings))
    return 0
