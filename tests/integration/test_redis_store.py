"""The Redis consent store against the real server: scripts, fencing, outcomes, windows."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from msgspec.structs import replace
from redis.crc import key_slot

from processor.adapters.redis_packing import pack_subscription, unpack_subscription
from processor.adapters.redis_store import RedisConsentStore
from processor.domain.consent.state import SendLog
from processor.domain.models.enums import ConsentSource, ConsentStatus, SendKind
from processor.domain.models.inputs import SendRequest
from processor.domain.models.subscription import Subscription
from processor.ports import (
    PhoneWrite,
    Progress,
    StoreBehindError,
    VersionConflictError,
    WindowSettlement,
)

pytestmark = pytest.mark.integration

A, B = "+12025550101", "+12025550102"
DAY_MS = 24 * 3600 * 1000


def store_for(client: aioredis.Redis, prefix: str, *, cluster: bool = False) -> RedisConsentStore:
    return RedisConsentStore(client, prefix, retention_ms=DAY_MS, cluster=cluster)


def opted_in(phone: str, version: int = 1, keyword: str | None = None) -> Subscription:
    return Subscription(phone, "gw1", keyword, status=ConsentStatus.OPT_IN,
                        source=ConsentSource.KEYWORD, detail="Opt-in keyword: START",
                        version=version, updated_at=1_800_000_000_000)


def test_packing_round_trips_every_field() -> None:
    held = SendRequest(request_id="r-1", phone=A, gateway="gw1", body="hi there",
                       kind=SendKind.CAMPAIGN, requested_by="alice", created_at=1_800_000_000_001,
                       campaign="Spring", keyword="VOLUNTEER")
    full = Subscription(A, "gw1", "VOLUNTEER", status=ConsentStatus.OPT_IN_PENDING,
                        source=ConsentSource.CONSENT_REQUEST, detail="Consent requested by alice",
                        actor="alice", version=7, updated_at=1_800_000_000_000,
                        pending_until=1_800_000_360_000, window_closed=True, held=(held,),
                        disclaimer_sent=True, requested_by="alice")
    packed = pack_subscription(full)
    assert unpack_subscription(A, b"gw1|VOLUNTEER", packed) == full
    plain = opted_in(A)
    assert unpack_subscription(A, b"gw1|", pack_subscription(plain)) == plain
    assert len(pack_subscription(plain)) < 60  # trailing defaults are not stored


@pytest.mark.parametrize("cluster", [False, True])
async def test_commit_then_load_round_trip(redis_client: aioredis.Redis, redis_prefix: str,
                                           cluster: bool) -> None:
    store = store_for(redis_client, redis_prefix, cluster=cluster)
    await store.commit([
        PhoneWrite(A, [(opted_in(A), 0)], {"m-1": b"outcome-1"}),
        PhoneWrite(B, [(opted_in(B, keyword="VOLUNTEER"), 0)], {}),
    ], partition=0)
    loaded = await store.load({A: ["m-1", "m-2"], B: []})
    assert loaded[A].state.get("gw1") == opted_in(A)
    assert loaded[A].outcomes == {"m-1": b"outcome-1"}
    assert loaded[B].state.get("gw1", "VOLUNTEER") == opted_in(B, keyword="VOLUNTEER")
    assert loaded[B].state.get("gw1").status is ConsentStatus.NO_OPT_IN
    ttl = await redis_client.pttl(store.outcome_key(A, "m-1"))
    assert 0 < ttl <= DAY_MS


async def test_stale_version_is_fenced_and_nothing_of_the_call_is_written(
        redis_client: aioredis.Redis, redis_prefix: str) -> None:
    store = store_for(redis_client, redis_prefix)
    await store.commit([PhoneWrite(A, [(opted_in(A, 1), 0)])], partition=0)
    # A zombie that read version 0 tries to write; B's write rides in the same call.
    zombie = [PhoneWrite(B, [(opted_in(B), 0)], {"m-9": b"x"}),
              PhoneWrite(A, [(opted_in(A, 1), 0)], {"m-8": b"y"})]
    with pytest.raises(VersionConflictError, match="version 1, read at 0") as conflict:
        await store.commit(zombie, partition=0)
    assert A not in str(conflict.value)  # it is logged: never the full phone number
    loaded = await store.load({A: ["m-8"], B: ["m-9"]})
    assert loaded[B].state.subscriptions == {}
    assert loaded[A].outcomes == {} and loaded[B].outcomes == {}
    # The owner that read version 1 writes version 2.
    await store.commit([PhoneWrite(A, [(opted_in(A, 2), 1)])], partition=0)
    assert (await store.load({A: []}))[A].state.get("gw1").version == 2


async def test_pending_windows_are_indexed_per_partition(redis_client: aioredis.Redis,
                                                         redis_prefix: str) -> None:
    store = store_for(redis_client, redis_prefix)
    pending = replace(opted_in(A), status=ConsentStatus.OPT_IN_PENDING, pending_until=5_000)
    await store.commit([PhoneWrite(A, [(pending, 0)])], partition=3)
    assert await store.due_windows(3, now=4_999, limit=10) == []
    assert await store.due_windows(2, now=9_999, limit=10) == []
    (due,) = await store.due_windows(3, now=5_000, limit=10)
    assert (due.phone, due.gateway, due.keyword, due.due_at) == (A, "gw1", None, 5_000)
    await store.settle_windows(3, WindowSettlement(retry=[(due, 8_000)]))
    assert await store.due_windows(3, now=7_999, limit=10) == []
    (again,) = await store.due_windows(3, now=8_000, limit=10)
    # A settlement based on a score that has changed since is ignored (compare-and-set).
    await store.settle_windows(3, WindowSettlement(drop=[due]))
    assert await store.due_windows(3, now=9_999, limit=10) == [again]
    await store.settle_windows(3, WindowSettlement(drop=[again]))
    assert await store.due_windows(3, now=9_999, limit=10) == []


async def test_scripts_survive_a_script_flush(redis_client: aioredis.Redis,
                                              redis_prefix: str) -> None:
    store = store_for(redis_client, redis_prefix)
    await redis_client.script_flush()
    await store.commit([PhoneWrite(A, [(opted_in(A), 0)])], partition=0)
    await redis_client.script_flush()
    assert (await store.load({A: []}))[A].state.get("gw1").status is ConsentStatus.OPT_IN


async def test_keys_of_one_phone_share_a_cluster_slot(redis_client: aioredis.Redis,
                                                      redis_prefix: str) -> None:
    store = store_for(redis_client, redis_prefix)
    slots = {key_slot(k.encode()) for k in (store.state_key(A), store.outcome_key(A, "m-1"))}
    assert len(slots) == 1


# Progress: how far the store holds a partition's decisions -----------------------------------


@pytest.mark.parametrize("cluster", [False, True])
async def test_the_progress_is_recorded_with_the_writes_and_never_goes_back(
        redis_client: aioredis.Redis, redis_prefix: str, cluster: bool) -> None:
    store = store_for(redis_client, redis_prefix, cluster=cluster)
    assert await store.progress(2) == {}
    await store.commit([PhoneWrite(A, [(opted_in(A), 0)])], 2,
                       Progress(committed={}, covered={"sms.inbound": 10}))
    assert await store.progress(2) == {"sms.inbound": 10}
    # A batch decided again after an aborted commit covers less: the progress stays.
    await store.commit([], 2, Progress(committed={"sms.inbound": 5},
                                       covered={"sms.inbound": 8, "sms.commands": 3}))
    assert await store.progress(2) == {"sms.inbound": 10, "sms.commands": 3}
    assert await store.progress(1) == {}  # per partition


@pytest.mark.parametrize("cluster", [False, True])
async def test_a_store_behind_the_committed_offsets_refuses_the_whole_batch(
        redis_client: aioredis.Redis, redis_prefix: str, cluster: bool) -> None:
    store = store_for(redis_client, redis_prefix, cluster=cluster)
    await store.commit([PhoneWrite(A, [(opted_in(A), 0)])], 0,
                       Progress(covered={"sms.inbound": 10}))
    # Kafka committed up to 12: writes between 10 and 12 were lost (a rolled-back Redis).
    with pytest.raises(StoreBehindError, match=r"sms.inbound\[0\] up to offset 10.*12"):
        await store.commit([PhoneWrite(B, [(opted_in(B), 0)]),
                            PhoneWrite(A, [(opted_in(A, 2), 1)])], 0,
                           Progress(committed={"sms.inbound": 12},
                                    covered={"sms.inbound": 15}))
    loaded = await store.load({A: [], B: []})
    assert loaded[B].state.subscriptions == {}
    assert loaded[A].state.get("gw1").version == 1
    assert await store.progress(0) == {"sms.inbound": 10}
    # A wiped store (no progress at all) refuses too.
    await redis_client.delete(store.progress_key(0))
    with pytest.raises(StoreBehindError, match="up to nothing"):
        await store.commit([], 0, Progress(committed={"sms.commands": 1},
                                           covered={"sms.commands": 2}))


async def test_restore_keeps_the_newer_version_and_indexes_open_windows(
        redis_client: aioredis.Redis, redis_prefix: str) -> None:
    store = store_for(redis_client, redis_prefix)
    newer_in_store = opted_in(A, version=5)
    await store.commit([PhoneWrite(A, [(newer_in_store, 0)])], 0)
    older_in_topic = opted_in(A, version=4)
    pending = Subscription(B, "gw1", None, status=ConsentStatus.OPT_IN_PENDING,
                           source=ConsentSource.KEYWORD, detail="Opt-in keyword: START",
                           version=3, updated_at=1_800_000_000_000,
                           pending_until=1_800_000_360_000)
    scope = opted_in(B, version=2, keyword="VOLUNTEER")
    written = await store.restore(0, [older_in_topic, pending, scope],
                                  removed=[(B, "gw1", "VOLUNTEER")])
    assert written == 2  # B's gateway and, before the tombstone, its scope
    loaded = await store.load({A: [], B: []})
    assert loaded[A].state.get("gw1") == newer_in_store
    assert loaded[B].state.get("gw1") == pending
    assert ("gw1", "VOLUNTEER") not in loaded[B].state.subscriptions  # the tombstone
    due = await store.due_windows(0, 1_800_000_360_000, 10)
    assert [(w.phone, w.due_at) for w in due] == [(B, 1_800_000_360_000)]
    await store.set_progress(0, {"sms.inbound": 7})
    assert await store.progress(0) == {"sms.inbound": 7}


# Quiet-hours holds and frequency-cap send logs ---------------------------------------------

def held_for_quiet_hours(phone: str, until: int) -> Subscription:
    held = SendRequest(request_id="r-q", phone=phone, gateway="gw1", body="Sale!",
                       kind=SendKind.CAMPAIGN, requested_by="shop", created_at=until - 1)
    return replace(opted_in(phone, version=2), held=(held,), held_until=until)


def test_a_quiet_hours_hold_packs_and_unpacks() -> None:
    sub = held_for_quiet_hours(A, 1_800_050_000_000)
    assert unpack_subscription(A, b"gw1|", pack_subscription(sub)) == sub


@pytest.mark.parametrize("cluster", [False, True])
async def test_send_logs_are_stored_with_the_phone_and_fenced_by_their_version(
        redis_client: aioredis.Redis, redis_prefix: str, cluster: bool) -> None:
    store = store_for(redis_client, redis_prefix, cluster=cluster)
    first = SendLog("gw1", None, (1_800_000_000_000,), 1)
    scoped = SendLog("gw1", "VOLUNTEER", (1_800_000_000_001,), 1)
    await store.commit([PhoneWrite(A, [(opted_in(A), 0)], send_logs=[(first, 0), (scoped, 0)])],
                       partition=0)
    loaded = (await store.load({A: []}))[A].state
    assert (loaded.send_log("gw1"), loaded.send_log("gw1", "VOLUNTEER")) == (first, scoped)
    assert loaded.get("gw1") == opted_in(A)  # the log fields are not subscriptions
    second = SendLog("gw1", None, (*first.times, 1_800_000_000_500), 2)
    with pytest.raises(VersionConflictError):  # read at version 0, the store is at 1
        await store.commit([PhoneWrite(A, send_logs=[(second, 0)])], partition=0)
    await store.commit([PhoneWrite(A, send_logs=[(second, 1)])], partition=0)
    assert (await store.load({A: []}))[A].state.send_log("gw1") == second


async def test_a_quiet_hours_hold_is_in_the_timer_index_until_released(
        redis_client: aioredis.Redis, redis_prefix: str) -> None:
    store = store_for(redis_client, redis_prefix)
    until = 1_800_050_000_000
    held = held_for_quiet_hours(A, until)
    await store.commit([PhoneWrite(A, [(held, 0)])], partition=0)
    (due,) = await store.due_windows(0, until, 10)
    assert (due.phone, due.gateway, due.keyword, due.due_at) == (A, "gw1", None, until)
    released = replace(held, held=(), held_until=None)
    await store.commit([PhoneWrite(A, [(released, 2)], left_windows=[held])], partition=0)
    assert await store.due_windows(0, until, 10) == []
    # A store rebuilt from the consent-state topic gets the entry back.
    await store.restore(1, [held])
    assert [d.due_at for d in await store.due_windows(1, until, 10)] == [until]
