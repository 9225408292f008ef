"""The ConsentStore port in memory: the same contract as RedisConsentStore, no server.

What the Redis scripts do, done in Python: loads return states and the stored outcomes asked
for; a commit checks the progress (ports.StoreBehindError) and every version read
(ports.VersionConflictError) before it writes anything, then writes states, send logs, outcomes,
window entries and progress; restores keep the newer version. Outcomes do not expire (the
retention is the only difference, and no pipeline behaviour depends on it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from processor import ports
from processor.domain.consent.state import PhoneState, SendLog, SubKey, due_at
from processor.domain.models.subscription import Subscription
from processor.logs import mask_phone
from processor.ports import NO_PROGRESS, DueWindow, Loaded, PhoneWrite, Progress


def window_member(phone: str, gateway: str, keyword: str | None) -> bytes:
    return f"{phone}|{gateway}|{keyword or ''}".encode()


class MemoryConsentStore:
    def __init__(self) -> None:
        self.subscriptions: dict[str, dict[SubKey, Subscription]] = defaultdict(dict)
        self.send_logs: dict[str, dict[SubKey, SendLog]] = defaultdict(dict)
        self.outcomes: dict[tuple[str, str], bytes] = {}
        self.pending: dict[int, dict[bytes, int]] = defaultdict(dict)
        self.progress_by_partition: dict[int, dict[str, int]] = defaultdict(dict)
        # Set by a test: every call fails as a Redis outage would.
        self.unavailable = False

    def _check(self) -> None:
        if self.unavailable:
            raise ports.StoreUnavailableError("the in-memory store is switched off by the test")

    async def load(self, wanted: Mapping[str, Iterable[str]]) -> dict[str, Loaded]:
        self._check()
        loaded = {}
        for phone, ids in wanted.items():
            state = PhoneState(phone, MappingProxyType(dict(self.subscriptions.get(phone, {}))),
                               MappingProxyType(dict(self.send_logs.get(phone, {}))))
            found = {c: self.outcomes[(phone, c)] for c in ids if (phone, c) in self.outcomes}
            loaded[phone] = Loaded(state, found)
        return loaded

    async def commit(self, writes: Sequence[PhoneWrite], partition: int,
                     progress: Progress = NO_PROGRESS) -> None:
        self._check()
        held = self.progress_by_partition[partition]
        for topic in sorted(progress.committed.keys() | progress.covered.keys()):
            committed = progress.committed.get(topic, -1)
            have = held.get(topic, -1)
            if have < committed:
                raise ports.StoreBehindError(partition, topic, None if have < 0 else have,
                                             committed)
        for w in writes:
            for sub, read in w.subscriptions:
                current = self.subscriptions.get(w.phone, {}).get((sub.gateway, sub.keyword))
                self._fence(w.phone, f"{sub.gateway}|{sub.keyword or ''}",
                            current.version if current else 0, read)
            for log, read in w.send_logs:
                current_log = self.send_logs.get(w.phone, {}).get(log.key)
                self._fence(w.phone, f"#f|{log.gateway}|{log.keyword or ''}",
                            current_log.version if current_log else 0, read)
        windows = self.pending[partition]
        added = set()
        for w in writes:
            for sub, _ in w.subscriptions:
                self.subscriptions[w.phone][(sub.gateway, sub.keyword)] = sub
                if (due := due_at(sub)) is not None:
                    member = window_member(sub.phone, sub.gateway, sub.keyword)
                    windows[member] = due
                    added.add(member)
            for log, _ in w.send_logs:
                self.send_logs[w.phone][log.key] = log
            for cause, value in w.outcomes.items():
                self.outcomes[(w.phone, cause)] = value
        for w in writes:
            for sub in w.left_windows:
                member = window_member(sub.phone, sub.gateway, sub.keyword)
                if member not in added:
                    windows.pop(member, None)
        for topic, covered in progress.covered.items():
            if covered > held.get(topic, -1):
                held[topic] = covered

    @staticmethod
    def _fence(phone: str, field: str, current: int, read: int) -> None:
        if current != read:
            raise ports.VersionConflictError(f"subscription {field!r} of {mask_phone(phone)} is at "
                                       f"version {current}, read at {read}")

    async def progress(self, partition: int) -> dict[str, int]:
        self._check()
        return dict(self.progress_by_partition.get(partition, {}))

    async def restore(self, partition: int, subscriptions: Iterable[Subscription],
                      removed: Iterable[tuple[str, str, str | None]] = ()) -> int:
        self._check()
        written = 0
        for sub in subscriptions:
            if (due := due_at(sub)) is not None:
                self.pending[partition][window_member(sub.phone, sub.gateway, sub.keyword)] = due
            current = self.subscriptions[sub.phone].get((sub.gateway, sub.keyword))
            if current is None or current.version <= sub.version:
                self.subscriptions[sub.phone][(sub.gateway, sub.keyword)] = sub
                written += 1
        for phone, gateway, keyword in removed:
            self.subscriptions[phone].pop((gateway, keyword), None)
        return written

    async def set_progress(self, partition: int, progress: Mapping[str, int]) -> None:
        self._check()
        self.progress_by_partition[partition] = dict(progress)

    async def due_windows(self, partition: int, now: int, limit: int) -> list[DueWindow]:
        self._check()
        due = sorted((score, member) for member, score in self.pending[partition].items()
                     if score <= now)[:limit]
        entries = []
        for score, member in due:
            phone, gateway, keyword = member.decode().split("|", 2)
            entries.append(DueWindow(phone, gateway, keyword or None, score, member))
        return entries

    async def settle_windows(self, partition: int, settlement: ports.WindowSettlement) -> None:
        self._check()
        windows = self.pending[partition]
        for entry, at in settlement.retry:
            if windows.get(entry.member) == entry.due_at:
                windows[entry.member] = at
        for entry in settlement.drop:
            if windows.get(entry.member) == entry.due_at:
                del windows[entry.member]

    async def ping(self) -> bool:
        self._check()
        return True
