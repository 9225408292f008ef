"""`python -m processor validate <record> < file.jsonl`: check JSON Lines against the contract.

Every line is checked twice: by the record's JSON Schema (Draft 2020-12, date-time format
asserted) and by the codec the worker uses. A line either fails is reported as
``line N: <reason>``; when only one of the two rejects it, both verdicts are printed, because
the schema and the codec disagreeing is a bug. The two expected disagreements are not reported
as one: the schema cannot know whether a phone exists in its numbering plan (invalid_phone) or
how long a keyword is once normalised (invalid_keyword). National phone spellings are read with
the gateways' regions from ``--config`` (default: ``CG_GATEWAYS_FILE``). Exit status: 0 all
valid, 1 some invalid, 2 unknown record name or unusable configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any, BinaryIO, TextIO

import orjson
from jsonschema.exceptions import best_match

from processor.codec import RECORDS, DecodeError, ErrorType, RecordCodec
from processor.codec.errors import shorten
from processor.codec.fields import NO_REGIONS
from processor.codec.schemas import validator_for
from processor.domain.gateways.parsing import GatewayConfigError
from processor.settings import Settings, SettingsError, load_gateways


def run(args: argparse.Namespace) -> int:
    """Validates stdin as JSON Lines of ``args.record``; prints invalid lines to stdout."""
    try:
        gateways = load_gateways(args.config or Settings.from_env().gateways_file)
    except (GatewayConfigError, SettingsError) as exc:
        print(exc, file=sys.stderr)
        return 2
    return validate_lines(args.record, sys.stdin.buffer, sys.stdout, sys.stderr,
                          gateways.regions)


def validate_lines(record: str, lines: BinaryIO, out: TextIO, err: TextIO,
                   regions: Mapping[str, str] = NO_REGIONS) -> int:
    """The command's work, on any streams (the tests pass their own)."""
    codec = RECORDS.get(record)
    if codec is None:
        print(f"unknown record {record!r}; known records: {', '.join(RECORDS)}", file=err)
        return 2
    checked = invalid = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        checked += 1
        verdict = line_verdict(codec, line, regions)
        if verdict is not None:
            invalid += 1
            print(f"line {number}: {verdict}", file=out)
    print(f"{checked} lines, {invalid} invalid", file=err)
    return 1 if invalid else 0


def line_verdict(codec: RecordCodec[Any], line: bytes,
                 regions: Mapping[str, str] = NO_REGIONS) -> str | None:
    """None when schema and codec both accept ``line``; otherwise what to print for it."""
    codec_error = _codec_error(codec, line, regions)
    schema_error = _schema_error(codec.name, line)
    if codec_error is None and schema_error is None:
        return None
    if codec_error is None:
        return f"schema rejects, codec accepts (a bug): schema: {schema_error}"
    if schema_error is None and codec_error.error_type not in _BEYOND_THE_SCHEMA:
        return f"codec rejects, schema accepts (a bug): codec: {codec_error}"
    return str(codec_error)


_BEYOND_THE_SCHEMA = frozenset({ErrorType.INVALID_PHONE, ErrorType.INVALID_KEYWORD})


def _codec_error(codec: RecordCodec[Any], line: bytes,
                 regions: Mapping[str, str]) -> DecodeError | None:
    try:
        codec.decode(line, regions)
    except DecodeError as exc:
        return exc
    return None


def _schema_error(record: str, line: bytes) -> str | None:
    try:
        instance = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return f"not JSON ({exc})"
    error = best_match(validator_for(record).iter_errors(instance))
    if error is None:
        return None
    # Spelled like the codec's paths: held[0].to
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}"
                    for part in error.absolute_path).lstrip(".")
    message = shorten(error.message, 200)  # jsonschema quotes the whole offending instance
    return f"{where}: {message}" if where else message
