"""The schemas themselves: valid 2020-12, documented, in step with the domain, and their examples
validate (or fail) as their file names say, by the schema and by the codec alike.

Example files: ``schemas/examples/<record>/valid-<what>.json`` and
``invalid-<error_type>-<what>.json`` (the codec's error type for it).
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from processor.cli.validate import validate_lines
from processor.codec import RECORDS, DecodeError, ErrorType, fields, phones, records, times
from processor.codec.schemas import SCHEMA_DIR, load_schema, validator_for
from processor.domain.models.enums import (
    CommandOutcome,
    CommandType,
    ConsentSource,
    ConsentStatus,
    ImportStatus,
    ReplyKind,
    SendDebug,
    SendKind,
    SendStatus,
)

EXAMPLES = SCHEMA_DIR / "examples"
# The gateways the examples use, with the default region for their national phone spellings.
EXAMPLE_REGIONS = {"acme-us": "US", "acme-uk": "GB"}
INPUT_RECORDS = ("inbound", "send-request", "command")
SCHEMA_NAMES = sorted(path.name.removesuffix(".schema.json")
                      for path in SCHEMA_DIR.glob("*.schema.json"))


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*/*.json"))


def schema_accepts(record: str, data: bytes) -> bool:
    try:
        instance = orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return bool(validator_for(record).is_valid(instance))


def codec_error(record: str, data: bytes) -> DecodeError | None:
    try:
        RECORDS[record].decode(data, EXAMPLE_REGIONS)
    except DecodeError as exc:
        return exc
    return None


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_a_valid_2020_12_schema(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://consent-gate.example/schemas/{name}.schema.json"
    Draft202012Validator.check_schema(schema)


def test_there_is_one_schema_per_record_plus_the_shared_definitions() -> None:
    assert set(SCHEMA_NAMES) == {*RECORDS, "common"}
    assert {path.name for path in EXAMPLES.iterdir()} == set(RECORDS)


def _properties(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}.{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            yield from _properties(sub, f"{where}[{index}]")


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_property_and_definition_is_described(name: str) -> None:
    schema = load_schema(name)
    assert schema.get("description")
    undocumented = [where for where, sub in _properties(schema, name)
                    if "description" not in sub and not _is_if_clause(where)]
    undocumented += [f"$defs/{key}" for key, sub in schema.get("$defs", {}).items()
                     if "description" not in sub]
    assert not undocumented


def _is_if_clause(where: str) -> bool:
    # allOf's if/then/else restate properties only to constrain them; the record documents them.
    return any(part in where for part in ("/if", "/then", "/else"))


@pytest.mark.parametrize("name", RECORDS)
def test_inputs_accept_unknown_fields_and_outputs_write_exactly_their_fields(name: str) -> None:
    schema = load_schema(name)
    if name in INPUT_RECORDS:
        assert schema["additionalProperties"] is True
    else:
        assert schema["additionalProperties"] is False
        # Every field is written; only a field added within the version may be missing from
        # the records written before it.
        assert set(schema["required"]) == set(schema["properties"]) - added_fields(name)
    assert "schema_version" in schema["required"]


def added_fields(name: str) -> set[str]:
    """Wire names of the record's fields added within its version (older records lack them)."""
    struct = RECORDS[name].struct
    hints = typing.get_type_hints(struct, include_extras=True)
    return {wire for field, wire in zip(struct.__struct_fields__, struct.__struct_encode_fields__,
                                        strict=True)
            if records.field_extra(hints[field]).get("added")}


def test_fields_added_within_a_version_are_the_evidence_and_the_quiet_hours_hold() -> None:
    assert added_fields("consent-event") == {
        "message_id", "message_text", "gateway_number", "received_at", "command_id"}
    assert added_fields("consent-state") == {"held_until"}
    assert not any(added_fields(name) for name in RECORDS
                   if name not in {"consent-event", "consent-state"})


def _enum(schema: dict[str, Any], *path: str) -> list[object]:
    node: Any = schema
    for key in path:
        node = node[key]
    values: list[object] = node["enum"]
    return values


def _values(members: type[enum.StrEnum] | tuple[enum.StrEnum, ...]) -> list[object]:
    return [member.value for member in members]


def test_enums_in_the_schemas_are_the_domain_enums() -> None:
    common = load_schema("common")
    notice_kinds = tuple(kind for kind in ReplyKind if kind.startswith("notice_"))
    reply_kinds = tuple(kind for kind in ReplyKind if kind not in notice_kinds)
    assert _enum(common, "$defs", "consent_status") == _values(ConsentStatus)
    assert _enum(common, "$defs", "consent_source") == _values(ConsentSource)
    assert _enum(common, "$defs", "command_type") == _values(CommandType)
    assert _enum(common, "$defs", "reply_kind") == _values(reply_kinds)
    assert _enum(common, "$defs", "notice_kind") == _values(notice_kinds)
    assert _enum(load_schema("send-request"), "properties", "kind") == _values(SendKind)
    send_result = load_schema("send-result")
    assert _enum(send_result, "properties", "status") == _values(SendStatus)
    assert _enum(send_result, "properties", "debug") == [*_values(SendDebug), None]
    assert _enum(load_schema("command"), "properties", "import_status") == [
        *_values(ImportStatus), None]
    assert _enum(load_schema("command-result"), "properties", "result") == _values(
        CommandOutcome)
    assert _enum(load_schema("dead-letter"), "properties", "error_type") == _values(ErrorType)


