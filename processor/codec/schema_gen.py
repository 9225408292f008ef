"""``schemas/*.schema.json``, generated from the record Structs (``python -m processor schemas``).

The Structs in :mod:`processor.domain.models` are the one definition of each record. This module
writes them as JSON Schema 2020-12 in the layout consumers know: one file per record, shared
types under ``common.schema.json#/$defs`` (a field type whose ``Meta.extra`` names a ``def``, a
time type, an enum or a nested Struct used by more than one record), descriptions from each
field's ``Meta`` and each type's docstring. msgspec writes the leaf types
(``msgspec.json.schema_components``); their Python patterns get back their ECMA-262 spelling.

What the Structs cannot say is written from the codec's own rules: a command's cross-field
rules (``allOf`` if/then/else from :data:`processor.codec.checks.COMMAND_TYPE_FIELDS`), and
that a request held in consent state is a send request whose phone is already E.164.
``tests/contract/test_schema_generation.py`` checks that the committed files are exactly what
this module writes.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import re
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
from msgspec import inspect as mi

from processor.codec.checks import _GATEWAY_NOT_REQUIRED, COMMAND_TYPE_FIELDS
from processor.codec.records import INPUT_RECORDS, RECORDS, field_extra, versions
from processor.domain.models.inputs import Command
from processor.domain.models.wire import (
    INPUT_TIME_PATTERN,
    OUTPUT_TIME_PATTERN,
    SCHEMA_VERSION,
    InputTime,
    Time,
)

BASE = "https://consent-gate.example/schemas/"
COMMON = "common.schema.json#/$defs/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
_OPEN = ("Input record: fields not listed here are accepted and ignored (additionalProperties: "
         "true), so producers can add fields before consent-gate knows them.")
_CLOSED = ("Output record: consent-gate writes every property (null where there is no value) "
           "and nothing else (additionalProperties: false).")
_VERSION = {
    "description": "Version of the record's contract. Additive changes keep 1; a breaking "
                   "change bumps it. Decoders reject versions they do not know.",
    "type": "integer", "const": SCHEMA_VERSION}
_TIMES = {InputTime: ("input_time", INPUT_TIME_PATTERN), Time: ("time", OUTPUT_TIME_PATTERN)}


def _doc(obj: object) -> str:
    """A class's own docstring as one line of text."""
    return " ".join(inspect.cleandoc(vars(obj).get("__doc__") or "").split())


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _ecma(schema: Any) -> Any:
    """msgspec's schema with Python's end anchor written the ECMA-262 way (see python_pattern)."""
    if isinstance(schema, dict):
        return {key: (value[:-2] + "$" if key == "pattern" and value.endswith(r"\Z")
                      else _ecma(value)) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_ecma(item) for item in schema]
    return schema


