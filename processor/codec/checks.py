"""Why a record is invalid, in the words dead letters use: the decoder's slow path.

msgspec decodes valid records (``processor.codec.records``). When it refuses one, this module
reads the record again, field by field in declaration order, from the same Struct declarations
(``msgspec.inspect``), and raises the :class:`DecodeError` of the first problem: its error type,
the field's wire path and a reason quoting the value. Reading in declaration order (not in the
order the producer wrote its keys, which decides what msgspec trips over first) keeps the
reported problem, and so the dead letter, the same whatever the key order.

JSON Schema counts an integral number such as ``2.0`` as an integer and ``1.0`` as the schema
version, msgspec does not; and a repeated key counts once here (the last one wins, as for
JSON Schema validators). Records msgspec refuses only for such reasons decode here, so the codec
accepts exactly what the schemas accept.

The checks msgspec cannot make live here too and run on both paths: phones read in the
gateway's region, keywords normalised like the classifier spells them, and the command's rules.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
import orjson
from msgspec import inspect as mi

from processor.codec.errors import DecodeError, ErrorType, json_type, shorten, show, wrong_type
from processor.codec.phones import E164, normalise_phone
from processor.codec.times import INPUT_TIME, OUTPUT_TIME, parse_time
from processor.domain.classify.keyword import canonical_keyword
from processor.domain.models.enums import CommandType
from processor.domain.models.wire import BASE64_PATTERN, SCHEMA_VERSION, InputTime, Time

NO_REGIONS: Mapping[str, str] = {}
_BASE64 = re.compile(BASE64_PATTERN)
_ABSENT = object()


# Checks both paths share ------------------------------------------------------------------


def input_phone(raw: str, path: str, region: str | None) -> str:
    """The E.164 form of a subscriber's phone as an upstream spelled it."""
    phone = normalise_phone(raw, region)
    if phone is None:
        hint = "" if region or raw.startswith("+") else \
            "; a national number needs a region for the gateway, and it has none"
        raise DecodeError(ErrorType.INVALID_PHONE, path,
                          f"not a valid phone number ({show(raw)}{hint})")
    return phone


def e164_phone(raw: str, path: str) -> str:
    """A phone on a record we wrote: E.164 shape only. The numbering plan is deliberately not
    re-checked: a phonenumbers update that retires a prefix must not make a stored opt-out
    undecodable."""
    if E164.fullmatch(raw) is None:
        raise DecodeError(ErrorType.INVALID_PHONE, path,
                          f"not an E.164 phone number like +12015550123 ({show(raw)})")
    return raw


def input_keyword(raw: str, path: str, max_length: int = 64) -> str:
    """A keyword from an upstream app or a command, spelled the way the classifier spells the
    keywords phones text (``volunteer`` and ``Volunteer`` name the scope ``VOLUNTEER``)."""
    spelled = canonical_keyword(raw)
    if len(spelled) > max_length:
        # Folding can lengthen a word (ß -> SS); outputs carry the folded form.
        raise DecodeError(ErrorType.INVALID_KEYWORD, path,
                          f"longer than {max_length} characters once normalised "
                          f"({show(spelled)})")
    return spelled


def one_of(raw: object, members: tuple[Any, ...], path: str) -> None:
    if raw not in members:
        allowed = ", ".join(repr(str(value)) for value in members)
        raise DecodeError(ErrorType.INVALID_VALUE, path,
                          f"must be one of {allowed} (got {show(raw)})")


_GATEWAY_NOT_REQUIRED = frozenset({
    CommandType.GLOBAL_OPT_OUT_SET, CommandType.GLOBAL_OPT_OUT_CLEAR, CommandType.NUMBER_CHANGED})
# Fields that belong to one command type: (field, its type, whether that type requires it).
COMMAND_TYPE_FIELDS = (
    ("import_status", CommandType.IMPORT, True),
    ("new_phone", CommandType.NUMBER_CHANGED, False),
    ("until", CommandType.EXPIRE_WINDOW, True),
)


def check_command(values: Mapping[str, object]) -> None:
    """The command's cross-field rules (the schema's if/then): which fields a type needs or
    forbids. ``values`` maps field names to decoded values (absent: None)."""
    kind = values["type"]
    if values.get("gateway") is None and kind not in _GATEWAY_NOT_REQUIRED:
        raise DecodeError(ErrorType.MISSING_FIELD, "gateway", f"required for type {show(kind)}")
    for name, owner, required in COMMAND_TYPE_FIELDS:
        present = values.get(name) is not None
        if required and kind is owner and not present:
            raise DecodeError(ErrorType.MISSING_FIELD, name, f"required for type {show(owner)}")
        if present and kind is not owner:
            raise DecodeError(ErrorType.INVALID_VALUE, name,
                              f"only allowed for type {show(owner)} (type is {show(kind)})")


