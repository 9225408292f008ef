"""The ten topic records: one table each, and the one place that maps record names to topics.

Each table mirrors ``schemas/<record>.schema.json``; the contract tests check that the codec
accepts exactly what the schema accepts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic

import orjson

from processor.codec.errors import DecodeError, ErrorType, json_type, show
from processor.codec.fields import (
    NO_REGIONS,
    Choice,
    E164Phone,
    Field,
    Flag,
    Headers,
    InputPhone,
    Integer,
    Keyword,
    Kind,
    ListOf,
    Nested,
    RecordT,
    Shape,
    Text,
    Time,
)
from processor.codec.fields import Base64 as Base64Kind
from processor.codec.phones import DIALABLE
from processor.codec.times import INPUT_TIME, OUTPUT_TIME
from processor.domain.models import (
    Command,
    CommandOutcome,
    CommandResult,
    CommandType,
    ConsentEvent,
    ConsentSnapshot,
    ConsentSource,
    ConsentStatus,
    DeadLetter,
    ImportStatus,
    InboundMessage,
    Notice,
    OutboundMessage,
    ReplyKind,
    SendDebug,
    SendKind,
    SendRequest,
    SendResult,
    SendStatus,
    Subscription,
)
from processor.topics import Topic

# Patterns shared with schemas/common.schema.json. Gateway ids and keywords never contain "|":
# it separates the parts of the consent-state key.
GATEWAY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
SUBSCRIPTION_GATEWAY_PATTERN = r"^(?:\*|[A-Za-z0-9][A-Za-z0-9._:-]*)$"
KEYWORD_PATTERN = r"^[^|]+$"
TOPIC_PATTERN = r"^[A-Za-z0-9._-]+$"
MAX_BODY = 4096
# Inbound bodies get far more room: a long message that says STOP must be decided, never
# dead-lettered for its length (Kafka's record size is the real bound).
MAX_INBOUND_BODY = 65536
JS_SAFE_INTEGER = 2**53 - 1

_ID = Text(128)
_GATEWAY = Text(64, pattern=re.compile(GATEWAY_PATTERN),
                what="a gateway id (letters, digits, '.', '_', ':', '-')")
_SUBSCRIPTION_GATEWAY = Text(64, pattern=re.compile(SUBSCRIPTION_GATEWAY_PATTERN),
                             what="a gateway id or '*'")
_KEYWORD = Text(64, pattern=re.compile(KEYWORD_PATTERN), what="a keyword (no '|')")
_INPUT_KEYWORD = Keyword(_KEYWORD)
_PERSON = Text(256)
_DETAIL = Text(1024)
_INPUT_TIME = Time(INPUT_TIME)
_TIME = Time(OUTPUT_TIME)
_PHONE = E164Phone()
_INPUT_PHONE = InputPhone()
_VERSION = Integer(0, JS_SAFE_INTEGER)
_NOTICE_KINDS = tuple(kind for kind in ReplyKind if kind.startswith("notice_"))
_REPLY_KINDS = tuple(kind for kind in ReplyKind if kind not in _NOTICE_KINDS)


def _required(wire: str, kind: Kind, attr: str = "") -> Field:
    return Field(wire, kind, attr)


def _optional(wire: str, kind: Kind, attr: str = "") -> Field:
    """An input field that may be absent or null; either way the domain default applies."""
    return Field(wire, kind, attr, required=False, nullable=True)


def _nullable(wire: str, kind: Kind, attr: str = "") -> Field:
    """An output field that is always written, null when the domain value is None."""
    return Field(wire, kind, attr, nullable=True)


# Inputs: carriers and upstream apps add fields, so unknown ones are ignored (closed=False).

INBOUND_SHAPE = Shape(InboundMessage, (
    _required("message_id", _ID),
    _required("gateway", _GATEWAY),  # before the phones: it names their region
    _required("from", _INPUT_PHONE, "phone"),
    # Our gateway number or short code, kept as the carrier spelled it.
    _required("to", Text(32, pattern=DIALABLE, what="a phone number or short code")),
    _required("body", Text(MAX_INBOUND_BODY, allow_empty=True)),
    _required("received_at", _INPUT_TIME),
    _optional("carrier", Text(128, allow_empty=True)),
    _optional("provider", Text(128, allow_empty=True)),
    _optional("media_count", Integer(0, 1000)),
), closed=False, regional=True)


def _send_request_shape(phone: Kind, keyword: Kind, *, regional: bool) -> Shape[SendRequest]:
    return Shape(SendRequest, (
        _required("request_id", _ID),
        _required("gateway", _GATEWAY),
        _required("to", phone, "phone"),
        _required("body", Text(MAX_BODY)),
        _optional("campaign", Text(128)),
        _optional("keyword", keyword),
        _required("kind", Choice.of(SendKind)),
        _required("requested_by", _PERSON),
        _required("created_at", _INPUT_TIME),
    ), closed=False, regional=regional)


SEND_REQUEST_SHAPE = _send_request_shape(_INPUT_PHONE, _INPUT_KEYWORD, regional=True)
# Requests held in consent state were normalised on the way in: E.164 already.
_HELD_REQUEST_SHAPE = _send_request_shape(_PHONE, _KEYWORD, regional=False)

_GATEWAY_NOT_REQUIRED = frozenset({
    CommandType.GLOBAL_OPT_OUT_SET, CommandType.GLOBAL_OPT_OUT_CLEAR, CommandType.NUMBER_CHANGED})


# Fields that belong to one command type: (field, its type, whether that type requires it).
_TYPE_FIELDS = (
    ("import_status", CommandType.IMPORT, True),
    ("new_phone", CommandType.NUMBER_CHANGED, False),
    ("until", CommandType.EXPIRE_WINDOW, True),
)


def _check_command(values: Mapping[str, object]) -> None:
    """The schema's if/then rules: which fields a command type needs or forbids."""
    kind = values["type"]
    if values.get("gateway") is None and kind not in _GATEWAY_NOT_REQUIRED:
        raise DecodeError(ErrorType.MISSING_FIELD, "gateway", f"required for type {show(kind)}")
    for name, owner, required in _TYPE_FIELDS:
        present = values.get(name) is not None
        if required and kind is owner and not present:
            raise DecodeError(ErrorType.MISSING_FIELD, name, f"required for type {show(owner)}")
        if present and kind is not owner:
            raise DecodeError(ErrorType.INVALID_VALUE, name,
                              f"only allowed for type {show(owner)} (type is {show(kind)})")


