"""Consent state in Redis: one small hash per phone, outcomes with a TTL, window sorted sets.

Keys (``P`` is the configured prefix):

* ``P:{+15551234567}`` — hash; field ``<gateway>|<keyword>`` holds one subscription packed as
  a JSON array whose first element is its version (Lua reads it with one pattern match);
  field ``#f|<gateway>|<keyword>`` a campaign send log (frequency caps) packed the same way,
  ``[version, time, ...]``. ``#`` starts no gateway id, so the two never meet.
* ``P:{+15551234567}:o:<cause id>`` — the encoded outcome of an input, kept for the retention
  so the same message/request/command decided again yields the same outputs.
* ``P:pending:{p<partition>}`` — sorted set of subscriptions by due time (an open
  confirmation window's close, sends held for quiet hours becoming sendable), member
  ``phone|gateway|keyword``; scanned by the partition owner's timer.
* ``P:progress:{p<partition>}`` — hash; per input topic, the offset after the last input whose
  decision the store holds. Written in the same script call as the states and outcomes (on a
  cluster: after every slot group, compare-and-set), so a store that lost writes is found
  behind Kafka's committed offsets and is recovered before anything is decided on it.

The hash tag on the phone puts a phone's keys in one Redis Cluster slot. Each script touches
only keys passed in KEYS; a batch runs as one script call per slot group (one call in total on
a single node), never EVALSHA inside a cluster pipeline (redis-py blocks it and its NOSCRIPT
fallback does not work there), so redis-py's Script keeps its NOSCRIPT -> EVAL fallback.
"""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar, cast

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import RedisClusterException, RedisError

from processor.adapters.redis_packing import (
    SEND_LOG_FIELD,
    pack_send_log,
    pack_subscription,
    send_log_field,
    subscription_field,
    unpack_send_log,
    unpack_subscription,
    window_member,
)
from processor.adapters.redis_scripts import (
    COMMIT_SCRIPT,
    LOAD_SCRIPT,
    RESTORE_SCRIPT,
    SETTLE_SCRIPT,
)
from processor.domain.consent.state import PhoneState, SendLog, SubKey, due_at
from processor.domain.models.subscription import Subscription
from processor.logs import mask_phone
from processor.ports import (
    NO_PROGRESS,
    DueWindow,
    Loaded,
    PhoneWrite,
    Progress,
    StoreBehindError,
    StoreUnavailableError,
    VersionConflictError,
    WindowSettlement,
    describe,
)

# Every command the store sends is routed by its key's slot, so a cluster client works too.
RedisClient = aioredis.Redis | RedisCluster

# A Redis Cluster that cannot be reached raises RedisClusterException, not a RedisError.
REDIS_ERRORS = (RedisError, RedisClusterException)

P = ParamSpec("P")
T = TypeVar("T")


def _store_errors(method: Callable[P, Coroutine[Any, Any, T]]
                  ) -> Callable[P, Coroutine[Any, Any, T]]:
    """Raises redis-py's errors as the port's StoreUnavailableError (retriable)."""
    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except REDIS_ERRORS as exc:
            raise StoreUnavailableError(describe(exc)) from exc
    return call


def _progress_entries(progress: Progress) -> list[tuple[str, int, int]]:
    """(input topic, committed or -1, covered or -1) for the commit script."""
    topics = sorted(progress.committed.keys() | progress.covered.keys())
    return [(t, progress.committed.get(t, -1), progress.covered.get(t, -1)) for t in topics]


