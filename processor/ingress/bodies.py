"""The JSON bodies of the HTTP API: one msgspec definition each, which both checks a request's
shape and generates its OpenAPI schema. A body that has the right shape is then turned into the
topic record's wire form and read by the codec, the same reader the worker uses, so the API
accepts exactly what the worker would decide (phones in the numbering plan, field limits, which
fields a command type needs) and never publishes a record the worker would dead-letter.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

import msgspec

from processor import codec
from processor.domain.models.enums import CommandType, ImportStatus, SendKind
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.wire import SCHEMA_VERSION


class ApiCommandType(enum.StrEnum):
    """The command types a caller may send (the window timer's expire_window is internal)."""

    MANUAL_OPT_IN = CommandType.MANUAL_OPT_IN.value
    MANUAL_OPT_OUT = CommandType.MANUAL_OPT_OUT.value
    API_OPT_IN = CommandType.API_OPT_IN.value
    API_OPT_OUT = CommandType.API_OPT_OUT.value
    IMPORT = CommandType.IMPORT.value
    GLOBAL_OPT_OUT_SET = CommandType.GLOBAL_OPT_OUT_SET.value
    GLOBAL_OPT_OUT_CLEAR = CommandType.GLOBAL_OPT_OUT_CLEAR.value
    NUMBER_CHANGED = CommandType.NUMBER_CHANGED.value


Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^\S+$",
                                 description="Unique id; the same id again is idempotent")]
Phone = Annotated[str, msgspec.Meta(min_length=1, max_length=32,
                                    description="E.164 (+15551234567) or national spelling",
                                    examples=["+12025550143"])]
Gateway = Annotated[str, msgspec.Meta(min_length=1, max_length=64,
                                      pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
                                      examples=["acme-main"])]
Keyword = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[^|]+$")]
Text = Annotated[str, msgspec.Meta(max_length=4096)]
Person = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Time = Annotated[str, msgspec.Meta(description="RFC 3339 with an offset; default: now",
                                   examples=["2026-11-25T09:30:00Z"])]


class SendRequestBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request to text a phone; the worker answers on sms.send-results."""

    to: Phone
    gateway: Gateway
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    kind: SendKind = SendKind.ONE_TO_ONE
    request_id: Id | None = None
    requested_by: Person | None = None  # default: the token's actor
    campaign: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    keyword: Keyword | None = None


class CommandBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A consent command; the actor and its permissions come from the bearer token."""

    type: ApiCommandType
    phone: Phone
    gateway: Gateway | None = None
    keyword: Keyword | None = None
    import_status: ImportStatus | None = None
    new_phone: Phone | None = None
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)] | None = None
    command_id: Id | None = None


class InboundBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A mobile-originated message from a carrier or aggregator (the generic webhook)."""

    message_id: Id
    from_: Phone = msgspec.field(name="from")
    to: Annotated[str, msgspec.Meta(min_length=1, max_length=32,
                                    description="Our number or short code")]
    body: Annotated[str, msgspec.Meta(max_length=65536)]
    gateway: Gateway | None = None  # default: the gateway whose number is `to`
    received_at: Time | None = None
    carrier: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    provider: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    media_count: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None


BodyT = TypeVar("BodyT", bound=msgspec.Struct)
RecordT = TypeVar("RecordT")


class BodyError(ValueError):
    """A body that is not what the endpoint takes; ``str()`` says why (the 4xx reply)."""

    def __init__(self, reason: str, *, status: int = 422) -> None:
        super().__init__(reason)
        self.status = status


def parse_body(raw: bytes, body_type: type[BodyT]) -> BodyT:
    """The body as ``body_type``; BodyError 400 when it is not JSON, 422 when its shape is
    wrong (the message names the field)."""
    try:
        return msgspec.json.decode(raw, type=body_type)
    except msgspec.ValidationError as exc:
        raise BodyError(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise BodyError(f"not a JSON document ({exc})", status=400) from None


def _wire(values: Mapping[str, Any]) -> bytes:
    """A topic record's wire form: the values that are set, with the schema version."""
    return msgspec.json.encode(
        {"schema_version": SCHEMA_VERSION, **{k: v for k, v in values.items() if v is not None}})


def _read(decode: Callable[[bytes, Mapping[str, str]], RecordT], wire: bytes,
          regions: Mapping[str, str]) -> RecordT:
    try:
        record = decode(wire, regions)
    except codec.DecodeError as exc:
        raise BodyError(str(exc)) from None
    return record


def send_request_record(body: SendRequestBody, *, request_id: str, actor: str, now_ms: int,
                        regions: Mapping[str, str]) -> SendRequest:
    wire = _wire({
        "request_id": body.request_id or request_id, "gateway": body.gateway, "to": body.to,
        "body": body.body, "kind": body.kind.value, "requested_by": body.requested_by or actor,
        "created_at": codec.format_time(now_ms), "campaign": body.campaign,
        "keyword": body.keyword,
    })
    return _read(codec.decode_send_request, wire, regions)


def command_record(body: CommandBody, *, command_id: str, actor: str,
                   permissions: frozenset[str], now_ms: int,
                   regions: Mapping[str, str]) -> Command:
    wire = _wire({
        "command_id": body.command_id or command_id, "type": body.type.value,
        "gateway": body.gateway, "phone": body.phone, "actor": actor,
        "created_at": codec.format_time(now_ms), "keyword": body.keyword,
        "permissions": sorted(permissions) or None,
        "import_status": body.import_status.value if body.import_status else None,
        "new_phone": body.new_phone, "reason": body.reason,
    })
    return _read(codec.decode_command, wire, regions)


def inbound_record(body: InboundBody, *, gateway: str, now_ms: int,
                   regions: Mapping[str, str]) -> InboundMessage:
    wire = _wire({
        "message_id": body.message_id, "gateway": gateway, "from": body.from_, "to": body.to,
        "body": body.body, "received_at": body.received_at or codec.format_time(now_ms),
        "carrier": body.carrier, "provider": body.provider, "media_count": body.media_count,
    })
    return _read(codec.decode_inbound, wire, regions)


def twilio_record(form: Mapping[str, str], *, gateway: str, now_ms: int,
                  regions: Mapping[str, str]) -> InboundMessage:
    """The sms.inbound record of Twilio's inbound-message webhook (MessageSid, From, To, Body,
    NumMedia); BodyError when a field Twilio always sends is missing or invalid."""
    missing = [name for name in ("MessageSid", "From", "To") if not form.get(name)]
    if missing:
        raise BodyError(f"missing Twilio parameter(s): {', '.join(missing)}", status=400)
    media = form.get("NumMedia") or None
    if media is not None and not media.isdigit():
        raise BodyError(f"NumMedia: expected a count, got {media[:20]!r}")
    wire = _wire({
        "message_id": form["MessageSid"], "gateway": gateway, "from": form["From"],
        "to": form["To"], "body": form.get("Body", ""),
        "received_at": codec.format_time(now_ms), "provider": "twilio",
        "media_count": int(media) if media is not None else None,
    })
    return _read(codec.decode_inbound, wire, regions)
