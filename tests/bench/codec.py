"""Codec throughput: records per second decoded and encoded, on realistic records.

Phones repeat (a thousand subscribers), as on a real stream, so the phone cache is warm the
way it is in production; ids and times are distinct per record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from processor.codec import (
    decode_inbound,
    decode_send_request,
    encode_consent_event,
    encode_outbound,
    encode_send_result,
    format_time,
)
from processor.domain.models.enums import ConsentSource, ConsentStatus, SendStatus
from processor.domain.models.outputs import (
    ConsentEvent,
    ConsentSnapshot,
    OutboundMessage,
    SendResult,
)

_SUBSCRIBERS = 1000
_START_MS = 1_795_992_481_403  # 2026-11-24T22:48:01.403Z
_REGIONS = {"acme-us": "US"}


def _phone(index: int) -> str:
    return f"+1201555{index % _SUBSCRIBERS:04d}"


def _inbound(index: int) -> bytes:
    return orjson.dumps({
        "schema_version": 1, "message_id": f"SM{index:032x}", "from": _phone(index),
        "to": "12345", "gateway": "acme-us", "body": "STOP" if index % 7 else "Yes please",
        "received_at": format_time(_START_MS + index * 3), "carrier": "Verizon Wireless",
        "provider": "twilio", "media_count": 0})


def _send_request(index: int) -> bytes:
    return orjson.dumps({
        "schema_version": 1, "request_id": f"req-{index}", "to": _phone(index),
        "gateway": "acme-us", "body": "Your order #4711 has shipped and arrives on Friday.",
        "campaign": None, "keyword": None, "kind": "transactional", "requested_by": "shop-api",
        "created_at": format_time(_START_MS + index * 3)})


_CONSENT = ConsentSnapshot(ConsentStatus.OPT_IN, ConsentSource.KEYWORD, 3)


def _outbound(index: int) -> OutboundMessage:
    return OutboundMessage(
        message_id=f"out-req-{index}", phone=_phone(index), gateway="acme-us",
        body="Your order #4711 has shipped and arrives on Friday.", auto_reply=False,
        consent=_CONSENT, decided_at=_START_MS + index * 3, request_id=f"req-{index}")


def _send_result(index: int) -> SendResult:
    return SendResult(
        request_id=f"req-{index}", phone=_phone(index), gateway="acme-us",
        status=SendStatus.FORWARDED, consent=_CONSENT, decided_at=_START_MS + index * 3,
        message_id=f"out-req-{index}")


def _consent_event(index: int) -> ConsentEvent:
    return ConsentEvent(
        event_id=f"ev-{index:016x}", phone=_phone(index), gateway="acme-us", keyword=None,
        previous_status=ConsentStatus.OPT_IN, status=ConsentStatus.OPT_OUT,
        source=ConsentSource.KEYWORD, detail="Opt-out keyword: STOP", actor=None,
        cause_id=f"SM{index:032x}", version=4, occurred_at=_START_MS + index * 3)


def _rate(work: Callable[[Any], object], items: Sequence[Any]) -> float:
    """Records per second for ``work`` over ``items``."""
    started = time.perf_counter()
    for item in items:
        work(item)
    return len(items) / (time.perf_counter() - started)


def bench_codec(n: int) -> dict[str, float]:
    """Records per second, over ``n`` records each: decoding the two hot inputs and encoding
    the three most frequent outputs."""
    inbound = [_inbound(index) for index in range(n)]
    requests = [_send_request(index) for index in range(n)]
    return {
        "decode_inbound": _rate(lambda value: decode_inbound(value, _REGIONS), inbound),
        "decode_send_request": _rate(lambda value: decode_send_request(value, _REGIONS),
                                     requests),
        "encode_outbound": _rate(encode_outbound, [_outbound(index) for index in range(n)]),
        "encode_send_result": _rate(encode_send_result,
                                    [_send_result(index) for index in range(n)]),
        "encode_consent_event": _rate(encode_consent_event,
                                      [_consent_event(index) for index in range(n)]),
    }