# The slow path ----------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class Reading:
    """How a record's phones and keywords are read: as an upstream sent them (``normalise``:
    phones to E.164 in ``region``, keywords folded, the command's rules), or as we stored them
    (E.164 phones, keywords as they are)."""

    normalise: bool
    region: str | None = None


_STORED = Reading(normalise=False)
# Input records (and the requests held in consent state, which are send requests): fields they
# do not know are ignored, and an optional field may be absent or null. Every other record is
# closed and writes every field. Filled in by processor.codec.records.
OPEN_RECORDS: set[type[Any]] = set()


def read_record(obj: dict[str, Any], cls: type[msgspec.Struct], reading: Reading,
                prefix: str = "") -> msgspec.Struct:
    """The record of type ``cls`` in ``obj``, or the DecodeError of its first problem."""
    info = _struct_info(cls)
    is_open = cls in OPEN_RECORDS
    version = 1
    if info.tag_field is not None:
        version = _check_version(obj.get(info.tag_field, _ABSENT), prefix, info)
    values: dict[str, object] = {}
    for spec in info.fields:
        raw = obj.get(spec.encode_name, _ABSENT)
        path = prefix + spec.encode_name
        extra = _field_extra(spec.type)
        if extra.get("since", 1) > version:
            continue  # the record's version has no such field (an unknown one is refused below)
        # A field added within its version is missing from the records written before it.
        required = spec.required or not (is_open or extra.get("added"))
        if raw is None:
            # On an input record, null says "not given" like an absent field does.
            if required and not _nullable(spec.type):
                raise wrong_type(path, _expected(spec.type), raw)
            if required:
                values[spec.name] = None
        elif raw is _ABSENT:
            if required:
                raise DecodeError(ErrorType.MISSING_FIELD, path, "required field is missing")
        else:
            values[spec.name] = _read(raw, spec.type, path, reading, {})
    if not is_open:
        known = {spec.encode_name for spec in info.fields
                 if _field_extra(spec.type).get("since", 1) <= version} | (
            {info.tag_field} if info.tag_field else set())
        if len(obj) > len(values) + bool(info.tag_field):
            for name in obj:
                if name not in known:
                    raise DecodeError(ErrorType.UNKNOWN_FIELD, prefix + shorten(name),
                                      "unknown field (no other fields are allowed)")
    rule = RULES.get(cls)
    if rule is not None and reading.normalise:
        rule(values)
    return cls(**values)


RULES: dict[type[Any], Callable[[Mapping[str, object]], None]] = {}


@cache
def _struct_info(cls: type[msgspec.Struct]) -> mi.StructType:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return info


def _nullable(t: mi.Type) -> bool:
    t = _bare(t)
    return isinstance(t, mi.UnionType) and any(isinstance(u, mi.NoneType) for u in t.types)


def _bare(t: mi.Type) -> mi.Type:
    while isinstance(t, mi.Metadata):
        t = t.type
    return t


def _not_none(t: mi.Type) -> mi.Type:
    t = _bare(t)
    if isinstance(t, mi.UnionType):
        (t,) = [u for u in t.types if not isinstance(u, mi.NoneType)]
    return t


def _extra(t: mi.Type, extra: dict[str, Any]) -> tuple[mi.Type, dict[str, Any]]:
    """The type under its metadata, and the metadata's ``extra`` merged (outer wins)."""
    inner: dict[str, Any] = {}
    while isinstance(t, mi.Metadata):
        inner = {**(t.extra or {}), **inner}
        t = t.type
    if isinstance(t, mi.UnionType):
        return _extra(_not_none(t), {**inner, **extra}) if _nullable(t) else (t, extra)
    return t, {**inner, **extra}


def _expected(t: mi.Type) -> str:
    t, extra = _extra(t, {})
    if "wire" in extra or isinstance(t, mi.VarTupleType):
        return "an array"
    if isinstance(t, mi.StructType):
        return "an object"
    if isinstance(t, mi.IntType):
        return "an integer"
    if isinstance(t, mi.BoolType):
        return "a boolean"
    if isinstance(t, mi.BytesType):
        return "a base64 string"
    return "a string"


