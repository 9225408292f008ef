"""The consent store compared with the committed offsets, and recovered when it lost writes.

The store records, with every batch's writes, how far each input partition is decided. For
every new partition slot before it decides anything, and for all of them once per timer
interval (a store can be wiped while nothing arrives), the runner compares that with the
offsets the sink committed. A store behind them lost writes (flushed, restarted without its
data, rolled back): the partition stops deciding and is rebuilt from the consent-state topic
(the ``Rebuild`` port, processor.adapters.kafka.recovery) before it decides again.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog

from processor.pipeline.slots import PartitionSlot
from processor.ports import Rebuild, StoreBehindError, describe

if TYPE_CHECKING:
    from processor.pipeline.runner import Runner

log = structlog.get_logger("consent_gate.worker")


class StoreGuard:
    def __init__(self, runner: Runner, rebuild: Rebuild) -> None:
        self._runner = runner
        self._rebuild = rebuild
        self._last_check = 0.0

    async def check(self) -> None:
        """Compares the store's progress with the committed offsets (module doc)."""
        runner = self._runner
        now = time.monotonic()
        every = now - self._last_check >= runner.settings.timer_interval_s
        if every:
            self._last_check = now
        for number, slot in sorted(runner.slots.items()):
            if slot.recovering or slot.broken or (slot.store_checked and not every):
                continue
            if runner.in_flight(number):
                # Its commit makes the same check, atomically with its writes.
                continue
            held = await runner.store.progress(number)
            runner.health.redis_ok = True
            behind = [(topic, held.get(topic.value), offset)
                      for topic, offset in sorted(runner.source.committed(number).items())
                      if held.get(topic.value, -1) < offset]
            slot.store_checked = True
            if behind:
                topic, have, offset = behind[0]
                self.recover(slot, str(StoreBehindError(number, topic.value, have, offset)))

    def recover(self, slot: PartitionSlot, reason: str) -> None:
        """Stops deciding the partition and rebuilds its store in the background."""
        runner = self._runner
        if slot.recovering:
            return
        slot.recovering = reason
        runner.source.rewind(slot.number)
        runner.source.pause(slot.number)
        runner.metrics.recoveries.inc()
        runner.metrics.recovering.set(sum(1 for s in runner.slots.values() if s.recovering))
        log.error("consent store behind Kafka; recovering the partition from the "
                  "consent-state topic before it decides again",
                  partition=slot.number, reason=reason)
        slot.recovery = asyncio.create_task(self._recover(slot),
                                            name=f"consent-gate-recover-p{slot.number}")

    async def _recover(self, slot: PartitionSlot) -> None:
        runner = self._runner
        started = time.monotonic()
        committed = {t.value: o for t, o in runner.source.committed(slot.number).items()}
        attempt = 0
        while True:
            attempt += 1
            try:
                rebuilt = await self._rebuild(
                    slot.number, committed,
                    lambda done, total: self._progress(slot, done, total))
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # retried: the partition stays stopped and says why
                slot.recovering = f"recovery attempt {attempt} failed ({describe(exc)}); retrying"
                log.error("recovery failed; retrying", partition=slot.number, error=describe(exc))
                await asyncio.sleep(min(30.0, 2.0 * attempt))
        async with runner.lock:
            if runner.slots.get(slot.number) is not slot:
                return  # revoked or reopened meanwhile: the new slot checks the store itself
            slot.recovering = None
            slot.recovery = None
            runner.metrics.recovering.set(sum(1 for s in runner.slots.values() if s.recovering))
            if not slot.paused_reason:
                runner.source.resume(slot.number)
        log.info("partition recovered from the consent-state topic", partition=slot.number,
                 records=rebuilt.records, subscriptions=rebuilt.subscriptions,
                 written=rebuilt.written, seconds=round(time.monotonic() - started, 2))

    def _progress(self, slot: PartitionSlot, done: int, total: int) -> None:
        if slot.recovering and self._runner.slots.get(slot.number) is slot:
            reason = slot.recovering.split(" (read ")[0]
            slot.recovering = f"{reason} (read {done} of {total} state records)"

    @staticmethod
    def cancel(slot: PartitionSlot) -> None:
        if slot.recovery is not None:
            slot.recovery.cancel()
            slot.recovery = None

