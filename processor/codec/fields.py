"""The table-driven machinery: how one JSON value or object maps to one domain value or record.

A record is described once, as a :class:`Shape` (a tuple of :class:`Field`), and the same table
decodes and encodes it. Decoding checks exactly what the record's JSON Schema checks (types,
lengths, patterns, enums, ranges, required and unknown fields), with direct ``isinstance``-style
tests instead of a schema validator, and raises :class:`DecodeError` naming field and problem.
"""

from __future__ import annotations

import abc
import base64
import binascii
import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Generic, TypeVar

from processor.codec.errors import DecodeError, ErrorType, shorten, show, wrong_type
from processor.codec.phones import E164, normalise_phone
from processor.codec.times import format_time, parse_time
from processor.domain.keywords import canonical_keyword
from processor.domain.models import SCHEMA_VERSION

RecordT = TypeVar("RecordT")
NO_REGIONS: Mapping[str, str] = {}

# Standard alphabet with padding, as the schemas' base64 pattern says.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_BASE64 = re.compile(BASE64_PATTERN)
_ABSENT = object()


class Kind(abc.ABC):
    """How one JSON value (never null: fields handle null) maps to one domain value."""

    # For reasons: "must be <expected>".
    expected = "a value"

    @abc.abstractmethod
    def decode(self, raw: object, path: str, region: str | None) -> object:
        """The domain value for ``raw``; ``region`` is the record's gateway region, if any."""

    @property
    def encoder(self) -> Callable[[Any], object] | None:
        """Maps the domain value to JSON; None when orjson can write the domain value as is."""
        return None


@dataclass(frozen=True, slots=True)
class Text(Kind):
    """A string of at most ``max_length`` characters, non-empty unless ``allow_empty``, and
    optionally matching a pattern (``what`` names it in reasons)."""

    max_length: int
    allow_empty: bool = False
    pattern: re.Pattern[str] | None = None
    what: str = ""
    expected = "a string"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        if type(raw) is not str:
            raise wrong_type(path, self.expected, raw)
        if not raw and not self.allow_empty:
            raise DecodeError(ErrorType.INVALID_VALUE, path, "must not be empty")
        if len(raw) > self.max_length:
            raise DecodeError(ErrorType.INVALID_VALUE, path,
                              f"longer than {self.max_length} characters ({len(raw)})")
        if self.pattern is not None and self.pattern.fullmatch(raw) is None:
            raise DecodeError(ErrorType.INVALID_VALUE, path, f"not {self.what} ({show(raw)})")
        return raw


@dataclass(frozen=True, slots=True)
class Keyword(Kind):
    """A keyword from an upstream app or a command, spelled the way the classifier spells the
    keywords phones text (``volunteer`` and ``Volunteer`` name the scope ``VOLUNTEER``)."""

    text: Text
    expected = "a string"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        spelled = canonical_keyword(str(self.text.decode(raw, path, region)))
        if len(spelled) > self.text.max_length:
            # Folding can lengthen a word (ß -> SS); outputs carry the folded form.
            raise DecodeError(ErrorType.INVALID_KEYWORD, path,
                              f"longer than {self.text.max_length} characters once normalised "
                              f"({show(spelled)})")
        return spelled


@dataclass(frozen=True, slots=True, eq=False)
class Choice(Kind):
    """One of the values of a string enum (or of a subset of them)."""

    members: Mapping[str, enum.StrEnum]
    expected = "a string"

    @classmethod
    def of(cls, members: Iterable[enum.StrEnum]) -> Choice:
        return cls({member.value: member for member in members})

    def decode(self, raw: object, path: str, region: str | None) -> object:
        if type(raw) is not str:
            raise wrong_type(path, self.expected, raw)
        member = self.members.get(raw)
        if member is None:
            allowed = ", ".join(repr(value) for value in self.members)
            raise DecodeError(ErrorType.INVALID_VALUE, path,
                              f"must be one of {allowed} (got {show(raw)})")
        return member


@dataclass(frozen=True, slots=True)
class Integer(Kind):
    """An integer in a range; like JSON Schema, an integral number such as 2.0 counts."""

    minimum: int
    maximum: int
    expected = "an integer"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        if type(raw) is not int:
            if type(raw) is not float or not raw.is_integer():
                raise wrong_type(path, self.expected, raw)
            raw = int(raw)
        if not self.minimum <= raw <= self.maximum:
            raise DecodeError(ErrorType.INVALID_VALUE, path,
                              f"must be between {self.minimum} and {self.maximum} (got {raw})")
        return raw


