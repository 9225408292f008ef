"""Consent state in Redis: one small hash per phone, outcomes with a TTL, window sorted sets.

Keys (``P`` is the configured prefix):

* ``P:{+15551234567}`` — hash; field ``<gateway>|<keyword>`` holds one subscription packed as
  a JSON array whose first element is its version (Lua reads it with one pattern match).
* ``P:{+15551234567}:o:<cause id>`` — the encoded outcome of an input, kept for the retention
  so the same message/request/command decided again yields the same outputs.
* ``P:pending:{p<partition>}`` — sorted set of open confirmation windows by close time,
  member ``phone|gateway|keyword``; scanned by the partition owner's timer.

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

from processor.domain.consent import PhoneState, SubKey, has_open_window
from processor.domain.models import (
    ConsentSource,
    ConsentStatus,
    SendKind,
    SendRequest,
    Subscription,
)
from processor.logs import mask_phone
from processor.ports import (
    DueWindow,
    Loaded,
    PhoneWrite,
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
_DEFAULTS: tuple[Any, ...] = (0, 0, 0, 0, "", None, None, 0, 0, None, [])

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
-- KEYS: per phone its state key then its outcome keys.
-- ARGV: retention_ms, then per phone: #subscriptions, #outcomes,
--       (field, version read, new value) per subscription, outcome value per outcome.
-- All version checks of the call pass before anything is written: all or nothing.
local function version(value)
  if not value then return 0 end
  return tonumber(string.match(value, '^%[(%d+)'))
end
local a, k = 2, 1
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
a, k = 2, 1
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
return {1}
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
        int(sub.disclaimer_sent), sub.requested_by, held,
    ]
    while len(values) > 1 and values[-1] == _DEFAULTS[len(values) - 1]:
        values.pop()
    return orjson.dumps(values)


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
        disclaimer_sent=bool(v[8]), requested_by=v[9], held=held,
    )


def window_member(sub: Subscription) -> str:
    """The member of a window in the partition's sorted set: ``phone|gateway|keyword``."""
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

    def state_key(self, phone: str) -> str:
        return f"{self._prefix}:{{{phone}}}"

    def outcome_key(self, phone: str, cause_id: str) -> str:
        return f"{self._prefix}:{{{phone}}}:o:{cause_id}"

    def pending_key(self, partition: int) -> str:
        return f"{self._prefix}:pending:{{p{partition}}}"

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
        for phone in phones:
            ids = list(dict.fromkeys(wanted[phone]))
            keys.append(self.state_key(phone))
            keys.extend(self.outcome_key(phone, c) for c in ids)
            counts.append(len(ids))
            causes.append(ids)
        reply = await self._load(keys=keys, args=counts)
        result: dict[str, Loaded] = {}
        for i, phone in enumerate(phones):
            flat, outcome_values = reply[2 * i], reply[2 * i + 1]
            subs: dict[SubKey, Subscription] = {}
            for j in range(0, len(flat), 2):
                sub = unpack_subscription(phone, flat[j], flat[j + 1])
                subs[(sub.gateway, sub.keyword)] = sub
            outcomes = {c: v for c, v in zip(causes[i], outcome_values, strict=True) if v}
            result[phone] = Loaded(PhoneState(phone, MappingProxyType(subs)), outcomes)
        return result

    async def commit(self, writes: Sequence[PhoneWrite], partition: int) -> None:
        by_phone = {w.phone: w for w in writes
                    if w.subscriptions or w.outcomes or w.left_windows}
        windows = {
            window_member(s): s.pending_until
            for w in by_phone.values() for s, _ in w.subscriptions
            if has_open_window(s) and s.pending_until is not None
        }
        if windows:
            # Before the states: a window entry without its state is harmless (the timer
            # checks the state); a pending state without its entry would never expire.
            await self._client.zadd(self.pending_key(partition), windows)
        results = await asyncio.gather(
            *(self._commit_group([by_phone[p] for p in g]) for g in self._groups(by_phone)),
            return_exceptions=True,
        )
        for outcome in results:
            if isinstance(outcome, BaseException):
                raise outcome
        # After the states, for the same reason: an entry that outlives its window only costs
        # a tick that decides nothing.
        left = [window_member(s) for w in by_phone.values() for s in w.left_windows]
        left = [m for m in left if m not in windows]
        if left:
            await self._client.zrem(self.pending_key(partition), *left)

    async def _commit_group(self, writes: list[PhoneWrite]) -> None:
        keys: list[str] = []
        args: list[Any] = [self._retention_ms]
        for w in writes:
            keys.append(self.state_key(w.phone))
            keys.extend(self.outcome_key(w.phone, c) for c in w.outcomes)
            args += [len(w.subscriptions), len(w.outcomes)]
            for sub, read_version in w.subscriptions:
                args += [subscription_field(sub.gateway, sub.keyword), read_version,
                         pack_subscription(sub)]
            args.extend(w.outcomes.values())
        reply = await self._commit(keys=keys, args=args)
        if reply[0] != 1:
            _, key, field, current, expected = reply
            phone = key.decode().partition("{")[2].partition("}")[0]
            raise VersionConflictError(   # logged: the phone is masked
                f"subscription {field.decode()!r} of {mask_phone(phone)} is at version "
                f"{current}, read at {expected}")

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
