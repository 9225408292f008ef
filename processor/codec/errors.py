"""Why a record could not be decoded: an error type for machines and a reason for people."""

from __future__ import annotations

import orjson

from processor.domain.models.enums import ErrorType

__all__ = ["DecodeError", "ErrorType", "json_type", "shorten", "show", "wrong_type"]

# Offending values are quoted in reasons, cut to this many characters (a body can be 4 KiB).
_SHOWN_CHARS = 60


class DecodeError(ValueError):
    """A record that cannot become a domain record; ``str(exc)`` is the reason.

    ``field`` is the wire path of the offending field (``consent.status``, ``held[0].to``), or
    None when the record as a whole is wrong (not JSON, not an object).
    """

    def __init__(self, error_type: str, field: str | None, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.error_type = error_type
        self.field = field
        self.problem = problem


def shorten(text: str, limit: int = _SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show(value: object) -> str:
    """A JSON value quoted for a reason: ``'abc'``, ``12``, ``[1, 2]``, cut when long."""
    if isinstance(value, str):
        return repr(shorten(str(value)))  # str(): an enum member shows as its value
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return shorten(text)


_JSON_TYPES: dict[type, str] = {
    str: "string", bool: "boolean", int: "integer", float: "number", list: "array",
    dict: "object", type(None): "null",
}


def json_type(value: object) -> str:
    """The JSON type name of a decoded JSON value."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def wrong_type(path: str, expected: str, raw: object) -> DecodeError:
    """The error for a value of the wrong JSON type, quoting what came instead."""
    got = json_type(raw)
    if isinstance(raw, (str, int, float)):
        got = f"{got} {show(raw)}"
    return DecodeError(ErrorType.WRONG_TYPE, path, f"must be {expected}, got {got}")
