"""Figure 4: Redis memory per subscription and per stored idempotency outcome.

Written through the real store (and, for outcomes, the real BatchProcessor) under a fresh key
prefix, then measured key by key with ``MEMORY USAGE key SAMPLES 0`` (the whole value, key name
and Redis' per-key overhead; not the entry in the expiry table that a TTL adds).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from processor import codec
from processor.adapters.redis_store import RedisConsentStore
from processor.domain.models.enums import ConsentSource, ConsentStatus, SendKind
from processor.domain.models.inputs import InboundMessage, SendRequest
from processor.domain.models.subscription import Subscription
from processor.pipeline import BatchProcessor, InputRecord
from processor.pipeline.outcomes import outcome_id
from processor.ports import ManualClock, PhoneWrite
from processor.topics import Topic
from tests.support.workload import (
    ALERTS,
    CAMPAIGN_KEYWORD,
    START_MS,
    bench_gateways,
    phone_number,
)

RETENTION_MS = 7 * 24 * 3600 * 1000
_CHUNK = 1000


async def measure_redis_memory(client: aioredis.Redis, prefix: str,
                               phones: int) -> dict[str, Any]:
    """Bytes per subscription (one and three per phone) and per stored outcome, each over
    ``phones`` fresh phones."""
    store = RedisConsentStore(client, prefix, retention_ms=RETENTION_MS)
    rng = random.Random(7)
    single = [phone_number(i) for i in range(phones)]
    triple = [phone_number(i) for i in range(phones, 2 * phones)]
    fresh = [phone_number(i) for i in range(2 * phones, 3 * phones)]
    await _write(store, [[_opted_out(p, rng)] for p in single])
    await _write(store, [_three_scopes(p, rng) for p in triple])
    one = await _memory(client, [store.state_key(p) for p in single])
    three = await _memory(client, [store.state_key(p) for p in triple])
    outcomes = await _decide_fresh(store, fresh)
    return {
        "phones": phones,
        "redis_version": (await client.info("server"))["redis_version"],
        "bytes_per_subscription_1": one / phones,
        "bytes_per_subscription_3": three / (3 * phones),
        "bytes_per_phone_3": three / phones,
        **{f"bytes_per_outcome_{kind}": await _memory(client, keys) / len(keys)
           for kind, keys in outcomes.items()},
    }


def _opted_out(phone: str, rng: random.Random) -> Subscription:
    """The most common stored state: a phone that texted STOP to a gateway."""
    return Subscription(phone, ALERTS, None, status=ConsentStatus.OPT_OUT,
                        source=ConsentSource.KEYWORD, detail="Opt-out keyword: STOP",
                        version=rng.randint(1, 3),
                        updated_at=START_MS - rng.randrange(365 * 24 * 3600 * 1000))


def _three_scopes(phone: str, rng: random.Random) -> list[Subscription]:
    """Opted in to the gateway by keyword, to one campaign keyword, out of another."""
    at = START_MS - rng.randrange(365 * 24 * 3600 * 1000)
    return [
        Subscription(phone, ALERTS, None, status=ConsentStatus.OPT_IN,
                     source=ConsentSource.KEYWORD, detail="Opt-in keyword: START",
                     version=rng.randint(1, 3), updated_at=at),
        Subscription(phone, ALERTS, CAMPAIGN_KEYWORD, status=ConsentStatus.OPT_IN,
                     source=ConsentSource.KEYWORD, detail=f"Opt-in keyword: {CAMPAIGN_KEYWORD}",
                     version=1, updated_at=at + 60_000),
        Subscription(phone, ALERTS, "NEWS", status=ConsentStatus.OPT_OUT,
                     source=ConsentSource.IMPORT, detail="Opt-out by import (list-2026.csv)",
                     actor="list-2026.csv", version=2, updated_at=at + 120_000),
    ]


async def _write(store: RedisConsentStore, per_phone: Sequence[Sequence[Subscription]]) -> None:
    writes = [PhoneWrite(subs[0].phone, [(s, 0) for s in subs]) for subs in per_phone]
    for start in range(0, len(writes), _CHUNK):
        await store.commit(writes[start:start + _CHUNK], partition=0)


async def _memory(client: aioredis.Redis, keys: Sequence[str]) -> int:
    """Total MEMORY USAGE of the keys; every key must exist."""
    total = 0
    for start in range(0, len(keys), _CHUNK):
        pipe = client.pipeline(transaction=False)
        for key in keys[start:start + _CHUNK]:
            pipe.memory_usage(key, samples=0)
        sizes = await pipe.execute()
        if any(size is None for size in sizes):
            raise RuntimeError("a key that was just written is missing")
        total += sum(sizes)
    return total


async def _decide_fresh(store: RedisConsentStore, phones: Sequence[str]) -> dict[str, list[str]]:
    """Each fresh phone gets a send request (forwarded), a chat text and a STOP, decided by
    the real pipeline; returns the outcome keys by kind of input."""
    records: list[InputRecord] = []
    keys: dict[str, list[str]] = {"send": [], "chat": [], "stop": []}
    for index, phone in enumerate(phones):
        at = START_MS + index
        request = SendRequest(
            request_id=f"req-mem-{index:08d}", phone=phone, gateway=ALERTS,
            body="Your order #4711 has shipped and arrives on Friday.",
            kind=SendKind.TRANSACTIONAL, requested_by="shop-api", created_at=at)
        records.append(_record(Topic.SEND_REQUESTS, phone, codec.encode_send_request(request),
                               index, at))
        keys["send"].append(store.outcome_key(phone, outcome_id(request)))
        for kind, body in (("chat", "Sounds good, talk later"), ("stop", "STOP")):
            message = InboundMessage(
                message_id=f"SM-mem-{kind}-{index:08d}", phone=phone, to="12345", gateway=ALERTS,
                body=body, received_at=at, carrier="Verizon Wireless", provider="twilio")
            records.append(_record(Topic.INBOUND, phone, codec.encode_inbound(message),
                                   index, at))
            keys[kind].append(store.outcome_key(phone, outcome_id(message)))
    processor = BatchProcessor(store, bench_gateways(), ManualClock(START_MS))
    for start in range(0, len(records), _CHUNK):
        await processor.process(records[start:start + _CHUNK], partition=0)
    return keys


def _record(topic: Topic, phone: str, value: bytes, offset: int, at: int) -> InputRecord:
    return InputRecord(topic, 0, offset, codec.encode_key(phone), value, at, source=str(topic))
