"""Start-up against Kafka: retry with backoff until it answers, and say why not meanwhile.

A worker that starts while Kafka is down, or while Kafka refuses its credentials or its TLS,
keeps its web views up, answers ``/readyz`` with 503 and the reason, and keeps trying, instead
of exiting with a traceback and being restarted in a loop. Each different reason is logged
once: at error level when Kafka refused us (a person must fix credentials or certificates),
at warning level when it is not there (it may just be starting).
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka.errors import KafkaError

from processor.adapters.kafka.clients import KafkaUnreachableError, probe_kafka
from processor.adapters.kafka.topic_admin import create_topics
from processor.pipeline.runner import Runner
from processor.ports import StreamUnavailableError
from processor.settings import Settings

log = structlog.get_logger("consent_gate.startup")

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 5.0


class KafkaStartup:
    """Connects the worker to Kafka (topics created, group joined), retrying until it works."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Why the worker is not connected yet; None once it is.
        self.problem: str | None = "connecting to kafka"
        self.connected = asyncio.Event()
        self.attempts = 0
        self._logged: str | None = None  # the last reason logged

    def readiness(self, worker: Runner) -> tuple[bool, list[str]]:
        """What ``/readyz`` says: the start-up problem until connected, then the worker's."""
        if self.problem is not None:
            return False, [self.problem]
        return worker.ready

    async def connect(self, worker: Runner) -> None:
        """Returns once the topics exist and the worker started, trying again with backoff.
        Errors that retrying cannot fix (settings, a topic layout that differs) are raised."""
        backoff = BACKOFF_FIRST_S
        while not self.connected.is_set():
            if self.attempts:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            await self.attempt(worker)

    async def attempt(self, worker: Runner) -> bool:
        """One try: probe, create the topics, start the worker. True once connected; False
        (the reason in ``problem``, logged when it is new) when Kafka is not there or
        refused us."""
        self.attempts += 1
        try:
            await probe_kafka(self.settings)
            await create_topics(self.settings)
            await worker.start()
        except KafkaUnreachableError as exc:
            problem, refused = exc.reason, exc.refused
        except (KafkaError, OSError, StreamUnavailableError) as exc:
            # Kafka answered the probe and failed a moment later: it is (re)starting.
            cause = exc.__cause__ if isinstance(exc, StreamUnavailableError) else exc
            problem = self.settings.redact(f"kafka unreachable: {cause!r}")
            refused = False
        else:
            if self._logged is not None:
                log.info("kafka available", attempts=self.attempts)
            self.problem = None
            self.connected.set()
            return True
        self.problem = problem
        if problem != self._logged:
            report = log.error if refused else log.warning
            report("kafka not available; retrying", reason=problem)
            self._logged = problem
        return False
