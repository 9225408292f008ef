"""The JSON Schemas in ``schemas/`` as validators, for the validate command and the tests.

The worker never imports this module: it decodes with the codec's own checks. ``jsonschema``
is imported only here.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from referencing import Registry, Resource


def _schema_dir() -> Path:
    """``schemas/`` of a source checkout; in an installed package (the image), the copy the
    wheel ships as ``processor._schemas``."""
    package = Path(__file__).resolve().parents[1]
    source = package.parent / "schemas"
    return source if source.is_dir() else package / "_schemas"


SCHEMA_DIR = _schema_dir()

# RFC 3339 section 5.6 date-time (T/Z in either case), checked field by field below, written
# independently of the codec's parser so the two can disagree when one of them is wrong.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_rfc3339_date_time(value: object) -> bool:
    """The ``date-time`` format (jsonschema only checks it with an extra package installed)."""
    if not isinstance(value, str):
        return True
    match = _RFC3339.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second, offset_hour, offset_minute = (
        int(part) if part is not None else 0 for part in match.groups())
    if not 1 <= month <= 12:
        return False
    days_in_month = _DAYS_IN_MONTH[month - 1] + (month == 2 and calendar.isleap(year))
    return (1 <= day <= days_in_month
            and hour <= 23 and minute <= 59 and second <= 60  # 60: a leap second
            and offset_hour <= 23 and offset_minute <= 59)


def _ecma_pattern(validator: Any, pattern: str, instance: object,
                  schema: dict[str, Any]) -> Iterator[ValidationError]:
    # JSON Schema patterns are ECMA-262, where "$" is the end of the string; in Python's re it
    # also matches before a final newline, so "gw1\n" would pass "^[a-z0-9]+$".
    if isinstance(instance, str) and not _ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith(r"\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


_Validator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema document ``schemas/<name>.schema.json`` (``common`` holds shared $defs)."""
    schema: dict[str, Any] = orjson.loads((SCHEMA_DIR / f"{name}.schema.json").read_bytes())
    return schema


@cache
def registry() -> Registry[Any]:
    """Every schema in ``schemas/`` under its $id, so references between files resolve."""
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        contents = load_schema(path.name.removesuffix(".schema.json"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def format_checker() -> FormatChecker:
    """Asserts ``date-time`` (the only format the schemas use)."""
    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_rfc3339_date_time)
    return checker


@cache
def validator_for(record: str) -> Draft202012Validator:
    """A 2020-12 validator for one record's schema, with date-time format checking."""
    validator: Draft202012Validator = _Validator(
        load_schema(record), registry=registry(), format_checker=format_checker())
    return validator
