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
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, cast

import orjson
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from processor.domain.consent.state import PhoneState, SendLog, SubKey, due_at
from processor.domain.models.enums import ConsentSource, ConsentStatus, SendKind
from processor.domain.models.inputs import SendRequest
from processor.domain.models.subscription import Subscription
from processor.logs import mask_phone
from processor.ports import (
    NO_PROGRESS,
    DueWindow,
    Loaded,
    PhoneWrite,
    Progress,
    StoreBehindError,
    VersionConflictError,
    WindowSettlement,
)

# Stored codes: append only, never renumber (they are in every stored subscription).
STATUS_CODES: Mapping[ConsentStatus, int] = MappingProxyType({
    ConsentStatus.NO_OPT_IN: 0, ConsentStatus.OPT_IN_PENDING: 1,
    ConsentStatus.OPT_IN: 2, ConsentStatus.OPT_OUT: 3,
})
SOURCE_CODES: Mapping[ConsentSource, int] = MappingProxyType({
    ConsentSource.NONE: 0, ConsentSource.KEYWORD: 1, ConsentSource.CONFIRMATION: 2,
    ConsentSource.INCOMING_SMS: 3, ConsentSource.CONSENT_REQUEST: 4, ConsentSource.MANUAL: 5,
    ConsentSource.IMPORT: 6, ConsentSource.API: 7, ConsentSource.EXPIRY: 8,
    ConsentSource.NUMBER_CHANGE: 9, ConsentSource.GLOBAL: 10,
})
_STATUS_BY_CODE = {v: k for k, v in STATUS_CODES.items()}
_SOURCE_BY_CODE = {v: k for k, v in SOURCE_CODES.items()}
_DEFAULTS: tuple[Any, ...] = (0, 0, 0, 0, "", None, None, 0, 0, None, [], None)

LOAD_SCRIPT = """
-- KEYS: per phone its state key then its outcome keys; ARGV: outcome-key count per phone.
local out = {}
local k = 1
for i = 1, #ARGV do
  local n = tonumber(ARGV[i])
  out[#out + 1] = redis.call('HGETALL', KEYS[k])
  if n > 0 then
    local keys = {}
    for j = 1, n do keys[j] = KEYS[k + j] end
    out[#out + 1] = redis.call('MGET', unpack(keys))
  else
    out[#out + 1] = {}
  end
  k = k + 1 + n
end
return out
"""

COMMIT_SCRIPT = """
-- KEYS[1]: the partition's progress hash (any key of the call's slot when ARGV[2] is 0);
--          then per phone its state key then its outcome keys.
-- ARGV: retention_ms, #progress entries, (input topic, committed, covered) per entry,
--       then per phone: #subscriptions, #outcomes,
--       (field, version read, new value) per subscription, outcome value per outcome.
-- All checks of the call pass before anything is written: all or nothing. The progress check
-- comes first: a store behind Kafka's committed offsets lost writes, and what it holds must
-- not be decided on (nor written over) until it is recovered.
local function version(value)
  if not value then return 0 end
  return tonumber(string.match(value, '^%[(%d+)'))
end
local nprogress = tonumber(ARGV[2])
local a = 3
for i = 1, nprogress do
  local held = tonumber(redis.call('HGET', KEYS[1], ARGV[a]) or '-1')
  if held < tonumber(ARGV[a + 1]) then
    return {2, ARGV[a], held, tonumber(ARGV[a + 1])}
  end
  a = a + 3
end
local first = a
local k = 2
while k <= #KEYS do
  local nsubs, nout = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  for i = 1, nsubs do
    local current = version(redis.call('HGET', KEYS[k], ARGV[a]))
    if current ~= tonumber(ARGV[a + 1]) then
      return {0, KEYS[k], ARGV[a], current, tonumber(ARGV[a + 1])}
    end
    a = a + 3
  end
  a = a + nout
  k = k + 1 + nout
end
a, k = first, 2
while k <= #KEYS do
  local nsubs, nout = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  if nsubs > 0 then
    local pairs_ = {}
    for i = 1, nsubs do
      pairs_[#pairs_ + 1] = ARGV[a]
      pairs_[#pairs_ + 1] = ARGV[a + 2]
      a = a + 3
    end
    redis.call('HSET', KEYS[k], unpack(pairs_))
  end
  for j = 1, nout do
    redis.call('SET', KEYS[k + j], ARGV[a], 'PX', ARGV[1])
    a = a + 1
  end
  k = k + 1 + nout
end
a = 3
for i = 1, nprogress do
  local held = tonumber(redis.call('HGET', KEYS[1], ARGV[a]) or '-1')
  if tonumber(ARGV[a + 2]) > held then
    redis.call('HSET', KEYS[1], ARGV[a], ARGV[a + 2])
  end
  a = a + 3
end
return {1}
"""

RESTORE_SCRIPT = """
-- KEYS: state keys. ARGV: per key: #subscriptions, then (field, version, packed value) per
-- subscription; an empty value deletes the field (a tombstone). A subscription already at a
-- higher version in the store is newer than the topic's copy and stays.
local function version(value)
  if not value then return 0 end
  return tonumber(string.match(value, '^%[(%d+)'))
end
local a, written = 1, 0
for k = 1, #KEYS do
  local n = tonumber(ARGV[a])
  a = a + 1
  for i = 1, n do
    if ARGV[a + 2] == '' then
      redis.call('HDEL', KEYS[k], ARGV[a])
    elseif version(redis.call('HGET', KEYS[k], ARGV[a])) <= tonumber(ARGV[a + 1]) then
      redis.call('HSET', KEYS[k], ARGV[a], ARGV[a + 2])
      written = written + 1
    end
    a = a + 3
  end
end
return written
"""