def _read(raw: object, t: mi.Type, path: str, reading: Reading, extra: dict[str, Any]) -> object:
    t, extra = _extra(t, extra)
    if "wire" in extra:
        return _headers(raw, path)
    if isinstance(t, mi.StrType):
        return _text(raw, t, path, reading, extra)
    if isinstance(t, mi.IntType):
        return _integer(raw, t, path)
    if isinstance(t, mi.BoolType):
        if type(raw) is not bool:
            raise wrong_type(path, "a boolean", raw)
        return raw
    if isinstance(t, mi.EnumType):
        if type(raw) is not str:
            raise wrong_type(path, "a string", raw)
        one_of(raw, extra.get("members", tuple(t.cls)), path)
        return t.cls(raw)
    if isinstance(t, mi.BytesType):
        return _base64(raw, path)
    if isinstance(t, mi.VarTupleType):
        if type(raw) is not list:
            raise wrong_type(path, "an array", raw)
        if t.max_length is not None and len(raw) > t.max_length:  # before reading the items
            raise DecodeError(ErrorType.INVALID_VALUE, path,
                              f"more than {t.max_length} items ({len(raw)})")
        return tuple(_read(item, t.item_type, f"{path}[{index}]", reading, {})
                     for index, item in enumerate(raw))
    if isinstance(t, mi.StructType):
        if type(raw) is not dict:
            raise wrong_type(path, "an object", raw)
        # A record inside a record (a held request) was normalised when it arrived.
        return read_record(raw, t.cls, _STORED, f"{path}.")
    if isinstance(t, mi.CustomType) and t.cls in (InputTime, Time):
        if type(raw) is not str:
            raise wrong_type(path, "a string", raw)
        return parse_time(raw, path, INPUT_TIME if t.cls is InputTime else OUTPUT_TIME)
    raise TypeError(f"{path}: no reading for {t!r}")  # a declaration this module does not know


def _text(raw: object, t: mi.StrType, path: str, reading: Reading,
          extra: dict[str, Any]) -> str:
    if type(raw) is not str:
        raise wrong_type(path, "a string", raw)
    phone = extra.get("phone")
    if phone == "input" and reading.normalise:
        return input_phone(raw, path, reading.region)
    if phone is not None:
        return e164_phone(raw, path)
    if not raw and t.min_length is None and t.pattern is None:
        return raw
    if not raw:
        raise DecodeError(ErrorType.INVALID_VALUE, path, "must not be empty")
    if t.max_length is not None and len(raw) > t.max_length:
        raise DecodeError(ErrorType.INVALID_VALUE, path,
                          f"longer than {t.max_length} characters ({len(raw)})")
    if t.pattern is not None and re.search(t.pattern, raw) is None:
        raise DecodeError(ErrorType.INVALID_VALUE, path, f"not {extra['what']} ({show(raw)})")
    if extra.get("def") == "keyword" and reading.normalise:
        return input_keyword(raw, path, t.max_length or 64)
    return raw


def _integer(raw: object, t: mi.IntType, path: str) -> int:
    if type(raw) is not int:
        if type(raw) is not float or not raw.is_integer():
            raise wrong_type(path, "an integer", raw)
        raw = int(raw)
    low, high = t.ge if t.ge is not None else -(2**63), t.le if t.le is not None else 2**64
    if not low <= raw <= high:
        raise DecodeError(ErrorType.INVALID_VALUE, path,
                          f"must be between {low} and {high} (got {raw})")
    return raw


def _base64(raw: object, path: str) -> bytes:
    if type(raw) is not str:
        raise wrong_type(path, "a base64 string", raw)
    if _BASE64.fullmatch(raw) is None:
        raise DecodeError(ErrorType.INVALID_VALUE, path, f"not base64 ({show(raw)})")
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error as exc:  # the pattern should have caught it; keep the promise anyway
        raise DecodeError(ErrorType.INVALID_VALUE, path, f"not base64 ({exc})") from exc


def _headers(raw: object, path: str) -> tuple[tuple[str, bytes], ...]:
    """Kafka headers: ``[{"key": str, "value": base64}]`` on the wire, (key, bytes) inside."""
    if type(raw) is not list:
        raise wrong_type(path, "an array", raw)
    return tuple(_header(item, f"{path}[{index}]") for index, item in enumerate(raw))


def _header(item: object, path: str) -> tuple[str, bytes]:
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
    return key, _base64(item["value"], f"{path}.value")


def _check_version(version: object, prefix: str, info: mi.StructType) -> int:
    """The record's version: one consent-gate reads, 1 up to the one it writes."""
    newest = info.tag if isinstance(info.tag, int) else SCHEMA_VERSION
    # Like JSON Schema's const, 1.0 equals 1 (and true does not).
    if isinstance(version, int | float) and type(version) is not bool and (
            version in range(1, newest + 1)):
        return int(version)
    path = f"{prefix}schema_version"
    if version is _ABSENT:
        raise DecodeError(ErrorType.MISSING_FIELD, path, "required field is missing")
    if type(version) not in (int, float):
        raise wrong_type(path, "an integer", version)
    supported = ", ".join(str(v) for v in range(1, newest + 1))
    raise DecodeError(ErrorType.UNSUPPORTED_SCHEMA_VERSION, path,
                      f"unsupported version {show(version)} (supported: {supported})")


def _field_extra(t: mi.Type) -> dict[str, Any]:
    """The ``extra`` of a field's own Meta (the outermost metadata)."""
    return (t.extra or {}) if isinstance(t, mi.Metadata) else {}
