"""The subscription timer: which subscriptions' time has come, as expire_window commands.

A subscription is due when its confirmation window closes or when the campaign sends it holds
for the phone's quiet hours become sendable (``processor.domain.consent.state.due_at``); both
wait in the same index and take the same path. The timer only asks; the expiry or the release is
decided by the worker's exactly-once path when the command comes back from sms.commands (a
tick cannot carry its own offset). So a tick may be lost or decide nothing (a worker whose
clock lags decides it 'early'); the entry is therefore not dropped when a tick is sent but
leased: looked at again after a while, until the commit that settles the subscription removes
it. Entries with nothing due behind them are dropped.
"""

from __future__ import annotations

import uuid

from processor import codec
from processor.domain.consent.state import due_at
from processor.domain.models.enums import CommandType
from processor.domain.models.inputs import Command
from processor.pipeline.keying import phone_key
from processor.ports import ConsentStore, DueWindow, OutputRecord, WindowSettlement
from processor.topics import Topic

TIMER_ACTOR = "consent-gate-timer"
# How long a sent tick has to be decided before the window is ticked again.
TICK_LEASE_MS = 30_000


class WindowTimer:
    def __init__(self, store: ConsentStore, lease_ms: int = TICK_LEASE_MS) -> None:
        self._store = store
        self._lease_ms = lease_ms

    async def due(self, partition: int, now: int,
                  limit: int = 500) -> tuple[list[Command], WindowSettlement]:
        """The ticks to send for the partition's windows that have closed by `now`, and what
        to do with their entries once the ticks are durably on the topic."""
        entries = await self._store.due_windows(partition, now, limit)
        if not entries:
            return [], WindowSettlement()
        loaded = await self._store.load({entry.phone: [] for entry in entries})
        ticks: list[Command] = []
        retry: list[tuple[DueWindow, int]] = []
        drop: list[DueWindow] = []
        for entry in entries:
            sub = loaded[entry.phone].state.get(entry.gateway, entry.keyword)
            due = due_at(sub)
            if due is None:
                drop.append(entry)  # confirmed, opted out, expired or released meanwhile
            elif due > now:
                retry.append((entry, due))  # a newer window or hold: its own time
            else:
                ticks.append(Command(
                    command_id=f"tick-{uuid.uuid4()}", type=CommandType.EXPIRE_WINDOW,
                    phone=entry.phone, actor=TIMER_ACTOR, created_at=now,
                    gateway=entry.gateway, keyword=entry.keyword, until=due))
                retry.append((entry, now + self._lease_ms))
        return ticks, WindowSettlement(retry, drop)

    async def settle(self, partition: int, settlement: WindowSettlement) -> None:
        await self._store.settle_windows(partition, settlement)


def tick_record(tick: Command) -> OutputRecord:
    """The record of a tick on sms.commands (keyed as processor.pipeline.keying says)."""
    return OutputRecord(Topic.COMMANDS, phone_key(tick.phone), codec.encode_command(tick))
