"""Wiring: settings -> gateways, Redis store, Kafka source and sink, the runner, web views;
``python -m processor run``.

faust-streaming provides the application's web frame: its aiohttp web service serves
``/healthz``, ``/readyz`` and ``/metrics`` in the worker's event loop. The hot path is the
runner (processor.pipeline.runner) on aiokafka adapters (processor.adapters.kafka), not a
faust agent: faust's own exactly-once mode has open
duplicate/loss bugs (faust-streaming #323, #517, #606), and its worker consumer reads
uncommitted records, so it must not consume our transactional topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import signal
import sys
from dataclasses import dataclass
from typing import Any

import faust
import redis.asyncio as aioredis
import structlog
from faust.web import Request, Response, View
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from processor.adapters.kafka.clients import kafka_client_options
from processor.adapters.kafka.recovery import rebuild_partition
from processor.adapters.kafka.sink import KafkaSink
from processor.adapters.kafka.source import KafkaSource
from processor.adapters.kafka.topic_admin import TopicSetupError
from processor.adapters.redis_connection import with_hiredis_packing
from processor.adapters.redis_store import RedisClient, RedisConsentStore
from processor.domain.gateways.config import Gateways
from processor.domain.gateways.parsing import GatewayConfigError
from processor.logs import configure_logging
from processor.metrics import Metrics
from processor.pipeline import BatchProcessor
from processor.pipeline.runner import Runner
from processor.ports import Clock, SystemClock
from processor.settings import Settings, SettingsError, load_gateways
from processor.startup import KafkaStartup
from processor.web import product_app

log = structlog.get_logger("consent_gate.app")


def build_web(worker: Runner, settings: Settings, startup: KafkaStartup) -> faust.App:
    """A faust app used for its web frame only: it starts no consumer and no producer, so it
    never connects to the broker named here (and needs none of the Kafka security settings)."""
    app = product_app(f"{settings.group_id}-web",
                      broker=f"kafka://{settings.kafka_bootstrap}",
                      host=settings.web_host, port=settings.web_port)

    @app.page("/healthz")
    class Healthz(View):
        async def get(self, request: Request) -> Response:
            return self.json({"alive": True})

    @app.page("/readyz")
    class Readyz(View):
        async def get(self, request: Request) -> Response:
            ready, problems = startup.readiness(worker)
            return self.json({"ready": ready, "problems": problems,
                              "partitions": sorted(worker.slots)},
                             status=200 if ready else 503)

    @app.page("/metrics")
    class MetricsView(View):
        async def get(self, request: Request) -> Response:
            worker.observe()
            worker.metrics.ready.set(int(startup.readiness(worker)[0]))
            return self.bytes(worker.metrics.exposition(),
                              content_type="text/plain; version=0.0.4")

    return app


def connect_redis(settings: Settings) -> RedisClient:
    timeout = settings.redis_timeout_s
    if settings.redis_cluster:
        return with_hiredis_packing(RedisCluster.from_url(
            settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout))
    # After a Redis restart every pooled connection is dead, and redis-py answers the first
    # command on each with "Connection closed by server" unless ConnectionError is listed to
    # be retried. One immediate retry on a new connection covers that; a Redis that is really
    # down still fails the batch at once, and one that hangs after its socket timeout (not
    # retried): the worker backs off and says so. Retrying a script is safe: a commit that
    # did run is refused by its version fence the second time.
    return with_hiredis_packing(aioredis.Redis.from_url(
        settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
        retry_on_error=[RedisConnectionError]))


def build_runner(settings: Settings, store: RedisConsentStore, gateways: Gateways,
                 clock: Clock) -> Runner:
    """The runner on the Kafka source and sink, deciding against `store`."""
    metrics = Metrics()
    return Runner(settings, BatchProcessor(store, gateways, clock), store, clock,
                  source=KafkaSource(settings, metrics), sink=KafkaSink(settings),
                  rebuild=functools.partial(rebuild_partition, settings, store),
                  metrics=metrics)


@dataclass
class Running:
    worker: Runner
    web: faust.App
    redis: RedisClient
    # Connects to Kafka (retrying), then runs the worker's loop.
    task: asyncio.Task[None]
    startup: KafkaStartup

    async def wait_serving(self, timeout: float) -> None:
        """Returns once the worker owns partitions; raises the worker's error if it ended."""
        serving = asyncio.ensure_future(self.worker.serving.wait())
        try:
            await asyncio.wait([serving, self.task], timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            serving.cancel()
        if self.task.done():
            self.task.result()
            raise RuntimeError("the worker stopped before it served")
        if not self.worker.serving.is_set():
            raise TimeoutError(f"the worker did not serve within {timeout}s "
                               f"({'; '.join(self.startup.readiness(self.worker)[1])})")

    async def stop(self) -> None:
        self.worker.request_stop()
        if not self.startup.connected.is_set():
            self.task.cancel()  # still connecting to Kafka: nothing to finish
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task  # raises the worker's error, once everything is closed
        finally:
            await self.worker.stop()
            await self.web.web.stop()
            await self.redis.aclose()


async def start_worker(settings: Settings, clock: Clock | None = None,
                       *, with_web: bool = True) -> Running:
    """Starts the web views, then the worker as soon as Kafka answers; returns a handle to
    stop both. When Kafka is unreachable or refuses us it returns all the same, and the
    worker's task keeps trying with backoff (processor.startup). Errors that retrying cannot
    fix (gateway or TLS files, a topic layout that differs) are raised here."""
    gateways = load_gateways(settings.gateways_file)
    kafka_client_options(settings)  # TLS files that cannot be loaded fail now, not per retry
    redis = connect_redis(settings)
    store = RedisConsentStore(redis, settings.redis_prefix,
                              retention_ms=settings.idempotency_retention_s * 1000,
                              cluster=settings.redis_cluster)
    clock = clock or SystemClock()
    worker = build_runner(settings, store, gateways, clock)
    startup = KafkaStartup(settings)
    web = build_web(worker, settings, startup)
    if with_web:
        await web.web.start()
    try:
        # The first try here: what retrying cannot fix is raised by start_worker itself.
        await startup.attempt(worker)
    except BaseException:
        await web.web.stop()
        await redis.aclose()
        raise
    task = asyncio.create_task(_connect_and_run(worker, startup, with_web),
                               name="consent-gate-worker")
    return Running(worker, web, redis, task, startup)


# CPython's cyclic collector runs a young-generation pass every 700 net container allocations,
# and each pass also walks whatever survived the last one. A batch allocates hundreds of
# thousands of short-lived objects (decoded records, states, outputs) that reference counting
# frees, so with the default threshold the collector ran hundreds of times per batch and found
# nothing: 15-25% of the pipeline benchmark's time.
YOUNG_GC_THRESHOLD = 50_000


def tune_gc() -> None:
    """Moves everything alive at start (modules, keyword tables, gateway config) out of the
    collector's view for good (``gc.freeze``) and lets the young generation grow to
    ``YOUNG_GC_THRESHOLD`` objects before a pass. Cycles are still collected, only less often;
    the memory they can hold meanwhile is bounded by that count. Called once, after start-up
    allocations and before the first batch."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, middle, old)


async def _connect_and_run(worker: Runner, startup: KafkaStartup, with_web: bool) -> None:
    settings = worker.settings
    await startup.connect(worker)
    tune_gc()
    log.info("worker started", group=settings.group_id, kafka=settings.kafka_bootstrap,
             kafka_security=settings.kafka_security_protocol,
             kafka_user=settings.kafka_sasl_username or None,
             web=f"http://{settings.web_host}:{settings.web_port}" if with_web else None)
    await worker.run()


def reload_gateways(running: Running) -> bool:
    """SIGHUP: reads the gateways file again; the new configuration decides the batches that
    start after it. A file that does not load or validate changes nothing: the error is
    logged and the worker goes on with the configuration it had. True when reloaded."""
    path = running.worker.settings.gateways_file
    try:
        gateways = load_gateways(path)
    except GatewayConfigError as exc:
        log.error("gateways file not reloaded; the previous configuration stays",
                  path=str(path), error=str(exc))
        return False
    running.worker.processor.use_gateways(gateways)
    log.info("gateways file reloaded", path=str(path), gateways=sorted(gateways.by_id))
    return True


async def run_forever(settings: Settings) -> None:
    running = await start_worker(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload_gateways, running)
    done, _ = await asyncio.wait(
        [asyncio.create_task(stop.wait()), running.task], return_when=asyncio.FIRST_COMPLETED)
    log.info("stopping")
    await running.stop()
    for task in done:
        if task is running.task and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


# Start-up errors that retrying cannot fix: one clear line and exit 2, no traceback.
STARTUP_ERRORS = (SettingsError, GatewayConfigError, TopicSetupError)


def main(args: Any) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"consent-gate: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    try:
        asyncio.run(run_forever(settings))
    except STARTUP_ERRORS as exc:
        log.error("cannot start", error=settings.redact(str(exc)))
        return 2
    return 0
