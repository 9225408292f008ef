"""The ten topic records: one msgspec decoder and encoder each, and the one place that maps
record names to topics.

The records themselves are declared once, as Structs in :mod:`processor.domain.models`. A
valid record decodes in one msgspec call straight into its Struct, followed by the few checks
JSON cannot express (:mod:`processor.codec.checks`); a record msgspec refuses is read again by
the slow path there, which names the first problem the way dead letters always have.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, Union

import msgspec
import msgspec.inspect as mi
from msgspec.structs import force_setattr, replace

from processor.codec import checks
from processor.codec.checks import (
    NO_REGIONS,
    check_command,
    e164_phone,
    input_keyword,
    input_phone,
    one_of,
    parse_object,
    read_record,
)
from processor.codec.errors import DecodeError
from processor.codec.fields import Field, Shape, kind_of
from processor.codec.times import INPUT_TIME, OUTPUT_TIME, format_time, parse_time
from processor.domain.models.enums import ErrorType
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.outputs import (
    CommandResult,
    ConsentEvent,
    DeadLetter,
    Header,
    Notice,
    OutboundMessage,
    SendResult,
)
from processor.domain.models.subscription import Subscription
from processor.domain.models.wire import (
    GATEWAY_PATTERN,
    KEYWORD_PATTERN,
    MAX_BODY,
    MAX_INBOUND_BODY,
    MAX_REASON,
    MAX_SAFE_INTEGER,
    NOTICE_KINDS,
    REPLY_KINDS,
    SUBSCRIPTION_GATEWAY_PATTERN,
    TOPIC_PATTERN,
    InputTime,
    Time,
)
from processor.topics import Topic

__all__ = [
    "COMMAND", "COMMAND_RESULT", "CONSENT_EVENT", "CONSENT_STATE", "DEAD_LETTER",
    "GATEWAY_PATTERN", "INBOUND", "JS_SAFE_INTEGER", "KEYWORD_PATTERN", "MAX_BODY",
    "MAX_INBOUND_BODY", "MAX_REASON", "NOTICE", "OUTBOUND", "RECORDS", "RECORD_FOR_TOPIC",
    "SEND_REQUEST", "SEND_RESULT", "SUBSCRIPTION_GATEWAY_PATTERN", "TOPIC_PATTERN",
    "RecordCodec", "parse_object",
]

RecordT = TypeVar("RecordT", bound=msgspec.Struct)
JS_SAFE_INTEGER = MAX_SAFE_INTEGER
INPUT_RECORDS = (InboundMessage, SendRequest, Command)
checks.OPEN_RECORDS.update(INPUT_RECORDS)
checks.RULES[Command] = check_command

_ENCODER = msgspec.json.Encoder()


def _dec_hook(kind: type, raw: object) -> object:
    """Wire times for msgspec: only well-formed strings; the slow path says what is wrong."""
    if kind is InputTime or kind is Time:
        if type(raw) is str:
            try:
                return kind(parse_time(raw, "", INPUT_TIME if kind is InputTime else OUTPUT_TIME))
            except DecodeError:
                pass
        raise ValueError("not a time")
    raise NotImplementedError(kind)


def _times(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    """The fields of ``cls`` that hold times (ints inside, RFC 3339 strings on the wire)."""
    hints = typing.get_type_hints(cls)
    return tuple(name for name in cls.__struct_fields__
                 if {InputTime, Time} & set(typing.get_args(hints[name]) or (hints[name],)))


def _absent_version(cls: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """A Struct that msgspec picks for a version nobody writes: decoding ``cls | _Absent`` as a
    tagged union makes msgspec require ``schema_version`` (alone, a tag may be missing)."""
    return msgspec.defstruct(f"{cls.__name__}VersionCheck", [], tag_field="schema_version",
                             tag=-(2**62))


def field_extra(hint: Any) -> dict[str, Any]:
    """The ``extra`` of a field's own Meta (``Annotated[T, Meta(extra=...)]``)."""
    extra: dict[str, Any] = {}
    for meta in getattr(hint, "__metadata__", ()):
        extra.update(getattr(meta, "extra", None) or {})
    return extra