# Every command the store sends is routed by its key's slot, so a cluster client works too.
RedisClient = aioredis.Redis | RedisCluster


SETTLE_SCRIPT = """
-- KEYS[1]: a partition's window index. ARGV: #retries, then (member, seen score, new score)
-- per retry, then (member, seen score) per drop. An entry whose score changed since the timer
-- read it (a newer window) is left alone.
local retries = tonumber(ARGV[1])
local a = 2
for i = 1, retries do
  if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[a])) == tonumber(ARGV[a + 1]) then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[a + 2], ARGV[a])
  end
  a = a + 3
end
while a <= #ARGV do
  if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[a])) == tonumber(ARGV[a + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[a])
  end
  a = a + 2
end
return 1
"""


def pack_subscription(sub: Subscription) -> bytes:
    """A compact array: version first (the Lua fence reads it), trailing defaults dropped."""
    held = [[r.request_id, r.body, r.kind.value, r.requested_by, r.created_at,
             r.campaign, r.keyword] for r in sub.held]
    values: list[Any] = [
        sub.version, STATUS_CODES[sub.status], SOURCE_CODES[sub.source], sub.updated_at,
        sub.detail, sub.actor, sub.pending_until, int(sub.window_closed),
        int(sub.disclaimer_sent), sub.requested_by, held, sub.held_until,
    ]
    while len(values) > 1 and values[-1] == _DEFAULTS[len(values) - 1]:
        values.pop()
    return orjson.dumps(values)


SEND_LOG_FIELD = b"#f|"


def pack_send_log(log: SendLog) -> bytes:
    """``[version, time, ...]``: version first, like a subscription, for the same fence."""
    return orjson.dumps([log.version, *log.times])


def unpack_send_log(field: bytes, value: bytes) -> SendLog:
    gateway, _, keyword = field[len(SEND_LOG_FIELD):].decode().partition("|")
    version, *times = orjson.loads(value)
    return SendLog(gateway, keyword or None, tuple(times), version)


def send_log_field(log: SendLog) -> str:
    return f"{SEND_LOG_FIELD.decode()}{log.gateway}|{log.keyword or ''}"


def unpack_subscription(phone: str, field: bytes, value: bytes) -> Subscription:
    gateway, _, keyword = field.decode().partition("|")
    raw = orjson.loads(value)
    v = list(raw) + list(_DEFAULTS[len(raw):])
    held = tuple(
        SendRequest(request_id=h[0], phone=phone, gateway=gateway, body=h[1],
                    kind=SendKind(h[2]), requested_by=h[3], created_at=h[4],
                    campaign=h[5], keyword=h[6])
        for h in v[10]
    )
    return Subscription(
        phone=phone, gateway=gateway, keyword=keyword or None, version=v[0],
        status=_STATUS_BY_CODE[v[1]], source=_SOURCE_BY_CODE[v[2]], updated_at=v[3],
        detail=v[4], actor=v[5], pending_until=v[6], window_closed=bool(v[7]),
        disclaimer_sent=bool(v[8]), requested_by=v[9], held=held, held_until=v[11],
    )


def _progress_entries(progress: Progress) -> list[tuple[str, int, int]]:
    """(input topic, committed or -1, covered or -1) for the commit script."""
    topics = sorted(progress.committed.keys() | progress.covered.keys())
    return [(t, progress.committed.get(t, -1), progress.covered.get(t, -1)) for t in topics]


def window_member(sub: Subscription) -> str:
    """The member of a subscription in the partition's timer index: ``phone|gateway|keyword``."""
    return f"{sub.phone}|{sub.gateway}|{sub.keyword or ''}"


def subscription_field(gateway: str, keyword: str | None) -> str:
    return f"{gateway}|{keyword or ''}"


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

    async def progress(self, partition: int) -> dict[str, int]:
        raw = await self._client.hgetall(self.progress_key(partition))
        return {k.decode(): int(v) for k, v in cast(dict[bytes, bytes], raw).items()}

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

    async def set_progress(self, partition: int, progress: Mapping[str, int]) -> None:
        key = self.progress_key(partition)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if progress:
                pipe.hset(key, mapping=cast(Any, dict(progress)))
            await pipe.execute()

    async def due_windows(self, partition: int, now: int, limit: int) -> list[DueWindow]:
        raw = await self._client.zrangebyscore(
            self.pending_key(partition), "-inf", now, start=0, num=limit, withscores=True)
        due = []
        for member, score in cast(list[tuple[bytes, float]], raw):
            phone, gateway, keyword = member.decode().split("|", 2)
            due.append(DueWindow(phone, gateway, keyword or None, int(score), member))
        return due

    async def settle_windows(self, partition: int, settlement: WindowSettlement) -> None:
        if not settlement.retry and not settlement.drop:
            return
        args: list[Any] = [len(settlement.retry)]
        for entry, at in settlement.retry:
            args += [entry.member, entry.due_at, at]
        for entry in settlement.drop:
            args += [entry.member, entry.due_at]
        await self._settle(keys=[self.pending_key(partition)], args=args)

    async def ping(self) -> bool:
        return bool(await self._client.ping())
