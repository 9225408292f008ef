"""The runner: source -> BatchProcessor -> sink, exactly once per input partition number.

It knows the ports only (processor.ports; the Kafka and Redis adapters are wired in by
processor.app). For each owned partition number the sink has one writer; a batch is the
records the source releases for one number, in decision order (broker time across the input
topics), decided against the consent store (written atomically, outcomes stored), then its
outputs and input offsets go to the sink in one transaction. If anything fails before the
commit, the transaction is aborted, the source rewinds the number to its committed offsets,
and the batch is decided again later: its stored outcomes make the second decision identical
to the first.

Each number decides one batch at a time while the main loop goes on fetching, so a number
never waits behind another one's transaction. Errors are the ports' own: retriable ones
(StoreUnavailableError, StreamUnavailableError, a version conflict) back the number off; a
fenced sink gives the number up; the dead-letter limit, an output too large and a store
behind Kafka stop the number (the latter until it is recovered from the consent-state
topic).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time

import structlog

from processor.metrics import Metrics
from processor.pipeline.batch import BatchOutcome, BatchProcessor
from processor.pipeline.dead_letter_limit import DeadLetterLimit, DeadLetterLimitError
from processor.pipeline.recovery import StoreGuard
from processor.pipeline.slots import Health, PartitionSlot
from processor.pipeline.window_timer import WindowTimer, tick_record
from processor.ports import (
    Clock,
    ConsentStore,
    InputPartition,
    InputRecord,
    OutputTooLargeError,
    Progress,
    Rebuild,
    Sink,
    SinkFencedError,
    SinkUnavailableError,
    Source,
    StoreBehindError,
    StoreUnavailableError,
    StreamUnavailableError,
    VersionConflictError,
)
from processor.settings import Settings
from processor.topics import Topic

log = structlog.get_logger("consent_gate.worker")


class Runner:
    def __init__(self, settings: Settings, processor: BatchProcessor, store: ConsentStore,
                 clock: Clock, *, source: Source, sink: Sink, rebuild: Rebuild,
                 metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.processor = processor
        self.store = store
        self.clock = clock
        self.source = source
        self.sink = sink
        self.metrics = metrics or Metrics()
        self.health = Health()
        self.slots: dict[int, PartitionSlot] = {}
        self.lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        # Numbers whose sink was fenced: another member owns them now. Not reopened until the
        # next assignment says otherwise (reopening would fence the rightful owner).
        self._fenced: set[int] = set()
        # Set once the runner owns partitions with open sinks (demo, tests, readiness).
        self.serving = asyncio.Event()
        self._dlq_limit = DeadLetterLimit(settings.dlq_window, settings.dlq_max_invalid_ratio,
                                          settings.dlq_min_invalid)
        self._last_timer = 0.0
        self._timer = WindowTimer(store)
        self.guard = StoreGuard(self, rebuild)
        # The batch each partition number is deciding and committing right now (at most one:
        # a number's batches commit in order).
        self._inflight: dict[int, asyncio.Task[None]] = {}
        # A bug in a batch (not Kafka, not Redis): the main loop raises it, as it would have.
        self._crashed: BaseException | None = None

    # Lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connects the sink and the source (joining the group); on failure nothing is left
        open."""
        await self.sink.start()
        try:
            await self.source.start(self.on_assigned, self.on_revoked)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.sink.stop()
            raise
        self.health.kafka_ok = True

    async def stop(self) -> None:
        self._stopping.set()
        for slot in self.slots.values():
            self.guard.cancel(slot)
        # Outside the lock: leaving the group can wait for an assignment callback that waits
        # for the lock. (aiokafka does not call the revoke callback on close.)
        await self.source.leave()
        async with self.lock:
            await self._settle_batches(set(self._inflight))
            self.slots.clear()
            await self.sink.stop()
            await self.source.close()

    def in_flight(self, number: int) -> bool:
        return number in self._inflight

    def request_stop(self) -> None:
        self._stopping.set()

    @property
    def paused(self) -> set[InputPartition]:
        """The input topic partitions this worker stopped fetching."""
        return self.source.paused()

    @property
    def ready(self) -> tuple[bool, list[str]]:
        problems = self.health.reasons(self.slots,
                                       self.source.waits(self.settings.order_wait_alert_s))
        return not problems, problems

    def observe(self) -> None:
        """Sets the gauges that describe the worker now (called when /metrics is read)."""
        m = self.metrics
        m.kafka_up.set(int(self.health.kafka_ok))
        m.redis_up.set(int(self.health.redis_ok))
        m.assigned.set(len(self.slots))
        m.dlq_paused.set(sum(1 for s in self.slots.values() if s.paused_reason))
        m.recovering.set(sum(1 for s in self.slots.values() if s.recovering))
        m.consumer_lag.clear()
        for number in sorted(self.slots):
            for topic, lag in self.source.lag(number).items():
                m.consumer_lag.labels(topic, str(number)).set(lag)

    # Rebalance -------------------------------------------------------------------------------

    async def on_revoked(self, numbers: set[int]) -> None:
        async with self.lock:
            self.source.invalidate()
            await self._settle_batches(numbers)  # they finish (commit or abort) first
            for number in sorted(numbers):
                slot = self.slots.get(number)
                self.source.forget(number, halted=slot is not None and slot.halted)
                self.slots.pop(number, None)
                if slot is not None:
                    self.guard.cancel(slot)
                    await self.sink.close(number)
            self.metrics.assigned.set(len(self.slots))
            log.info("partitions revoked", partitions=sorted(numbers))

    async def on_assigned(self) -> None:
        async with self.lock:
            self.source.invalidate()
            self._fenced.clear()
            self.health.joined = True
            log.info("partitions assigned", partitions=sorted(self.source.owned()))
            try:
                await self.open_partitions()
            except StreamUnavailableError as exc:
                # aiokafka would swallow this; the main loop retries the missing slots.
                log.warning("could not open partition producers yet", error=str(exc))

    async def open_partitions(self) -> None:
        """Opens the sink of every owned partition number that lacks one (or whose sink
        broke), then has the source position those partitions at their committed offsets:
        only with every older owner fenced are committed offsets final."""
        opened = []
        try:
            for number in sorted(self.source.owned()):
                slot = self.slots.get(number)
                if (slot is not None and not slot.broken) or number in self._fenced:
                    continue
                if slot is not None:
                    await self.sink.close(number)
                await self.sink.open(number)
                if slot is not None:
                    self.guard.cancel(slot)  # the new slot checks the store again
                self.slots[number] = PartitionSlot(
                    number, slot.recent_invalid if slot else self._dlq_limit.empty(),
                    paused_reason=slot.paused_reason if slot else None)
                opened.append(number)
        finally:
            # Also when a later one failed to open: those opened are positioned now.
            await self.source.take(opened, [n for n in opened if self.slots[n].halted])
        self.metrics.assigned.set(len(self.slots))
        if self.slots:
            self.serving.set()

    # Main loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Consumes until stopped. Failures are retried with backoff; nothing is skipped."""
        backoff = 0.1
        source = self.source
        try:
            while not self._stopping.is_set():
                epoch = source.epoch
                try:
                    fetched = await source.fetch()
                    self.health.kafka_ok = True
                    async with self.lock:
                        if self._crashed is not None:
                            raise self._crashed
                        await source.settle(epoch, self.open_partitions, set(self._inflight))
                        await self.guard.check()
                        now = time.monotonic()
                        ready = await source.release(
                            [n for n, s in self.slots.items() if s.deciding
                             and n not in self._inflight and s.retry_at <= now],
                            self.settings.batch_max_records)
                        self._dispatch(ready)
                        source.flow_control({n for n, s in self.slots.items() if s.halted})
                        if ready or not fetched:
                            backoff = 0.1  # progress (or nothing to do), not a repositioning
                        await self._maybe_tick()
                except StreamUnavailableError as exc:
                    self.health.kafka_ok = False
                    log.warning("kafka unavailable; nothing committed", error=str(exc),
                                backoff=backoff)
                except StoreUnavailableError as exc:
                    self.health.redis_ok = False
                    log.warning("redis unavailable; nothing committed", error=str(exc),
                                backoff=backoff)
                else:
                    continue
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        finally:
            await self._settle_batches(set(self._inflight))

    # Batches -------------------------------------------------------------------------------

    def _dispatch(self, ready: dict[int, list[InputRecord]]) -> None:
        """Starts one batch per number that has released records; each decides and commits
        on its own while the main loop fetches and releases the other numbers' records."""
        for number, records in sorted(ready.items()):
            task = asyncio.create_task(self._run_batch(number, records),
                                       name=f"consent-gate-batch-p{number}")
            self._inflight[number] = task

    async def _run_batch(self, number: int, records: list[InputRecord]) -> None:
        """One batch of one number. Failures that retrying cures are logged and the number
        backs off (its records were put back: they are decided again); others end the
        worker through the main loop."""
        slot = self.slots[number]
        try:
            await self._process_partition(slot, records)
            slot.backoff = 0.1
        except StreamUnavailableError as exc:
            self.health.kafka_ok = False
            self._back_off(slot, "kafka unavailable; nothing committed", exc)
        except StoreUnavailableError as exc:
            self.health.redis_ok = False
            self._back_off(slot, "redis unavailable; nothing committed", exc)
        except VersionConflictError as exc:
            self._back_off(slot, "state written by another worker; batch will be decided "
                                 "again", exc)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._crashed = exc
        finally:
            self._inflight.pop(number, None)
            self.source.wake()

    def _back_off(self, slot: PartitionSlot, message: str, exc: BaseException) -> None:
        log.warning(message, partition=slot.number, error=str(exc), backoff=slot.backoff)
        slot.retry_at = time.monotonic() + slot.backoff
        slot.backoff = min(slot.backoff * 2, 5.0)

    async def _settle_batches(self, numbers: set[int]) -> None:
        """Waits for the batches in flight of `numbers` to commit or abort."""
        tasks = [task for number, task in self._inflight.items() if number in numbers]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _process_partition(self, slot: PartitionSlot, inputs: list[InputRecord]) -> None:
        number = slot.number
        started = time.monotonic()
        ages = record_ages(inputs, time.time())
        offsets = {r.topic: r.offset + 1 for r in inputs}  # the last one of each topic
        progress = Progress(
            committed={t.value: o for t, o in self.source.committed(number).items()},
            covered={t.value: o for t, o in offsets.items()})
        try:
            outcome, decided = await self._decide_and_commit(slot, inputs, progress, offsets)
            self.source.committed_to(number, offsets)
        except SinkFencedError:
            # Another worker owns this number now: drop it and let the rebalance settle.
            self.source.rewind(number)
            self.source.forget(number, halted=slot.halted)
            self.slots.pop(number, None)
            self._fenced.add(number)
            self.metrics.aborted.labels("fenced").inc()
            await self.sink.close(number)
            log.warning("producer fenced; partition given up", partition=number)
            return
        except DeadLetterLimitError as exc:
            self.source.rewind(number)
            self.stop_partition(slot, f"{exc}; see {self.settings.topics(Topic.DEAD_LETTER)}")
            return
        except StoreBehindError as exc:
            self.health.redis_ok = True
            self.metrics.aborted.labels("store_behind").inc()
            self.source.rewind(number)
            self.guard.recover(slot, str(exc))
            return
        except OutputTooLargeError as exc:
            # Retrying cannot help: stop the partition and say why, loudly.
            self.source.rewind(number)
            slot.broken = True
            self.stop_partition(slot, str(exc))
            return
        except StoreUnavailableError:
            self.health.redis_ok = False
            self.metrics.aborted.labels("redis").inc()
            self.source.rewind(number)
            raise
        except SinkUnavailableError as exc:
            slot.broken = True  # a sink partition after a failed transaction is reopened
            self.metrics.aborted.labels(type(_origin(exc)).__name__).inc()
            self.source.rewind(number)
            raise
        except BaseException as exc:
            self.metrics.aborted.labels(type(_origin(exc)).__name__).inc()
            self.source.rewind(number)
            raise
        ended = time.monotonic()
        elapsed = ended - started
        self.metrics.batch_seconds.observe(elapsed)
        phases = {"decide": decided - started, "commit": ended - decided}
        for phase, seconds in phases.items():
            self.metrics.batch_phase_seconds.labels(phase).observe(seconds)
        for record, seconds in ages.items():
            self.metrics.batch_record_age_seconds.labels(record).observe(seconds)
        self.metrics.batches.inc()
        # Counted per batch, not per record: labels().inc() is not free on the hot path.
        for (topic, kind), count in outcome.counts.items():
            self.metrics.records.labels(topic.value, kind).inc(count)
        for topic, count in collections.Counter(o.topic for o in outcome.outputs).items():
            self.metrics.outputs.labels(topic.value).inc(count)
        log.info("batch committed", partition=number, records=len(inputs),
                 decided=outcome.decided, replayed=outcome.replayed, invalid=outcome.invalid,
                 outputs=len(outcome.outputs), ms=round(elapsed * 1000, 1),
                 **{f"{name}_ms": round(seconds * 1000, 1)
                    for name, seconds in (phases | ages).items()})

    def stop_partition(self, slot: PartitionSlot, reason: str) -> None:
        """Stops fetching every input topic of the partition number and reports why."""
        slot.paused_reason = reason
        self.source.pause(slot.number, owned_only=False)
        self.metrics.dlq_paused.set(sum(1 for s in self.slots.values() if s.paused_reason))
        log.error("partition stopped", partition=slot.number, reason=reason)

    async def _decide_and_commit(self, slot: PartitionSlot, inputs: list[InputRecord],
                                 progress: Progress,
                                 offsets: dict[Topic, int]) -> tuple[BatchOutcome, float]:
        """Decides the batch (store written) and commits its outputs and offsets in one
        transaction; the offsets join it while the batch is being decided. The invalid
        records are counted once, for the batch that was committed. Returns the outcome and
        when it was decided (monotonic)."""
        transaction = await self.sink.begin(slot.number, offsets)
        try:
            outcome = await self.processor.process(inputs, slot.number, progress)
            self.health.redis_ok = True
            recent = self._dlq_limit.check(slot.recent_invalid, outcome.invalid_flags)
            decided = time.monotonic()
            await transaction.commit(outcome.outputs)
        except BaseException as exc:
            cause = await transaction.abort()
            if cause is not None and _origin(cause) is not _origin(exc):
                # The sink failed under the offsets (fenced, say): what came after it
                # ("not in transaction") is a consequence, not the reason.
                raise cause from exc
            raise
        slot.recent_invalid = recent
        return outcome, decided

    # Timer -----------------------------------------------------------------------------------

    async def _maybe_tick(self) -> None:
        """Asks for due confirmation windows to be expired, through sms.commands, so each
        expiry is decided exactly once like any other input (see pipeline.window_timer)."""
        now_mono = time.monotonic()
        if now_mono - self._last_timer < self.settings.timer_interval_s:
            return
        self._last_timer = now_mono
        now = self.clock.now_ms()
        for number in sorted(n for n, slot in self.slots.items() if slot.deciding):
            ticks, settlement = await self._timer.due(number, now)
            await self.sink.send(number, [tick_record(t) for t in ticks])
            # Only once every tick is durably on the topic are the entries leased or dropped.
            await self._timer.settle(number, settlement)
            self.metrics.ticks.inc(len(ticks))
        self.health.redis_ok = True


def record_ages(inputs: list[InputRecord], now: float) -> dict[str, float]:
    """How long the newest and the oldest input had been in Kafka at `now` (seconds, from the
    broker's append times in ms): {"newest": ..., "oldest": ...}, or {} when no input has a
    broker time (0 or less: a fake source, a record written before LogAppendTime)."""
    stamped = [r.timestamp for r in inputs if r.timestamp > 0]
    if not stamped:
        return {}
    return {"newest": max(0.0, now - max(stamped) / 1000),
            "oldest": max(0.0, now - min(stamped) / 1000)}


def _origin(exc: BaseException) -> BaseException:
    """The library error an adapter translated (or the error itself): the aborted-batch
    metric's reason names its type, as before the ports had errors of their own."""
    return exc.__cause__ or exc