COMMAND_SHAPE = Shape(Command, (
    _required("command_id", _ID),
    _required("type", Choice.of(CommandType)),
    _optional("gateway", _GATEWAY),
    _required("phone", _INPUT_PHONE),
    _required("actor", _PERSON),
    _required("created_at", _INPUT_TIME),
    _optional("keyword", _INPUT_KEYWORD),
    _optional("permissions", ListOf(Text(128))),
    _optional("import_status", Choice.of(ImportStatus)),
    _optional("new_phone", _INPUT_PHONE),
    _optional("reason", _DETAIL),
    _optional("until", _INPUT_TIME),
), closed=False, rules=(_check_command,), regional=True)

# Outputs: we write them, so they are closed and every field is always present.

_CONSENT = Nested(Shape(ConsentSnapshot, (
    _required("status", Choice.of(ConsentStatus)),
    _required("source", Choice.of(ConsentSource)),
    _required("version", _VERSION),
), closed=True, versioned=False))

OUTBOUND_SHAPE = Shape(OutboundMessage, (
    _required("message_id", _ID),
    _nullable("request_id", _ID),
    _required("to", _PHONE, "phone"),
    _required("gateway", _GATEWAY),
    _required("body", Text(MAX_BODY)),
    _required("auto_reply", Flag()),
    _nullable("in_reply_to", _ID),
    _nullable("reply_kind", Choice.of(_REPLY_KINDS)),
    _required("consent", _CONSENT),
    _required("decided_at", _TIME),
), closed=True)

SEND_RESULT_SHAPE = Shape(SendResult, (
    _required("request_id", _ID),
    _required("to", _PHONE, "phone"),
    _required("gateway", _GATEWAY),
    _required("status", Choice.of(SendStatus)),
    _nullable("debug", Choice.of(SendDebug)),
    _nullable("detail", _DETAIL),
    _nullable("message_id", _ID),
    _required("consent", _CONSENT),
    _required("decided_at", _TIME),
), closed=True)

CONSENT_EVENT_SHAPE = Shape(ConsentEvent, (
    _required("event_id", _ID),
    _required("phone", _PHONE),
    _required("gateway", _SUBSCRIPTION_GATEWAY),
    _nullable("keyword", _KEYWORD),
    _required("previous_status", Choice.of(ConsentStatus)),
    _required("status", Choice.of(ConsentStatus)),
    _required("source", Choice.of(ConsentSource)),
    _required("detail", _DETAIL),
    _nullable("actor", _PERSON),
    _required("cause_id", _ID),
    # An event is a change; the first change of an untouched subscription (version 0) is 1.
    _required("version", Integer(1, JS_SAFE_INTEGER)),
    _required("occurred_at", _TIME),
), closed=True)

CONSENT_STATE_SHAPE = Shape(Subscription, (
    _required("phone", _PHONE),
    _required("gateway", _SUBSCRIPTION_GATEWAY),
    _nullable("keyword", _KEYWORD),
    _required("status", Choice.of(ConsentStatus)),
    _required("source", Choice.of(ConsentSource)),
    _required("detail", Text(1024, allow_empty=True)),
    _nullable("actor", _PERSON),
    _required("version", _VERSION),
    _required("updated_at", _TIME),
    _nullable("pending_until", _TIME),
    _required("window_closed", Flag()),
    _required("held", ListOf(Nested(_HELD_REQUEST_SHAPE))),
    _required("disclaimer_sent", Flag()),
    _nullable("requested_by", _PERSON),
), closed=True)

