"""How the Redis consent store packs a subscription and a send log into a hash field.

A subscription is a compact JSON array whose first element is its version (the Lua fence reads
it with one pattern match), with trailing defaults dropped; a campaign send log (frequency
caps) is ``[version, time, ...]`` under a field starting ``#f|`` (``#`` starts no gateway id).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson

from processor.domain.consent.state import SendLog
from processor.domain.models.enums import ConsentSource, ConsentStatus, SendKind
from processor.domain.models.inputs import SendRequest
from processor.domain.models.subscription import Subscription

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


def window_member(sub: Subscription) -> str:
    """The member of a subscription in the partition's timer index: ``phone|gateway|keyword``."""
    return f"{sub.phone}|{sub.gateway}|{sub.keyword or ''}"


def subscription_field(gateway: str, keyword: str | None) -> str:
    return f"{gateway}|{keyword or ''}"
