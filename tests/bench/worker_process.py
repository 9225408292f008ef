"""The real worker in a process of its own, for the benchmark:
``python -m tests.bench.worker_process`` (settings from the environment, as for
``python -m processor run``; no web views).

It adds what the benchmark cannot see from outside: when the first batch reached the pipeline
(the start of the clock), and where the batches spent their time. Both go to stdout as JSON
lines; logs go to stderr as usual. SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from processor.app import start_worker
from processor.domain.gateways.config import Gateways
from processor.logs import configure_logging
from processor.pipeline import BatchOutcome, BatchProcessor, InputRecord
from processor.ports import NO_PROGRESS, Clock, ConsentStore, Progress
from processor.settings import Settings, load_gateways


class StampedBatchProcessor(BatchProcessor):
    """The real BatchProcessor, noting when the first batch arrived and where time went."""

    def __init__(self, store: ConsentStore, gateways: Gateways, clock: Clock) -> None:
        super().__init__(store, gateways, clock)
        self.first_batch_at: float | None = None
        self.batches = 0
        self.records = 0
        self.replayed = 0
        # Wall time with at least one batch inside the pipeline (partitions overlap).
        self.busy_seconds = 0.0
        # This process's CPU time from the first batch in to the last batch out.
        self.cpu_seconds = 0.0
        self._active = 0
        self._busy_since = 0.0
        self._cpu_at_first = 0.0

    async def process(self, records: Sequence[InputRecord], partition: int,
                      progress: Progress = NO_PROGRESS) -> BatchOutcome:
        started = time.monotonic()
        if self.first_batch_at is None:
            self.first_batch_at = started
            self._cpu_at_first = time.process_time()
            emit({"first_batch_at": started})
        if self._active == 0:
            self._busy_since = started
        self._active += 1
        try:
            outcome = await super().process(records, partition, progress)
        finally:
            self._active -= 1
            if self._active == 0:
                self.busy_seconds += time.monotonic() - self._busy_since
            self.cpu_seconds = time.process_time() - self._cpu_at_first
        self.batches += 1
        self.records += len(records)
        self.replayed += outcome.replayed
        return outcome


def emit(message: dict[str, Any]) -> None:
    """One JSON line to the benchmark, flushed at once (it times the first one)."""
    sys.stdout.buffer.write(orjson.dumps(message) + b"\n")
    sys.stdout.flush()


async def serve() -> None:
    """Runs the worker until SIGTERM, then reports its counters."""
    settings = Settings.from_env()
    configure_logging(settings)
    running = await start_worker(settings, with_web=False)
    # start_worker returns before its worker task first runs: no batch can miss the stamp.
    stamped = StampedBatchProcessor(running.worker.store, load_gateways(settings.gateways_file),
                                    running.worker.clock)
    running.worker.processor = stamped

    async def announce_serving() -> None:
        await running.worker.serving.wait()
        emit({"serving_at": time.monotonic()})

    announcing = asyncio.create_task(announce_serving())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([stopping, running.task], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    announcing.cancel()
    await running.stop()  # re-raises the worker's error if it failed: the process exits non-zero
    registry = running.worker.metrics.registry
    aborted = sum(sample.value for metric in registry.collect()
                  if metric.name == "consent_gate_batches_aborted"
                  for sample in metric.samples if sample.name.endswith("_total"))
    emit({
        "batches": stamped.batches, "records": stamped.records, "replayed": stamped.replayed,
        "pipeline_busy_seconds": stamped.busy_seconds, "cpu_seconds": stamped.cpu_seconds,
        # Summed over partition batches, which overlap in time.
        "batch_seconds_summed": registry.get_sample_value("consent_gate_batch_seconds_sum"),
        "aborted_batches": aborted,
    })


# Set in the worker's environment: the path its cProfile statistics are written to (the
# profile's fallback where py-spy cannot attach; see tests.bench.profile).
CPROFILE_ENV = "BENCH_CPROFILE"


@contextlib.contextmanager
def cprofile_from_env() -> Iterator[None]:
    """Profiles the block with cProfile when ``BENCH_CPROFILE`` names a file for it."""
    path = os.environ.get(CPROFILE_ENV)
    if not path:
        yield
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


if __name__ == "__main__":
    with cprofile_from_env():
        asyncio.run(serve())