class _Writer:
    """Collects the shared definitions while it writes the records."""

    def __init__(self, shared_enums: set[type[enum.Enum]],
                 shared_structs: set[type[msgspec.Struct]]) -> None:
        self.defs: dict[str, Any] = {"schema_version": _VERSION}
        self.shared_enums = shared_enums
        self.shared_structs = shared_structs

    def field(self, hint: Any, description: str | None, *, stored: bool = False) -> Any:
        """The schema of one property: a $ref to a shared definition or the type itself."""
        info = mi.type_info(hint)
        nullable = False
        extra: dict[str, Any] = {}
        while True:
            if isinstance(info, mi.Metadata):
                extra = {**(info.extra or {}), **extra}
                info = info.type
            elif isinstance(info, mi.UnionType):
                nullable = any(isinstance(t, mi.NoneType) for t in info.types)
                (info,) = [t for t in info.types if not isinstance(t, mi.NoneType)]
            else:
                break
        if stored and extra.get("phone") == "input":
            extra = {"def": "e164"}  # normalised on the way in
        schema = self.type_schema(_not_null(hint), info, extra)
        if nullable:
            schema = self.nullable(schema)
        return {**schema, "description": description} if description else schema

    def nullable(self, schema: dict[str, Any]) -> dict[str, Any]:
        if {"type": "null"} in schema.get("anyOf", ()):
            return schema  # already nullable
        if "enum" in schema:
            return {**schema, "enum": [*schema["enum"], None]}
        if "$ref" in schema:
            return {"anyOf": [schema, {"type": "null"}]}
        return {**schema, "type": [schema["type"], "null"]}

    def type_schema(self, hint: Any, info: mi.Type, extra: dict[str, Any]) -> dict[str, Any]:
        if "wire" in extra:  # Kafka headers: objects on the wire
            return {"type": "array", "items": self.struct(extra["wire"], ref=False)}
        name = extra.get("def")
        if name is not None:
            if name not in self.defs:
                self.defs[name] = self.leaf(_bare_alias(hint), info, extra, shared=True)
            return {"$ref": COMMON + name}
        if isinstance(info, mi.EnumType) and info.cls in self.shared_enums:
            name = _snake(info.cls.__name__)
            if name not in self.defs:
                self.defs[name] = self.leaf(hint, info, extra, shared=True)
            return {"$ref": COMMON + name}
        if isinstance(info, mi.CustomType) and info.cls in _TIMES:
            name, pattern = _TIMES[info.cls]
            if name not in self.defs:
                self.defs[name] = {"description": _doc(info.cls), "type": "string",
                                   "format": "date-time", "pattern": pattern}
            return {"$ref": COMMON + name}
        if isinstance(info, mi.StructType):
            if info.cls in RECORD_CLASSES:  # a record inside a record: a held send request
                return {"allOf": [{"$ref": f"{RECORD_CLASSES[info.cls]}.schema.json"}],
                        "properties": {
                            wire: self.field(hint, f"As on {RECORD_CLASSES[info.cls]}, already "
                                             "normalised to E.164 when it arrived.", stored=True)
                            for wire, hint in _phone_fields(info.cls)}}
            if info.cls in self.shared_structs:
                name = _snake(info.cls.__name__)
                if name not in self.defs:
                    self.defs[name] = {"description": _doc(info.cls),
                                       **self.struct(info.cls, ref=False)}
                return {"$ref": COMMON + name}
            return self.struct(info.cls, ref=False)
        if isinstance(info, mi.VarTupleType):
            bare = _bare_alias(hint)
            while typing.get_origin(bare) is typing.Annotated:  # the list's own constraints
                bare = typing.get_args(bare)[0]
            array: dict[str, Any] = {"type": "array",
                                     "items": self.field(typing.get_args(bare)[0], None)}
            if info.min_length is not None:
                array["minItems"] = info.min_length
            if info.max_length is not None:
                array["maxItems"] = info.max_length
            return array
        return self.leaf(hint, info, extra, shared=False)

    def leaf(self, hint: Any, info: mi.Type, extra: dict[str, Any], *,
             shared: bool) -> dict[str, Any]:
        if isinstance(info, mi.EnumType):
            members = extra.get("members", tuple(info.cls))
            schema: dict[str, Any] = {"enum": [member.value for member in members]}
            description = (_type_description(hint) if "members" in extra
                           else _doc(info.cls) or None)
        else:
            (schema,), _ = msgspec.json.schema_components([_bare_alias(hint)])
            schema = _ecma(schema)
            description = schema.pop("description", None)
        if shared and description:
            return {"description": description, **schema}
        return schema

    def struct(self, cls: type[msgspec.Struct], *, ref: bool) -> dict[str, Any]:
        """A closed object of ``cls``'s fields (snapshot, header)."""
        hints = typing.get_type_hints(cls, include_extras=True)
        properties = {wire: self.field(hints[name], _description(hints[name]))
                      for name, wire in _names(cls)}
        return {"type": "object", "additionalProperties": False,
                "required": list(properties), "properties": properties}


def _names(cls: type[msgspec.Struct]) -> Iterator[tuple[str, str]]:
    return zip(cls.__struct_fields__, cls.__struct_encode_fields__, strict=True)