def test_the_codec_uses_the_schemas_patterns() -> None:
    defs = load_schema("common")["$defs"]
    assert defs["dialable"]["pattern"] == phones.DIALABLE_PATTERN
    assert defs["e164"]["pattern"] == phones.E164_PATTERN
    assert defs["input_time"]["pattern"] == times.INPUT_TIME_PATTERN
    assert defs["time"]["pattern"] == times.OUTPUT_TIME_PATTERN
    assert defs["base64"]["pattern"] == fields.BASE64_PATTERN
    assert defs["gateway"]["pattern"] == records.GATEWAY_PATTERN
    assert defs["subscription_gateway"]["pattern"] == records.SUBSCRIPTION_GATEWAY_PATTERN
    assert defs["keyword"]["pattern"] == records.KEYWORD_PATTERN
    topic = load_schema("dead-letter")["properties"]["topic"]
    assert topic["pattern"] == records.TOPIC_PATTERN


@pytest.mark.parametrize("record", RECORDS)
def test_every_record_has_valid_and_invalid_examples(record: str) -> None:
    names = [path.name for path in (EXAMPLES / record).iterdir()]
    assert any(name.startswith("valid-") for name in names)
    assert any(name.startswith("invalid-") for name in names)
    assert all(name.startswith(("valid-", "invalid-")) for name in names)


def _example_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("path", example_files(), ids=_example_id)
def test_example_is_as_labelled(path: Path) -> None:
    record, data = path.parent.name, path.read_bytes()
    error = codec_error(record, data)
    if path.name.startswith("valid-"):
        assert error is None
        assert schema_accepts(record, data)
        return
    expected_type = path.stem.removeprefix("invalid-").split("-", 1)[0]
    assert expected_type in set(ErrorType)
    assert error is not None
    assert error.error_type == expected_type
    if schema_accepts(record, data):
        # The one thing the schema cannot see: a well-formed phone outside the numbering plan.
        assert error.error_type == ErrorType.INVALID_PHONE
        assert "not a valid phone number" in str(error)


@pytest.mark.parametrize("path", [path for path in example_files()
                                  if path.name.startswith("valid-")], ids=_example_id)
def test_valid_examples_survive_a_round_trip(path: Path) -> None:
    codec = RECORDS[path.parent.name]
    decoded = codec.decode(path.read_bytes(), EXAMPLE_REGIONS)
    encoded = codec.encode(decoded)
    assert codec.decode(encoded) == decoded
    if codec.name not in INPUT_RECORDS:  # outputs are already in their one canonical spelling
        example = orjson.loads(path.read_bytes())
        # ... but for a field added within the version, which an older record lacks (null).
        assert orjson.loads(encoded) == {
            **example, **dict.fromkeys(added_fields(codec.name) - set(example))}


def test_the_validate_command_prints_each_invalid_line_and_a_summary() -> None:
    valid = (EXAMPLES / "inbound" / "valid-stop.json").read_bytes().replace(b"\n", b" ")
    lines = BytesIO(b"\n".join([valid, b"", b"STOP", b'{"schema_version": 7}', valid]) + b"\n")
    out, err = StringIO(), StringIO()
    assert validate_lines("inbound", lines, out, err) == 1
    not_json, old_version = out.getvalue().splitlines()
    assert not_json.startswith("line 3: not JSON (")  # orjson's own words follow
    assert old_version == "line 4: schema_version: unsupported version 7 (supported: 1)"
    assert err.getvalue() == "4 lines, 2 invalid\n"


def test_the_validate_command_lists_the_records_it_knows() -> None:
    out, err = StringIO(), StringIO()
    assert validate_lines("inbound-message", BytesIO(b"{}\n"), out, err) == 2
    assert "known records: inbound, send-request, command" in err.getvalue()


def test_the_validate_command_reads_national_numbers_with_the_gateway_region() -> None:
    line = (b'{"schema_version":1,"message_id":"m1","from":"(202) 555-0143","to":"22395",'
            b'"gateway":"acme-main","body":"STOP","received_at":"2026-11-24T10:00:00Z"}\n')
    out, err = StringIO(), StringIO()
    assert validate_lines("inbound", BytesIO(line), out, err) == 1  # no region: unreadable
    assert "needs a region" in out.getvalue()
    out, err = StringIO(), StringIO()
    assert validate_lines("inbound", BytesIO(line), out, err, {"acme-main": "US"}) == 0
