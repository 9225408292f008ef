"""The fields of a record as the wire names them: a read-only view of the Struct declarations
in :mod:`processor.domain.models`, for tools and tests (``RECORDS[name].shape.fields``)."""

from __future__ import annotations

import typing
from dataclasses import dataclass

import msgspec
from msgspec import inspect as mi

from processor.codec.checks import NO_REGIONS
from processor.domain.models.wire import BASE64_PATTERN

__all__ = ["BASE64_PATTERN", "NO_REGIONS", "E164Phone", "Field", "InputPhone", "Kind", "Shape",
           "kind_of"]


class Kind:
    """What a field holds, where a tool needs to know more than its type."""


class InputPhone(Kind):
    """A subscriber's phone as an upstream spelled it; decoded to E.164 in the gateway's
    region (numbering plan checked)."""


class E164Phone(Kind):
    """A phone on a record we wrote: E.164."""


class Value(Kind):
    """Any other field."""


@dataclass(frozen=True, slots=True)
class Field:
    """One property of a record: its wire name, the domain attribute and what it holds."""

    wire: str
    domain_name: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class Shape:
    fields: tuple[Field, ...]


def kind_of(cls: type[msgspec.Struct], name: str) -> Kind:
    """The kind of field ``name`` of ``cls``, from its declaration's metadata."""
    hint = typing.get_type_hints(cls, include_extras=True)[name]
    info = mi.type_info(hint)
    phone = None
    while True:
        if isinstance(info, mi.Metadata):
            phone = (info.extra or {}).get("phone", phone)
            info = info.type
        elif isinstance(info, mi.UnionType):
            info = next(t for t in info.types if not isinstance(t, mi.NoneType))
        else:
            break
    if phone == "input":
        return InputPhone()
    return E164Phone() if phone == "e164" else Value()
