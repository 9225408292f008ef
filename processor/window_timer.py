"""The confirmation-window timer: which windows to expire now, as expire_window commands.

The timer only asks; the expiry is decided by the worker's exactly-once path when the command
comes back from sms.commands (a tick cannot carry its own offset). So a tick may be lost or
decide nothing (a worker whose clock lags decides it 'early'); the window's entry is therefore
not dropped when a tick is sent but leased: looked at again after a while, until the commit
that closes the window removes it. Entries with no open window behind them are dropped.
"""

from __future__ import annotations

import uuid

from processor.domain.consent import has_open_window
from processor.domain.models import Command, CommandType
from processor.ports import ConsentStore, DueWindow, WindowSettlement

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
            if not has_open_window(sub) or sub.pending_until is None:
                drop.append(entry)  # confirmed, opted out or expired meanwhile
            elif sub.pending_until > now:
                retry.append((entry, sub.pending_until))  # a newer window: its own time
            else:
                ticks.append(Command(
                    command_id=f"tick-{uuid.uuid4()}", type=CommandType.EXPIRE_WINDOW,
                    phone=entry.phone, actor=TIMER_ACTOR, created_at=now,
                    gateway=entry.gateway, keyword=entry.keyword, until=sub.pending_until))
                retry.append((entry, now + self._lease_ms))
        return ticks, WindowSettlement(retry, drop)

    async def settle(self, partition: int, settlement: WindowSettlement) -> None:
        await self._store.settle_windows(partition, settlement)