class Flag(Kind):
    expected = "a boolean"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        if type(raw) is not bool:
            raise wrong_type(path, self.expected, raw)
        return raw


@dataclass(frozen=True, slots=True)
class Time(Kind):
    """An RFC 3339 string on the wire, integer milliseconds in the domain."""

    shape: re.Pattern[str]
    expected = "a string"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        if type(raw) is not str:
            raise wrong_type(path, self.expected, raw)
        return parse_time(raw, path, self.shape)

    @property
    def encoder(self) -> Callable[[Any], object]:
        return format_time


class InputPhone(Kind):
    """A subscriber's phone as an upstream spelled it; decoded to E.164 (numbering plan checked)."""

    expected = "a string"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        if type(raw) is not str:
            raise wrong_type(path, self.expected, raw)
        phone = normalise_phone(raw, region)
        if phone is None:
            hint = "" if region or raw.startswith("+") else \
                "; a national number needs a region for the gateway, and it has none"
            raise DecodeError(ErrorType.INVALID_PHONE, path,
                              f"not a valid phone number ({show(raw)}{hint})")
        return phone


class E164Phone(Kind):
    """A phone on a record we wrote: E.164 shape only.

    The numbering plan is deliberately not re-checked: a phonenumbers update that retires a
    prefix must not make a stored opt-out undecodable.
    """

    expected = "a string"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        if type(raw) is not str:
            raise wrong_type(path, self.expected, raw)
        if E164.fullmatch(raw) is None:
            raise DecodeError(ErrorType.INVALID_PHONE, path,
                              f"not an E.164 phone number like +12015550123 ({show(raw)})")
        return raw


class Base64(Kind):
    """Bytes as standard base64 with padding."""

    expected = "a base64 string"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        return _bytes_from_base64(raw, path)

    @property
    def encoder(self) -> Callable[[Any], object]:
        return _base64_text


def _bytes_from_base64(raw: object, path: str) -> bytes:
    if type(raw) is not str:
        raise wrong_type(path, Base64.expected, raw)
    if _BASE64.fullmatch(raw) is None:
        raise DecodeError(ErrorType.INVALID_VALUE, path, f"not base64 ({show(raw)})")
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error as exc:  # the pattern should have caught it; keep the promise anyway
        raise DecodeError(ErrorType.INVALID_VALUE, path, f"not base64 ({exc})") from exc


def _base64_text(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True, slots=True)
class ListOf(Kind):
    """A JSON array of ``item`` values; a tuple in the domain."""

    item: Kind
    expected = "an array"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        if type(raw) is not list:
            raise wrong_type(path, self.expected, raw)
        decode_item = self.item.decode
        return tuple(decode_item(value, f"{path}[{index}]", region)
                     for index, value in enumerate(raw))

    @property
    def encoder(self) -> Callable[[Any], object] | None:
        encode_item = self.item.encoder
        if encode_item is None:
            return None
        return lambda values: [encode_item(value) for value in values]


@dataclass(frozen=True, slots=True)
class Nested(Kind):
    """A JSON object that is a domain record of its own (the consent snapshot, held requests)."""

    shape: Shape[Any]
    expected = "an object"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        if type(raw) is not dict:
            raise wrong_type(path, self.expected, raw)
        return self.shape.decode_object(raw, f"{path}.")

    @property
    def encoder(self) -> Callable[[Any], object]:
        return self.shape.encode_object


class Headers(Kind):
    """Kafka headers: ``[{"key": str, "value": base64}]`` on the wire, (key, bytes) pairs inside."""

    expected = "an array"

    def decode(self, raw: object, path: str, region: str | None) -> object:
        if type(raw) is not list:
            raise wrong_type(path, self.expected, raw)
        return tuple(self._header(item, f"{path}[{index}]") for index, item in enumerate(raw))

    def _header(self, item: object, path: str) -> tuple[str, bytes]:
        if type(item) is not dict:
            raise wrong_type(path, "an object", item)
        for name in ("key", "value"):
            if name not in item:
                raise DecodeError(ErrorType.MISSING_FIELD, f"{path}.{name}",
                                  "required field is missing")
        for name in item:
            if name not in ("key", "value"):
                raise DecodeError(ErrorType.UNKNOWN_FIELD, f"{path}.{shorten(name)}",
                                  "unknown field (no other fields are allowed)")
        key = item["key"]
        if type(key) is not str:
            raise wrong_type(f"{path}.key", "a string", key)
        return key, _bytes_from_base64(item["value"], f"{path}.value")

    @property
    def encoder(self) -> Callable[[Any], object]:
        return lambda headers: [{"key": key, "value": _base64_text(value)}
                                for key, value in headers]