def _closed(cls: type[msgspec.Struct], version: int) -> type[msgspec.Struct]:
    """``cls`` as read from the wire when we wrote it at ``version``: every field of that
    version required (but a field added within it, which older records lack), nothing else
    allowed, held requests versioned, headers as objects."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields: list[Any] = []
    for name in cls.__struct_fields__:
        hint = hints[name]
        extra = field_extra(hint)
        if extra.get("since", 1) > version:
            continue
        if name == "held":
            held: Any = Union[SendRequest, _absent_version(SendRequest)]  # noqa: UP007
            hint = tuple.__class_getitem__((held, ...))
        elif name == "headers":
            hint = tuple[Header, ...]
        fields.append((name, hint, None) if extra.get("added") else (name, hint))
    encode_names = dict(zip(cls.__struct_fields__, cls.__struct_encode_fields__, strict=True))
    # Fields with a default must follow the others in a positional Struct; kw_only frees that.
    return msgspec.defstruct(
        f"{cls.__name__}WireV{version}", fields, tag_field="schema_version", tag=version,
        forbid_unknown_fields=True, frozen=True, kw_only=True,
        rename={name: wire for name, wire in encode_names.items() if name != wire})


def versions(cls: type[msgspec.Struct]) -> range:
    """The versions of a record consent-gate reads: 1 up to the one it writes."""
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    assert isinstance(info.tag, int)
    return range(1, info.tag + 1)


PostStep = Callable[[Any, str | None], Any]

# The most bytes an input record may have. A body of 65,536 characters takes at most 393,216
# bytes of JSON (every character escaped as \uXXXX); anything much larger is refused before it
# is parsed, so a huge record costs no time or memory (an 8 MB record took over a second and
# 250 MB to reach its error). JSON Schema cannot express a size in bytes: the one limit the
# codec adds to the schemas (error_type too_large).
MAX_INPUT_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True, eq=False)
class RecordCodec(Generic[RecordT]):
    """One record type: its name (``schemas/<name>.schema.json``), topic and Struct."""

    name: str
    topic: Topic
    struct: type[RecordT]
    # What JSON cannot express, on a record msgspec accepted: (record, region) -> record.
    post: PostStep | None = None
    _decoder: msgspec.json.Decoder[Any] = field(init=False)
    # The closed records' wire Structs, one per version read (the current one first).
    _wires: tuple[type[msgspec.Struct], ...] = field(init=False)
    _time_fields: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        wires = () if self.struct in INPUT_RECORDS else tuple(
            _closed(self.struct, version) for version in reversed(versions(self.struct)))
        targets = wires or (self.struct,)
        object.__setattr__(self, "_wires", wires)
        object.__setattr__(self, "_decoder", msgspec.json.Decoder(
            Union[(*targets, _absent_version(targets[0]))], dec_hook=_dec_hook))
        object.__setattr__(self, "_time_fields", _times(self.struct))

    @property
    def shape(self) -> Shape:
        """The record's fields as the wire names them (for tools and tests)."""
        return Shape(tuple(Field(wire, name, kind_of(self.struct, name)) for name, wire in zip(
            self.struct.__struct_fields__, self.struct.__struct_encode_fields__, strict=True)))

    def decode(self, value: bytes, regions: Mapping[str, str] = NO_REGIONS) -> RecordT:
        """The domain record in ``value``; raises DecodeError (only) with the reason.

        ``regions`` maps gateway ids to the region for national phone spellings; it matters
        only for the input records.
        """
        if not self._wires and len(value) > MAX_INPUT_BYTES:
            raise DecodeError(ErrorType.TOO_LARGE, None, (
                f"the record is {len(value)} bytes; input records are at most "
                f"{MAX_INPUT_BYTES} (a 65,536-character body fits with room to spare)"))
        try:
            record = self._decoder.decode(value)
            if not self._wires and not value.isascii():
                # msgspec skips the fields an input record does not know without reading
                # their text: the slow path says where UTF-8 breaks.
                bytes(value).decode()
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
            return self._read(value, regions)
        if self._wires:
            if type(record) not in self._wires:
                return self._read(value, regions)
            # A field an older version lacks takes its default (None).
            record = self.struct(**{name: getattr(record, name)
                                  for name in self.struct.__struct_fields__
                                  if hasattr(record, name)})
        elif type(record) is not self.struct:
            return self._read(value, regions)
        if self.post is None:
            return record
        gateway = getattr(record, "gateway", None)
        region = regions.get(gateway) if gateway is not None and regions else None
        post: RecordT = self.post(record, region)
        return post

    def _read(self, value: bytes, regions: Mapping[str, str]) -> RecordT:
        """The slow path: the record msgspec refused, read field by field (checks module)."""
        obj = parse_object(value)
        region = None
        if self.struct in INPUT_RECORDS:
            gateway = obj.get("gateway")
            region = regions.get(gateway) if type(gateway) is str else None
        reading = checks.Reading(normalise=self.struct in INPUT_RECORDS, region=region)
        record: RecordT = read_record(obj, self.struct, reading)  # type: ignore[assignment]
        return record

    def encode(self, record: RecordT) -> bytes:
        """The wire bytes of ``record`` (UTF-8 JSON, every field present)."""
        changes: dict[str, Any] = {name: format_time(value) for name in self._time_fields
                                   if (value := getattr(record, name)) is not None}
        if isinstance(record, Subscription) and record.held:
            changes["held"] = tuple(replace(held, created_at=format_time(held.created_at))
                                    for held in record.held)
        elif isinstance(record, DeadLetter):
            changes["headers"] = tuple(Header(key, data) for key, data in record.headers)
        # The changed copy holds strings where the domain holds ints: it only lives to be
        # encoded.
        return _ENCODER.encode(replace(record, **changes) if changes else record)