def _phone_fields(cls: type[msgspec.Struct]) -> Iterator[tuple[str, Any]]:
    hints = typing.get_type_hints(cls, include_extras=True)
    for name, wire in _names(cls):
        if "input_phone" in repr(msgspec.inspect.type_info(hints[name])):
            yield wire, hints[name]


def _bare_alias(hint: Any) -> Any:
    """``hint`` without the field's own description (Python flattens nested Annotated, so the
    field's description-only Meta is the last of the type's metadata)."""
    if typing.get_origin(hint) is typing.Annotated:
        inner, *metas = typing.get_args(hint)
        while metas and isinstance(metas[-1], msgspec.Meta) and set(
                _meta_keys(metas[-1])) <= {"description"}:
            metas.pop()
        return typing.Annotated[(inner, *metas)] if metas else _bare_alias(inner)
    return hint


def _not_null(hint: Any) -> Any:
    """The non-null member of an optional field's type (without the field's description)."""
    hint = _bare_alias(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return hint


def _meta_keys(meta: msgspec.Meta) -> Iterator[str]:
    for key in ("gt", "ge", "lt", "le", "multiple_of", "pattern", "min_length", "max_length",
                "tz", "title", "description", "examples", "extra_json_schema", "extra"):
        if getattr(meta, key, None) is not None:
            yield key


def _description(hint: Any) -> str | None:
    """The field's description: the outermost Meta that has one."""
    if typing.get_origin(hint) is typing.Annotated:
        for meta in reversed(typing.get_args(hint)[1:]):
            if isinstance(meta, msgspec.Meta) and meta.description:
                return meta.description
    return None


def _type_description(hint: Any) -> str | None:
    """The description a type alias declares (not a field's)."""
    return _description(_bare_alias(hint))


RECORD_CLASSES: dict[type[Any], str] = {codec.struct: codec.name for codec in RECORDS.values()}


def _usage() -> tuple[set[type[enum.Enum]], set[type[msgspec.Struct]]]:
    """Enums and Structs used by more than one record: they go to common.schema.json."""
    users: dict[Any, set[str]] = {}

    def walk(info: mi.Type, record: str) -> None:
        if isinstance(info, mi.Metadata):
            walk(info.type, record)
        elif isinstance(info, mi.UnionType):
            for t in info.types:
                walk(t, record)
        elif isinstance(info, mi.VarTupleType):
            walk(info.item_type, record)
        elif isinstance(info, mi.EnumType):
            users.setdefault(info.cls, set()).add(record)
        elif (isinstance(info, mi.StructType) and info.cls not in RECORD_CLASSES) or (
                isinstance(info, mi.StructType) and RECORD_CLASSES[info.cls] == record):
            if info.cls not in RECORD_CLASSES:
                users.setdefault(info.cls, set()).add(record)
            for spec in info.fields:
                walk(spec.type, record)

    for codec in RECORDS.values():
        walk(mi.type_info(codec.struct), codec.name)
    shared = {cls for cls, records in users.items() if len(records) > 1}
    return ({cls for cls in shared if isinstance(cls, type) and issubclass(cls, enum.Enum)},
            {cls for cls in shared if isinstance(cls, type) and issubclass(cls, msgspec.Struct)})


def _command_rules() -> list[dict[str, Any]]:
    """The command's cross-field rules (checks.check_command) as if/then/else."""
    every = sorted(_GATEWAY_NOT_REQUIRED, key=list(type(next(iter(_GATEWAY_NOT_REQUIRED)))).index)
    rules: list[dict[str, Any]] = [{
        "$comment": "gateway is required unless the command concerns the phone on every "
                    "gateway.",
        "if": {"required": ["type"], "properties": {"type": {"enum": [t.value for t in every]}}},
        "else": {"required": ["gateway"], "properties": {"gateway": {"type": "string"}}}}]
    for name, owner, required in COMMAND_TYPE_FIELDS:
        rule: dict[str, Any] = {
            "$comment": f"{name} {'exactly' if required else 'only'} for {owner.value}.",
            "if": {"required": ["type"], "properties": {"type": {"const": owner.value}}}}
        if required:
            rule["then"] = {"required": [name], "properties": {name: {"type": "string"}}}
        rule["else"] = {"properties": {name: {"type": "null"}}}
        rules.append(rule)
    return rules


def generate() -> dict[str, dict[str, Any]]:
    """Every schema document, by file name stem (``inbound``, ..., ``common``)."""
    writer = _Writer(*_usage())
    documents: dict[str, dict[str, Any]] = {}
    for codec in RECORDS.values():
        cls = codec.struct
        hints = typing.get_type_hints(cls, include_extras=True)
        is_input = cls in INPUT_RECORDS
        version = versions(cls)[-1]
        properties: dict[str, Any] = {"schema_version": {
            "$ref": COMMON + "schema_version", "description": "Contract version; only 1 exists."}
            if version == SCHEMA_VERSION else {
            "description": f"Contract version: {version}. consent-gate also reads the earlier "
                           f"versions of this record (schemas/README.md, Versioning).",
            "type": "integer", "const": version}}
        required = ["schema_version"]
        for name, wire in _names(cls):
            hint = hints[name]
            properties[wire] = writer.field(hint, _description(hint))
            if is_input and name in ("permissions",):
                properties[wire] = {**properties[wire], "type": ["array", "null"]}
            elif is_input and cls.__struct_defaults__ and _has_default(cls, name):
                properties[wire] = _input_optional(writer, properties[wire])
            added = field_extra(hint).get("added", False)  # older records lack it
            if not added and (not is_input or not _has_default(cls, name)):
                required.append(wire)
        document: dict[str, Any] = {
            "$schema": DRAFT, "$id": f"{BASE}{codec.name}.schema.json", "title": codec.name,
            "description": _doc(cls), "type": "object",
            "$comment": _OPEN if is_input else _CLOSED,
            "additionalProperties": is_input, "required": required, "properties": properties}
        if cls is Command:
            document["allOf"] = _command_rules()
        documents[codec.name] = document
    documents["common"] = {
        "$schema": DRAFT, "$id": f"{BASE}common.schema.json",
        "title": "consent-gate: shared definitions",
        "description": "Types used by several consent-gate records. Not a record itself. See "
                       "schemas/README.md for the contract in prose.",
        "$defs": writer.defs}
    return documents


def _has_default(cls: type[msgspec.Struct], name: str) -> bool:
    index = cls.__struct_fields__.index(name)
    first_default = len(cls.__struct_fields__) - len(cls.__struct_defaults__)
    if index < first_default:
        return False
    return cls.__struct_defaults__[index - first_default] is not msgspec.NODEFAULT


def _input_optional(writer: _Writer, schema: dict[str, Any]) -> dict[str, Any]:
    """An optional input field may also be null (null means "not given")."""
    if "anyOf" in schema or (isinstance(schema.get("type"), list)) or (
            "enum" in schema and None in schema["enum"]):
        return schema
    description = schema.pop("description", None)
    schema = writer.nullable(schema)
    return {**schema, "description": description} if description else schema


def render(document: dict[str, Any]) -> str:
    """The committed spelling: two-space indentation, UTF-8, a final newline."""
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"


def run(args: argparse.Namespace) -> int:
    """``python -m processor schemas [--check]``."""
    from processor.codec.schemas import SCHEMA_DIR

    documents = generate()
    stale = [name for name, document in documents.items()
             if not (SCHEMA_DIR / f"{name}.schema.json").is_file()
             or (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
             != render(document)]
    if args.check:
        for name in stale:
            print(f"schemas/{name}.schema.json differs from the record Structs", file=sys.stderr)
        return 1 if stale else 0
    for path in write(SCHEMA_DIR):
        print(path.relative_to(SCHEMA_DIR.parent))
    return 0


def write(directory: Path) -> list[Path]:
    """Writes every schema under ``directory``; returns the paths written."""
    written = []
    for name, document in generate().items():
        path = directory / f"{name}.schema.json"
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written