COMMAND_RESULT_SHAPE = Shape(CommandResult, (
    _required("command_id", _ID),
    _required("type", Choice.of(CommandType)),
    _required("phone", _PHONE),
    _nullable("gateway", _SUBSCRIPTION_GATEWAY),
    _nullable("keyword", _KEYWORD),
    _required("result", Choice.of(CommandOutcome)),
    _nullable("reason", _DETAIL),
    _required("event_ids", ListOf(_ID)),
    _required("decided_at", _TIME),
), closed=True)

NOTICE_SHAPE = Shape(Notice, (
    _required("notice_id", _ID),
    _required("recipient", _PERSON),
    _required("phone", _PHONE),
    _required("gateway", _GATEWAY),
    _required("kind", Choice.of(_NOTICE_KINDS)),
    _required("body", Text(MAX_BODY)),
    _required("created_at", _TIME),
    _nullable("request_id", _ID),
), closed=True)

MAX_REASON = 2048
DEAD_LETTER_SHAPE = Shape(DeadLetter, (
    _required("reason", Text(MAX_REASON)),
    _required("error_type", Choice.of(ErrorType)),
    # Kafka topic names: at most 249 of these characters.
    _required("topic", Text(249, pattern=re.compile(TOPIC_PATTERN), what="a Kafka topic name")),
    _required("partition", Integer(0, 2**31 - 1)),
    _required("offset", Integer(0, 2**63 - 1)),
    _nullable("key", Base64Kind()),
    _nullable("value", Base64Kind()),
    _required("headers", Headers()),
    _required("failed_at", _TIME),
), closed=True)


def parse_object(value: bytes) -> dict[str, Any]:
    """The JSON object in ``value``; DecodeError when it is not UTF-8, not JSON, not an object."""
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        try:
            bytes(value).decode("utf-8")
        except UnicodeDecodeError as bad:
            raise DecodeError(ErrorType.NOT_UTF8, None,
                              f"not UTF-8 ({bad.reason} at byte {bad.start})") from exc
        raise DecodeError(ErrorType.NOT_JSON, None, f"not JSON ({exc})") from exc
    if type(obj) is not dict:
        raise DecodeError(ErrorType.NOT_OBJECT, None,
                          f"not a JSON object (got {json_type(obj)})")
    return obj


@dataclass(frozen=True, slots=True, eq=False)
class RecordCodec(Generic[RecordT]):
    """One record type: its name (``schemas/<name>.schema.json``), topic and wire mapping."""

    name: str
    topic: Topic
    shape: Shape[RecordT]

    def decode(self, value: bytes, regions: Mapping[str, str] = NO_REGIONS) -> RecordT:
        """The domain record in ``value``; raises DecodeError (only) with the reason.

        ``regions`` maps gateway ids to the region for national phone spellings; it matters
        only for the input records.
        """
        return self.shape.decode_object(parse_object(value), "", regions)

    def encode(self, record: RecordT) -> bytes:
        """The wire bytes of ``record`` (UTF-8 JSON, every field present)."""
        return orjson.dumps(self.shape.encode_object(record))


INBOUND = RecordCodec("inbound", Topic.INBOUND, INBOUND_SHAPE)
SEND_REQUEST = RecordCodec("send-request", Topic.SEND_REQUESTS, SEND_REQUEST_SHAPE)
COMMAND = RecordCodec("command", Topic.COMMANDS, COMMAND_SHAPE)
OUTBOUND = RecordCodec("outbound", Topic.OUTBOUND, OUTBOUND_SHAPE)
SEND_RESULT = RecordCodec("send-result", Topic.SEND_RESULTS, SEND_RESULT_SHAPE)
CONSENT_EVENT = RecordCodec("consent-event", Topic.CONSENT_EVENTS, CONSENT_EVENT_SHAPE)
CONSENT_STATE = RecordCodec("consent-state", Topic.CONSENT_STATE, CONSENT_STATE_SHAPE)
COMMAND_RESULT = RecordCodec("command-result", Topic.COMMAND_RESULTS, COMMAND_RESULT_SHAPE)
NOTICE = RecordCodec("notice", Topic.NOTICES, NOTICE_SHAPE)
DEAD_LETTER = RecordCodec("dead-letter", Topic.DEAD_LETTER, DEAD_LETTER_SHAPE)

RECORDS: Mapping[str, RecordCodec[Any]] = {codec.name: codec for codec in (
    INBOUND, SEND_REQUEST, COMMAND, OUTBOUND, SEND_RESULT, CONSENT_EVENT, CONSENT_STATE,
    COMMAND_RESULT, NOTICE, DEAD_LETTER)}
RECORD_FOR_TOPIC: Mapping[Topic, RecordCodec[Any]] = {
    codec.topic: codec for codec in RECORDS.values()}