# Post-steps: what JSON cannot express ------------------------------------------------------

def _inbound(message: InboundMessage, region: str | None) -> InboundMessage:
    force_setattr(message, "phone", input_phone(message.phone, "from", region))
    return message


def _send_request(request: SendRequest, region: str | None) -> SendRequest:
    force_setattr(request, "phone", input_phone(request.phone, "to", region))
    if request.keyword is not None:
        force_setattr(request, "keyword", input_keyword(request.keyword, "keyword"))
    return request


def _command(command: Command, region: str | None) -> Command:
    force_setattr(command, "phone", input_phone(command.phone, "phone", region))
    if command.keyword is not None:
        force_setattr(command, "keyword", input_keyword(command.keyword, "keyword"))
    if command.new_phone is not None:
        force_setattr(command, "new_phone", input_phone(command.new_phone, "new_phone", region))
    check_command({"type": command.type, "gateway": command.gateway,
                   "import_status": command.import_status, "new_phone": command.new_phone,
                   "until": command.until})
    return command


def _outbound(message: OutboundMessage, region: str | None) -> OutboundMessage:
    if message.reply_kind is not None:
        one_of(message.reply_kind, REPLY_KINDS, "reply_kind")
    return message


def _notice(notice: Notice, region: str | None) -> Notice:
    one_of(notice.kind, NOTICE_KINDS, "kind")
    return notice


def _dead_letter(letter: DeadLetter, region: str | None) -> DeadLetter:
    headers: tuple[Any, ...] = letter.headers
    force_setattr(letter, "headers", tuple((header.key, header.value) for header in headers))
    return letter


def _consent_state(sub: Subscription, region: str | None) -> Subscription:
    for index, held in enumerate(sub.held):
        e164_phone(held.phone, f"held[{index}].to")
    return sub


INBOUND = RecordCodec("inbound", Topic.INBOUND, InboundMessage, _inbound)
SEND_REQUEST = RecordCodec("send-request", Topic.SEND_REQUESTS, SendRequest, _send_request)
COMMAND = RecordCodec("command", Topic.COMMANDS, Command, _command)
OUTBOUND = RecordCodec("outbound", Topic.OUTBOUND, OutboundMessage, _outbound)
SEND_RESULT = RecordCodec("send-result", Topic.SEND_RESULTS, SendResult)
CONSENT_EVENT = RecordCodec("consent-event", Topic.CONSENT_EVENTS, ConsentEvent)
CONSENT_STATE = RecordCodec("consent-state", Topic.CONSENT_STATE, Subscription, _consent_state)
COMMAND_RESULT = RecordCodec("command-result", Topic.COMMAND_RESULTS, CommandResult)
NOTICE = RecordCodec("notice", Topic.NOTICES, Notice, _notice)
DEAD_LETTER = RecordCodec("dead-letter", Topic.DEAD_LETTER, DeadLetter, _dead_letter)

RECORDS: Mapping[str, RecordCodec[Any]] = {codec.name: codec for codec in (
    INBOUND, SEND_REQUEST, COMMAND, OUTBOUND, SEND_RESULT, CONSENT_EVENT, CONSENT_STATE,
    COMMAND_RESULT, NOTICE, DEAD_LETTER)}
RECORD_FOR_TOPIC: Mapping[Topic, RecordCodec[Any]] = {
    codec.topic: codec for codec in RECORDS.values()}