class RedisConsentStore:
    """The ConsentStore port on Redis (single node, or Redis Cluster with ``cluster=True``)."""

    def __init__(self, client: RedisClient, prefix: str, *, retention_ms: int,
                 cluster: bool = False) -> None:
        self._client = client
        self._prefix = prefix
        self._retention_ms = retention_ms
        self._cluster = cluster
        self._load = client.register_script(LOAD_SCRIPT)
        self._commit = client.register_script(COMMIT_SCRIPT)
        self._settle = client.register_script(SETTLE_SCRIPT)
        self._restore = client.register_script(RESTORE_SCRIPT)

    def state_key(self, phone: str) -> str:
        return f"{self._prefix}:{{{phone}}}"

    def outcome_key(self, phone: str, cause_id: str) -> str:
        return f"{self._prefix}:{{{phone}}}:o:{cause_id}"

    def pending_key(self, partition: int) -> str:
        return f"{self._prefix}:pending:{{p{partition}}}"

    def progress_key(self, partition: int) -> str:
        return f"{self._prefix}:progress:{{p{partition}}}"

    def _groups(self, phones: Iterable[str]) -> list[list[str]]:
        """One group on a single node; one per hash slot on a cluster."""
        phones = list(phones)
        if not self._cluster:
            return [phones] if phones else []
        by_slot: dict[int, list[str]] = defaultdict(list)
        for phone in phones:
            by_slot[key_slot(self.state_key(phone).encode())].append(phone)
        return list(by_slot.values())

    @_store_errors
    async def load(self, wanted: Mapping[str, Iterable[str]]) -> dict[str, Loaded]:
        groups = self._groups(wanted)
        if len(groups) == 1:
            return await self._load_group(groups[0], wanted)
        replies = await asyncio.gather(*(self._load_group(g, wanted) for g in groups))
        loaded: dict[str, Loaded] = {}
        for group_result in replies:
            loaded.update(group_result)
        return loaded

    async def _load_group(self, phones: list[str],
                          wanted: Mapping[str, Iterable[str]]) -> dict[str, Loaded]:
        keys: list[str] = []
        counts: list[int] = []
        causes: list[list[str]] = []
        prefix = self._prefix
        for phone in phones:
            ids = list(dict.fromkeys(wanted[phone]))
            state_key = f"{prefix}:{{{phone}}}"
            keys.append(state_key)
            keys += [f"{state_key}:o:{c}" for c in ids]
            counts.append(len(ids))
            causes.append(ids)
        reply = await self._load(keys=keys, args=counts)
        result: dict[str, Loaded] = {}
        for i, phone in enumerate(phones):
            flat, outcome_values = reply[2 * i], reply[2 * i + 1]
            subs: dict[SubKey, Subscription] = {}
            logs: dict[SubKey, SendLog] = {}
            for j in range(0, len(flat), 2):
                if flat[j].startswith(SEND_LOG_FIELD):
                    log = unpack_send_log(flat[j], flat[j + 1])
                    logs[log.key] = log
                    continue
                sub = unpack_subscription(phone, flat[j], flat[j + 1])
                subs[(sub.gateway, sub.keyword)] = sub
            outcomes = {c: v for c, v in zip(causes[i], outcome_values, strict=True) if v}
            result[phone] = Loaded(PhoneState(phone, MappingProxyType(subs),
                                              MappingProxyType(logs)), outcomes)
        return result

    @_store_errors
    async def commit(self, writes: Sequence[PhoneWrite], partition: int,
                     progress: Progress = NO_PROGRESS) -> None:
        by_phone = {w.phone: w for w in writes
                    if w.subscriptions or w.outcomes or w.left_windows or w.send_logs}
        windows = {
            window_member(s): due
            for w in by_phone.values() for s, _ in w.subscriptions
            if (due := due_at(s)) is not None
        }
        entries = _progress_entries(progress)
        if windows:
            # Before the states: a window entry without its state is harmless (the timer
            # checks the state); a pending state without its entry would never expire.
            await self._client.zadd(self.pending_key(partition), windows)
        groups = self._groups(by_phone)
        if not self._cluster:
            # One call: the progress is checked and recorded with the states it covers.
            await self._commit_group([by_phone[p] for p in groups[0]] if groups else [],
                                     partition, entries)
        else:
            if entries:  # fail before writing when the store is already known to be behind
                await self._commit_group([], partition, [(t, c, -1) for t, c, _ in entries])
            results = await asyncio.gather(
                *(self._commit_group([by_phone[p] for p in g], partition, []) for g in groups),
                return_exceptions=True,
            )
            for outcome in results:
                if isinstance(outcome, BaseException):
                    raise outcome
            if entries:  # compare-and-set: a store wiped meanwhile fails here
                await self._commit_group([], partition, entries)
        # After the states, for the same reason: an entry that outlives its window only costs
        # a tick that decides nothing.
        left = [window_member(s) for w in by_phone.values() for s in w.left_windows]
        left = [m for m in left if m not in windows]
        if left:
            await self._client.zrem(self.pending_key(partition), *left)

    async def _commit_group(self, writes: list[PhoneWrite], partition: int,
                            entries: Sequence[tuple[str, int, int]]) -> None:
        if not writes and not entries:
            return
        keys: list[str] = [self.progress_key(partition) if entries
                           else self.state_key(writes[0].phone)]
        args: list[Any] = [self._retention_ms, len(entries)]
        for entry in entries:
            args.extend(entry)
        prefix = self._prefix
        for w in writes:
            state_key = f"{prefix}:{{{w.phone}}}"
            keys.append(state_key)
            keys += [f"{state_key}:o:{c}" for c in w.outcomes]
            # Send logs ride with the subscriptions: the same version fence, the same HSET.
            args += (len(w.subscriptions) + len(w.send_logs), len(w.outcomes))
            for sub, read_version in w.subscriptions:
                args += (f"{sub.gateway}|{sub.keyword or ''}", read_version,
                         pack_subscription(sub))
            for log, read_version in w.send_logs:
                args += (send_log_field(log), read_version, pack_send_log(log))
            args += w.outcomes.values()
        reply = await self._commit(keys=keys, args=args)
        if reply[0] == 2:
            _, topic, held, committed = reply
            raise StoreBehindError(partition, topic.decode(), None if held < 0 else held,
                                   committed)
        if reply[0] != 1:
            _, key, field, current, expected = reply
            phone = key.decode().partition("{")[2].partition("}")[0]
            raise VersionConflictError(   # logged: the phone is masked
                f"subscription {field.decode()!r} of {mask_phone(phone)} is at version "
                f"{current}, read at {expected}")

    @_store_errors
    async def progress(self, partition: int) -> dict[str, int]:
        raw = await self._client.hgetall(self.progress_key(partition))
        return {k.decode(): int(v) for k, v in cast(dict[bytes, bytes], raw).items()}

    @_store_errors
    async def restore(self, partition: int, subscriptions: Iterable[Subscription],
                      removed: Iterable[tuple[str, str, str | None]] = ()) -> int:
        fields: dict[str, list[tuple[str, int, bytes]]] = defaultdict(list)
        windows: dict[str, int] = {}
        for sub in subscriptions:
            # int(): decoded numbers may be int subclasses, which hiredis does not pack.
            fields[sub.phone].append((subscription_field(sub.gateway, sub.keyword),
                                      int(sub.version), pack_subscription(sub)))
            if (due := due_at(sub)) is not None:
                windows[window_member(sub)] = int(due)
        for phone, gateway, keyword in removed:
            fields[phone].append((subscription_field(gateway, keyword), 0, b""))
        if windows:  # before the states, as in commit
            await self._client.zadd(self.pending_key(partition), cast(Any, windows))
        written = 0
        for group in self._groups(fields):
            keys: list[str] = []
            args: list[Any] = []
            for phone in group:
                keys.append(self.state_key(phone))
                args.append(len(fields[phone]))
                for entry in fields[phone]:
                    args.extend(entry)
            written += int(await self._restore(keys=keys, args=args))
        return written

    @_store_errors
    async def set_progress(self, partition: int, progress: Mapping[str, int]) -> None:
        key = self.progress_key(partition)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if progress:
                pipe.hset(key, mapping=cast(Any, dict(progress)))
            await pipe.execute()

    @_store_errors
    async def due_windows(self, partition: int, now: int, limit: int) -> list[DueWindow]:
        raw = await self._client.zrangebyscore(
            self.pending_key(partition), "-inf", now, start=0, num=limit, withscores=True)
        due = []
        for member, score in cast(list[tuple[bytes, float]], raw):
            phone, gateway, keyword = member.decode().split("|", 2)
            due.append(DueWindow(phone, gateway, keyword or None, int(score), member))
        return due

    @_store_errors
    async def settle_windows(self, partition: int, settlement: WindowSettlement) -> None:
        if not settlement.retry and not settlement.drop:
            return
        args: list[Any] = [len(settlement.retry)]
        for entry, at in settlement.retry:
            args += [entry.member, entry.due_at, at]
        for entry in settlement.drop:
            args += [entry.member, entry.due_at]
        await self._settle(keys=[self.pending_key(partition)], args=args)

    @_store_errors
    async def ping(self) -> bool:
        return bool(await self._client.ping())