@dataclass(frozen=True, slots=True)
class Field:
    """One property of a record: its wire name, kind, domain attribute and presence rules.

    ``required``: the property must be present. ``nullable``: it may be null. Input records
    make optional properties ``required=False, nullable=True`` (absent or null both mean "not
    given": the domain default applies); output records write every property, so their optional
    ones are ``required=True, nullable=True`` and null decodes to None.
    """

    wire: str
    kind: Kind
    attr: str = ""
    required: bool = True
    nullable: bool = False

    @property
    def domain_name(self) -> str:
        return self.attr or self.wire


# Cross-field rules (if/then in the schema) run on the decoded values, keyed by domain name.
Rule = Callable[[Mapping[str, object]], None]


@dataclass(frozen=True, slots=True, eq=False)
class Shape(Generic[RecordT]):
    """One JSON object <-> one domain record, described by its fields.

    ``closed``: unknown properties are an error (records we write). ``versioned``: the object
    carries ``schema_version`` (top-level records and the send requests held in consent state).
    ``regional``: phone fields are read with the region configured for the record's gateway.
    """

    build: Callable[..., RecordT]
    fields: tuple[Field, ...]
    closed: bool
    versioned: bool = True
    rules: tuple[Rule, ...] = ()
    regional: bool = False
    _known: frozenset[str] = field(init=False)
    # Per field, precomputed for the hot loops: what decode_object and encode_object need.
    _readers: tuple[tuple[str, str, Callable[[object, str, str | None], object], Field], ...] = \
        field(init=False)
    _writers: tuple[tuple[str, Callable[[Any], object], Callable[[Any], object] | None], ...] = \
        field(init=False)

    def __post_init__(self) -> None:
        known = {f.wire for f in self.fields} | ({"schema_version"} if self.versioned else set())
        object.__setattr__(self, "_known", frozenset(known))
        object.__setattr__(self, "_readers", tuple(
            (f.wire, f.domain_name, f.kind.decode, f) for f in self.fields))
        object.__setattr__(self, "_writers", tuple(
            (f.wire, attrgetter(f.domain_name), f.kind.encoder) for f in self.fields))

    def decode_object(self, obj: dict[str, Any], prefix: str = "",
                      regions: Mapping[str, str] = NO_REGIONS) -> RecordT:
        """The domain record for a decoded JSON object; ``prefix`` is its path in the record."""
        if self.versioned:
            _check_version(obj.get("schema_version", _ABSENT), prefix)
        region = None
        if self.regional:
            gateway = obj.get("gateway")
            region = regions.get(gateway) if type(gateway) is str else None
        values: dict[str, object] = {}
        for wire, name, decode, spec in self._readers:
            raw = obj.get(wire, _ABSENT)
            if raw is None:
                if not spec.nullable:
                    raise wrong_type(prefix + wire, spec.kind.expected, raw)
                if spec.required:
                    values[name] = None
            elif raw is _ABSENT:
                if spec.required:
                    raise DecodeError(ErrorType.MISSING_FIELD, prefix + wire,
                                      "required field is missing")
            else:
                values[name] = decode(raw, prefix + wire if prefix else wire, region)
        # Every key is known when the object holds no more keys than the known ones decoded.
        if self.closed and len(obj) > len(values) + self.versioned:
            for name in obj:
                if name not in self._known:
                    raise DecodeError(ErrorType.UNKNOWN_FIELD, prefix + shorten(name),
                                      "unknown field (no other fields are allowed)")
        for rule in self.rules:
            rule(values)
        return self.build(**values)

    def encode_object(self, record: RecordT) -> dict[str, object]:
        """The JSON object for a domain record: every field, null when the domain has None."""
        obj: dict[str, object] = {"schema_version": SCHEMA_VERSION} if self.versioned else {}
        for wire, get, encode in self._writers:
            value = get(record)
            obj[wire] = encode(value) if encode is not None and value is not None else value
        return obj


def _check_version(version: object, prefix: str) -> None:
    # Like JSON Schema's const, 1.0 equals 1 (and true does not).
    if type(version) in (int, float) and version == SCHEMA_VERSION:
        return
    path = f"{prefix}schema_version"
    if version is _ABSENT:
        raise DecodeError(ErrorType.MISSING_FIELD, path, "required field is missing")
    if type(version) not in (int, float):
        raise wrong_type(path, "an integer", version)
    raise DecodeError(ErrorType.UNSUPPORTED_SCHEMA_VERSION, path,
                      f"unsupported version {show(version)} (supported: {SCHEMA_VERSION})")
