"""The codec accepts exactly what the schemas accept, and round trips are lossless.

Both directions are checked with generated records:

* schema -> codec: input records generated from their JSON Schema decode (and re-encode to
  records the schema accepts);
* codec -> schema: domain records encode to records their schema accepts, and for every record
  type random edits of a valid record (a field set to a tricky value, deleted, or added) get
  the same verdict from schema and codec.

What the schema cannot express is said once, here: whether a phone exists in its country's
numbering plan (and, for a national spelling, which region to read it with), and whether an
input keyword stays within 64 characters once normalised (folding lengthens ``ß`` to ``SS``).
Generated records therefore get valid numbers in their phone fields, and the only
disagreements allowed are the codec rejecting such a field as ``invalid_phone`` or an input
keyword as ``invalid_keyword``.

hypothesis-jsonschema 0.23.1 cannot generate objects with the installed Hypothesis (it calls a
removed internal, ``many.more()``), so ``schema_records`` generates each property's value from
the property's schema with ``from_schema`` and assembles the object itself: every required
property, any optional ones, and unknown extra ones (inputs must ignore them); it keeps the
object only when the whole schema accepts it (the command's if/then rules).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import orjson
import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from referencing._core import Resolver

from processor.codec import (
    RECORDS,
    DecodeError,
    ErrorType,
    decode_consent_state,
    decode_input,
    decode_state_key,
    encode_consent_state,
    encode_key,
    encode_state_key,
    format_time,
    normalise_phone,
)
from processor.codec.fields import InputPhone
from processor.codec.phones import DIALABLE, DIALABLE_PATTERN
from processor.codec.records import GATEWAY_PATTERN, KEYWORD_PATTERN, TOPIC_PATTERN
from processor.codec.schemas import SCHEMA_DIR, load_schema, registry, validator_for
from processor.codec.times import INPUT_TIME, OUTPUT_TIME, parse_time
from processor.domain.classify.classifier import classify
from processor.domain.classify.keyword import canonical_keyword
from processor.domain.classify.keyword_sets import KeywordSet
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
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.outputs import (
    CommandResult,
    ConsentEvent,
    ConsentSnapshot,
    DeadLetter,
    Notice,
    OutboundMessage,
    SendResult,
)
from processor.domain.models.subscription import GLOBAL_GATEWAY, Subscription
from processor.topics import Topic
from tests.support.corpus import json_paths

INPUT_RECORDS = ("inbound", "send-request", "command")
OUTPUT_RECORDS = tuple(name for name in RECORDS if name not in INPUT_RECORDS)
GENERATED = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def schema_valid(record: str, instance: object) -> bool:
    return bool(validator_for(record).is_valid(instance))


def codec_error(record: str, obj: object, regions: dict[str, str]) -> DecodeError | None:
    """What the codec says about ``obj`` as wire bytes: None when it decodes."""
    try:
        RECORDS[record].decode(orjson.dumps(obj), regions)
    except DecodeError as error:
        return error
    return None


# Phones -------------------------------------------------------------------------------------

_NUMBER_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
# libphonenumber's example numbers: valid by construction, from every region it knows.
_EXAMPLE_NUMBERS: dict[str, list[phonenumbers.PhoneNumber]] = {
    region: numbers for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    if (numbers := [number for kind in _NUMBER_TYPES
                    if (number := phonenumbers.example_number_for_type(region, kind))])
}
REGIONS = sorted(_EXAMPLE_NUMBERS)
E164_NUMBERS = sorted({phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                       for numbers in _EXAMPLE_NUMBERS.values() for number in numbers})
_SPELLINGS = (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
              phonenumbers.PhoneNumberFormat.NATIONAL)


@st.composite
def spelled_phones(draw: st.DrawFn, region: str | None) -> tuple[str, str]:
    """(a valid number as an upstream might spell it, its E.164 form). National spellings only
    when the record's gateway has a region to read them with."""
    home = region if region is not None else draw(st.sampled_from(REGIONS))
    number = draw(st.sampled_from(_EXAMPLE_NUMBERS[home]))
    spelling = draw(st.sampled_from(_SPELLINGS if region is not None else _SPELLINGS[:2]))
    return (phonenumbers.format_number(number, spelling),
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# Records generated from the schemas ---------------------------------------------------------

def bundle(node: Any, resolver: Resolver[Any]) -> Any:
    """``node`` with every $ref replaced by its target, so from_schema needs no resolver."""
    if isinstance(node, list):
        return [bundle(item, resolver) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: bundle(value, resolver) for key, value in node.items()
           if key not in ("$ref", "$defs", "$schema", "$id", "$comment")}
    if "$ref" in node:
        target = resolver.lookup(node["$ref"])
        out["allOf"] = [bundle(target.contents, target.resolver)]
    return out


@cache
def property_values(record: str, name: str) -> st.SearchStrategy[Any]:
    schema = load_schema(record)
    resolver = registry().resolver(base_uri=schema["$id"])
    return from_schema(bundle(schema["properties"][name], resolver))


def _refers_to(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_refers_to(value, ref) for value in node.values())
    if isinstance(node, list):
        return any(_refers_to(item, ref) for item in node)
    return False


@cache
def input_phone_fields(record: str) -> frozenset[str]:
    """The properties the schema marks as subscriber phones (``$defs/input_phone``)."""
    return frozenset(name for name, sub in load_schema(record)["properties"].items()
                     if _refers_to(sub, "common.schema.json#/$defs/input_phone"))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6)


@st.composite
def schema_records(draw: st.DrawFn,
                   record: str) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(an input record the schema accepts, regions for its gateway, E.164 of its phones)."""
    schema = load_schema(record)
    obj: dict[str, Any] = {}
    for name in schema["properties"]:
        if name in schema["required"] or draw(st.booleans()):
            obj[name] = draw(property_values(record, name))
    obj.update(draw(st.dictionaries(
        st.text(max_size=12).filter(lambda key: key not in schema["properties"]), JSON_VALUES,
        max_size=2)))
    gateway = obj.get("gateway")
    region = draw(st.sampled_from(REGIONS)) if isinstance(gateway, str) else None
    regions = {gateway: region} if isinstance(gateway, str) and region else {}
    phones = {}
    for name in input_phone_fields(record):
        if obj.get(name) is not None:
            obj[name], phones[name] = draw(spelled_phones(region))
    assume(schema_valid(record, obj))
    return obj, regions, phones


# Records built from the domain --------------------------------------------------------------

def instant_ms(text: str) -> int:
    """An independent reading of an RFC 3339 time: datetime, cut to the millisecond."""
    moment = datetime.fromisoformat(text.upper())
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


# Everything the output time spelling can write, and the narrower input range (see
# common.schema.json: the first and last calendar days are not accepted on input).
times = st.integers(instant_ms("0001-01-01T00:00:00Z"), instant_ms("9999-12-31T23:59:59.999Z"))
input_times = st.integers(instant_ms("0001-01-02T00:00:00Z"),
                          instant_ms("9999-12-30T23:59:59.999Z"))
ids = st.text(min_size=1, max_size=128)
persons = st.text(min_size=1, max_size=256)
details = st.text(min_size=1, max_size=1024)
bodies = st.text(min_size=1, max_size=4096)
phones = st.sampled_from(E164_NUMBERS)
gateways = st.from_regex(GATEWAY_PATTERN, fullmatch=True).filter(lambda text: len(text) <= 64)
subscription_gateways = gateways | st.just(GLOBAL_GATEWAY)
keywords = st.from_regex(KEYWORD_PATTERN, fullmatch=True).filter(lambda text: len(text) <= 64)
# Input keywords arrive normalised in the domain (see the docstring), so the domain records
# that round-trip through an input codec hold normalised keywords.
input_keywords = keywords.map(canonical_keyword).filter(lambda text: len(text) <= 64)
versions = st.integers(0, 2**53 - 1)
NOTICE_KINDS = [kind for kind in ReplyKind if kind.startswith("notice_")]
REPLY_KINDS = [kind for kind in ReplyKind if kind not in NOTICE_KINDS]

inbound_messages = st.builds(
    InboundMessage, message_id=ids, phone=phones,
    to=st.from_regex(DIALABLE_PATTERN, fullmatch=True), gateway=gateways,
    body=st.text(max_size=4096), received_at=input_times,
    carrier=st.none() | st.text(max_size=128), provider=st.none() | st.text(max_size=128),
    media_count=st.none() | st.integers(0, 1000))
send_requests = st.builds(
    SendRequest, request_id=ids, phone=phones, gateway=gateways, body=bodies,
    kind=st.sampled_from(SendKind), requested_by=persons, created_at=input_times,
    campaign=st.none() | st.text(min_size=1, max_size=128), keyword=st.none() | input_keywords)
_GATEWAY_OPTIONAL = {CommandType.GLOBAL_OPT_OUT_SET, CommandType.GLOBAL_OPT_OUT_CLEAR,
                     CommandType.NUMBER_CHANGED}


@st.composite
def commands(draw: st.DrawFn) -> Command:
    kind = draw(st.sampled_from(CommandType))
    return Command(
        command_id=draw(ids), type=kind, phone=draw(phones), actor=draw(persons),
        created_at=draw(input_times),
        gateway=draw(st.none() | gateways if kind in _GATEWAY_OPTIONAL else gateways),
        keyword=draw(st.none() | input_keywords),
        permissions=tuple(draw(st.lists(st.text(min_size=1, max_size=128), max_size=3))),
        import_status=draw(st.sampled_from(ImportStatus)) if kind is CommandType.IMPORT else None,
        new_phone=draw(st.none() | phones) if kind is CommandType.NUMBER_CHANGED else None,
        reason=draw(st.none() | details),
        until=draw(input_times) if kind is CommandType.EXPIRE_WINDOW else None)


snapshots = st.builds(ConsentSnapshot, status=st.sampled_from(ConsentStatus),
                      source=st.sampled_from(ConsentSource), version=versions)
DOMAIN_RECORDS: dict[str, st.SearchStrategy[Any]] = {
    "inbound": inbound_messages,
    "send-request": send_requests,
    "command": commands(),
    "outbound": st.builds(
        OutboundMessage, message_id=ids, phone=phones, gateway=gateways, body=bodies,
        auto_reply=st.booleans(), consent=snapshots, decided_at=times,
        request_id=st.none() | ids, in_reply_to=st.none() | ids,
        reply_kind=st.none() | st.sampled_from(REPLY_KINDS)),
    "send-result": st.builds(
        SendResult, request_id=ids, phone=phones, gateway=gateways,
        status=st.sampled_from(SendStatus), consent=snapshots, decided_at=times,
        debug=st.none() | st.sampled_from(SendDebug), detail=st.none() | details,
        message_id=st.none() | ids),
    "consent-event": st.builds(
        ConsentEvent, event_id=ids, phone=phones, gateway=subscription_gateways,
        keyword=st.none() | keywords, previous_status=st.sampled_from(ConsentStatus),
        status=st.sampled_from(ConsentStatus), source=st.sampled_from(ConsentSource),
        detail=details, actor=st.none() | persons, cause_id=ids,
        version=st.integers(1, 2**53 - 1), occurred_at=times),
    "consent-state": st.builds(
        Subscription, phone=phones, gateway=subscription_gateways, keyword=st.none() | keywords,
        status=st.sampled_from(ConsentStatus), source=st.sampled_from(ConsentSource),
        detail=st.text(max_size=1024), actor=st.none() | persons, version=versions,
        updated_at=times, pending_until=st.none() | times, window_closed=st.booleans(),
        held=st.lists(send_requests, max_size=3).map(tuple), disclaimer_sent=st.booleans(),
        requested_by=st.none() | persons),
    "command-result": st.builds(
        CommandResult, command_id=ids, type=st.sampled_from(CommandType), phone=phones,
        result=st.sampled_from(CommandOutcome), decided_at=times,
        gateway=st.none() | subscription_gateways, keyword=st.none() | keywords,
        reason=st.none() | details, event_ids=st.lists(ids, max_size=3).map(tuple)),
    "notice": st.builds(
        Notice, notice_id=ids, recipient=persons, phone=phones, gateway=gateways,
        kind=st.sampled_from(NOTICE_KINDS), body=bodies, created_at=times,
        request_id=st.none() | ids),
    "dead-letter": st.builds(
        DeadLetter, reason=st.text(min_size=1, max_size=2048),
        error_type=st.sampled_from([error_type.value for error_type in ErrorType]),
        topic=st.from_regex(TOPIC_PATTERN, fullmatch=True).filter(lambda name: len(name) <= 249),
        partition=st.integers(0, 2**31 - 1), offset=st.integers(0, 2**63 - 1),
        key=st.none() | st.binary(), value=st.none() | st.binary(),
        headers=st.lists(st.tuples(st.text(), st.binary()), max_size=3).map(tuple),
        failed_at=times),
}


# Schema -> codec ----------------------------------------------------------------------------

def _wire_to_domain(record: str) -> dict[str, str]:
    return {spec.wire: spec.domain_name for spec in RECORDS[record].shape.fields}


@pytest.mark.parametrize("record", INPUT_RECORDS)
@GENERATED
@given(data=st.data())
def test_input_records_the_schema_accepts_decode(record: str, data: st.DataObject) -> None:
    obj, regions, expected_phones = data.draw(schema_records(record))
    codec = RECORDS[record]
    decoded = codec.decode(orjson.dumps(obj), regions)
    names = _wire_to_domain(record)
    for wire, e164 in expected_phones.items():
        assert getattr(decoded, names[wire]) == e164
    for wire in ("received_at", "created_at", "until"):
        if isinstance(obj.get(wire), str):
            assert getattr(decoded, names[wire]) == instant_ms(obj[wire])
    encoded = codec.encode(decoded)
    assert schema_valid(record, orjson.loads(encoded))
    assert codec.decode(encoded) == decoded


def test_the_schema_and_the_codec_agree_on_which_fields_are_subscriber_phones() -> None:
    for record in INPUT_RECORDS:
        codec_phones = {spec.wire for spec in RECORDS[record].shape.fields
                        if isinstance(spec.kind, InputPhone)}
        assert codec_phones == input_phone_fields(record)


# Mutations of valid input records: both reject, the codec with the right error type ---------

# A null field gets `true`: no input field is boolean, and an array like [12345] would make
# the item (e.g. permissions[0]), not the field, the thing that is wrong.
_WRONG_TYPE = {str: 12345, int: "12345", float: "12345", bool: "true", list: "x", dict: "x",
               type(None): True}


@st.composite
def mutated_inputs(draw: st.DrawFn, record: str) -> tuple[bytes, dict[str, str], str, str | None]:
    """(bytes, regions, the error type the codec must report, the field it must name)."""
    obj, regions, _ = draw(schema_records(record))
    schema = load_schema(record)
    mutation = draw(st.sampled_from(
        ["drop", "wrong_type", "bad_phone", "bad_time", "version", "not_utf8", "not_json"]))
    if mutation == "drop":
        field = draw(st.sampled_from(schema["required"]))
        del obj[field]
        return orjson.dumps(obj), regions, ErrorType.MISSING_FIELD, field
    if mutation == "wrong_type":
        field = draw(st.sampled_from(sorted(set(schema["properties"]) & set(obj))))
        obj[field] = _WRONG_TYPE[type(obj[field])]
        return orjson.dumps(obj), regions, ErrorType.WRONG_TYPE, field
    if mutation == "bad_phone":
        field = draw(st.sampled_from(sorted(input_phone_fields(record) & set(obj))))
        obj[field] = draw(st.sampled_from(["", "not a phone", "+1 800 FLOWERS", "++1201555"]))
        return orjson.dumps(obj), regions, ErrorType.INVALID_PHONE, field
    if mutation == "bad_time":
        field = "received_at" if record == "inbound" else "created_at"
        obj[field] = draw(st.sampled_from(
            ["2026-01-01 10:00", "2026-01-01T10:00:00", "2026-02-30T10:00:00Z",
             "2026-01-01T10:00:60Z", "1767261600000", "2026-01-01T10:00:00.1234567890Z"]))
        return orjson.dumps(obj), regions, ErrorType.INVALID_TIME, field
    if mutation == "version":
        obj["schema_version"] = draw(st.sampled_from([0, 2, 7, 1.5, -1]))
        return (orjson.dumps(obj), regions, ErrorType.UNSUPPORTED_SCHEMA_VERSION,
                "schema_version")
    if mutation == "not_utf8":
        return (orjson.dumps(obj)[:-1] + b',"note":"caf\xe9"}', regions, ErrorType.NOT_UTF8,
                None)
    return orjson.dumps(obj)[:-1], regions, ErrorType.NOT_JSON, None


@pytest.mark.parametrize("record", INPUT_RECORDS)
@GENERATED
@given(data=st.data())
def test_mutated_input_records_are_rejected_by_both(record: str, data: st.DataObject) -> None:
    value, regions, error_type, field = data.draw(mutated_inputs(record))
    with pytest.raises(DecodeError) as caught:
        RECORDS[record].decode(value, regions)
    assert caught.value.error_type == error_type
    assert caught.value.field == field
    try:
        instance = orjson.loads(value)
    except orjson.JSONDecodeError:
        return
    assert not schema_valid(record, instance)


# Codec -> schema ----------------------------------------------------------------------------

@pytest.mark.parametrize("record", RECORDS)
@GENERATED
@given(data=st.data())
def test_round_trips_are_lossless_and_encoded_records_satisfy_the_schema(
        record: str, data: st.DataObject) -> None:
    original = data.draw(DOMAIN_RECORDS[record])
    codec = RECORDS[record]
    encoded = codec.encode(original)
    assert schema_valid(record, orjson.loads(encoded))
    assert codec.decode(encoded) == original


_TIMEISH = st.from_regex(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(\.[0-9]{1,10})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?", fullmatch=True)
_ENUM_VALUES = sorted({member.value for enum_type in (
    ConsentStatus, ConsentSource, CommandType, ImportStatus, ReplyKind, SendKind, SendStatus,
    SendDebug, CommandOutcome, ErrorType) for member in enum_type})
TRICKY_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1),
    st.sampled_from([0, 1, -1, 1.0, 1.5, -0.0, 1e300, 1000, 1001, 2**31, 2**53 - 1, 2**53]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12), st.sampled_from(_ENUM_VALUES), _TIMEISH,
    st.sampled_from(["", " ", "*", "|", "a|b", "gw1\n", "-gw", "+12015550123", "+1555",
                     "2015550123", "+12015550123\n", "12345", "QQ==", "QQ=", "QR==", "@@@@"]),
    st.sampled_from(E164_NUMBERS), st.from_regex(r"\+?[0-9 ().-]{0,18}", fullmatch=True),
    st.integers(0, 4100).map(lambda length: "x" * length),
    st.lists(st.text(max_size=4), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(-5, 5), max_size=2))


def _containers(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        yield path
    children: Any = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, child in children:
        yield from _containers(child, (*path, key))


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


@st.composite
def edited_records(draw: st.DrawFn, record: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A valid record of ``record`` with one random edit, and the regions to decode it with."""
    if record in INPUT_RECORDS:
        obj, regions, _ = draw(schema_records(record))
    else:
        obj, regions = orjson.loads(RECORDS[record].encode(draw(DOMAIN_RECORDS[record]))), {}
    obj = copy.deepcopy(obj)
    action = draw(st.sampled_from(["set", "set", "delete", "add"]))
    if action == "add":
        container = _at(obj, draw(st.sampled_from(list(_containers(obj)))))
        known = sorted({spec.wire for codec in RECORDS.values() for spec in codec.shape.fields})
        container[draw(st.sampled_from(known) | st.text(max_size=8))] = draw(TRICKY_VALUES)
    else:
        path = draw(st.sampled_from(list(json_paths(obj))))
        parent = _at(obj, path[:-1])
        if action == "set":
            parent[path[-1]] = draw(TRICKY_VALUES)
        else:
            del parent[path[-1]]
    return obj, regions


@pytest.mark.parametrize("record", RECORDS)
@settings(GENERATED, max_examples=150)
@given(data=st.data())
def test_schema_and_codec_agree_on_edited_records(record: str, data: st.DataObject) -> None:
    obj, regions = data.draw(edited_records(record))
    error = codec_error(record, obj, regions)
    if error is None or not schema_valid(record, obj):
        assert (error is None) == schema_valid(record, obj)
        return
    # Only the numbering plan (or a missing region) and normalised keyword length are beyond
    # the schema.
    if error.error_type == ErrorType.INVALID_KEYWORD:
        assert error.field == "keyword"
        assert len(canonical_keyword(obj["keyword"])) > 64
        return
    assert error.error_type == ErrorType.INVALID_PHONE, str(error)
    assert error.field in input_phone_fields(record)
    assert DIALABLE.fullmatch(obj[error.field])


# Specific promises --------------------------------------------------------------------------

_STOP = orjson.dumps({
    "schema_version": 1, "message_id": "m1", "from": "+12015550123", "to": "12345",
    "gateway": "acme-us", "body": "STOP", "received_at": "2026-11-24T22:48:01.403Z"})


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-24T22:48:01.403Z", "2026-11-24T22:48:01.403Z"),
    ("2026-11-24T22:48:01Z", "2026-11-24T22:48:01.000Z"),
    ("2026-11-24t22:48:01.4z", "2026-11-24T22:48:01.400Z"),
    ("2026-11-24T17:48:01.403999999-05:00", "2026-11-24T22:48:01.403Z"),  # cut, not rounded
    ("2026-11-25T04:18:01.403+05:30", "2026-11-24T22:48:01.403Z"),
    ("2026-11-24T22:48:01.403-00:00", "2026-11-24T22:48:01.403Z"),
    ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
    ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"),
])
def test_input_times_are_read_at_millisecond_precision_and_written_in_utc(
        text: str, expected: str) -> None:
    assert format_time(parse_time(text, "t", INPUT_TIME)) == expected


@pytest.mark.parametrize("text", [
    "2026-01-01 10:00", "2026-01-01T10:00:00", "2026-01-01T10:00Z", "2025-02-29T00:00:00Z",
    "2026-01-01T24:00:00Z", "2026-01-01T10:00:60Z", "2026-01-01T10:00:00+24:00",
    "2026-01-01T10:00:00.Z", "2026-01-01T10:00:00.0000000001Z", "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "2026-1-01T10:00:00Z",
])
def test_times_without_offset_or_outside_the_contract_are_rejected(text: str) -> None:
    record = orjson.loads(_STOP)
    record["received_at"] = text
    with pytest.raises(DecodeError) as caught:
        RECORDS["inbound"].decode(orjson.dumps(record))
    assert caught.value.error_type == ErrorType.INVALID_TIME
    assert str(caught.value).startswith("received_at: ")
    assert not schema_valid("inbound", record)


@GENERATED
@given(times)
def test_every_instant_has_one_output_spelling(ms: int) -> None:
    text = format_time(ms)
    assert parse_time(text, "t", OUTPUT_TIME) == ms
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    assert text == moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_national_numbers_need_the_gateways_region() -> None:
    national = orjson.loads(_STOP) | {"from": "(201) 555-0123"}
    value = orjson.dumps(national)
    assert RECORDS["inbound"].decode(value, {"acme-us": "US"}).phone == "+12015550123"
    with pytest.raises(DecodeError) as caught:
        RECORDS["inbound"].decode(value, {"other": "US"})
    assert caught.value.error_type == ErrorType.INVALID_PHONE
    assert "needs a region" in str(caught.value)
    assert normalise_phone("+12015550123", "GB") == "+12015550123"
    assert normalise_phone("07400 123456", "GB") == "+447400123456"
    assert normalise_phone("+15555550123", None) is None  # well-formed, not in the plan


def test_a_trailing_newline_does_not_slip_past_a_pattern() -> None:
    record = orjson.loads(_STOP) | {"gateway": "acme-us\n"}
    assert not schema_valid("inbound", record)
    with pytest.raises(DecodeError):
        RECORDS["inbound"].decode(orjson.dumps(record))


def test_decode_input_picks_the_record_by_topic() -> None:
    assert isinstance(decode_input(Topic.INBOUND, _STOP), InboundMessage)
    with pytest.raises(DecodeError) as caught:
        decode_input(Topic.OUTBOUND, _STOP)
    assert caught.value.error_type == ErrorType.UNKNOWN_TOPIC
    with pytest.raises(DecodeError) as caught:
        decode_input(Topic.COMMANDS, None)
    assert caught.value.error_type == ErrorType.NO_VALUE


def test_every_record_has_a_topic_and_every_topic_a_record() -> None:
    assert {codec.topic for codec in RECORDS.values()} == set(Topic)


@GENERATED
@given(DOMAIN_RECORDS["consent-state"])
def test_consent_state_keys_and_tombstones(subscription: Subscription) -> None:
    key = encode_state_key(subscription.phone, subscription.gateway, subscription.keyword)
    assert decode_state_key(key) == (subscription.phone, subscription.gateway,
                                     subscription.keyword)
    assert decode_consent_state(encode_consent_state(subscription)) == subscription
    assert decode_consent_state(None) is None
    assert encode_key(subscription.phone) == subscription.phone.encode()


def test_a_malformed_state_key_is_a_decode_error() -> None:
    with pytest.raises(DecodeError) as caught:
        decode_state_key(b"+12015550123|acme-us")
    assert caught.value.field == "key"


# Exhaustive checks where random values rarely land: bounds and the command's if/then rules ---

def _bounds(node: Any) -> set[int]:
    """Every length or range bound anywhere in a (bundled) schema."""
    found: set[int] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("minLength", "maxLength", "minimum", "maximum") and isinstance(value, int):
                found.add(value)
            found |= _bounds(value)
    elif isinstance(node, list):
        for item in node:
            found |= _bounds(item)
    return found


def _boundary_values(bounds: set[int]) -> list[object]:
    near = sorted({bound + step for bound in bounds for step in (-1, 0, 1)})
    strings = [char * length for char in "x1" for length in near if 0 <= length <= 5000]
    return [*strings, *near, *(float(number) for number in near if abs(number) < 2**53)]


def _example(record: str) -> dict[str, Any]:
    path = min((SCHEMA_DIR / "examples" / record).glob("valid-*.json"))
    return dict(orjson.loads(path.read_bytes()))


# The gateways the examples use, with the region for their national phone spellings.
EXAMPLE_REGIONS = {"acme-us": "US", "acme-uk": "GB"}


def _verdicts_agree(record: str, obj: dict[str, Any]) -> None:
    error = codec_error(record, obj, EXAMPLE_REGIONS)
    if error is not None and error.error_type in {ErrorType.INVALID_PHONE,
                                                  ErrorType.INVALID_KEYWORD}:
        return  # the numbering plan and normalised keyword length are beyond the schema
    assert (error is None) == schema_valid(record, obj), (str(error), obj)


@pytest.mark.parametrize("record", RECORDS)
def test_schema_and_codec_agree_at_every_length_and_range_bound(record: str) -> None:
    schema = load_schema(record)
    base = _example(record)
    values = _boundary_values(_bounds(bundle(schema, registry().resolver(
        base_uri=schema["$id"]))))
    for path in list(json_paths(base)):
        for value in values:
            obj = copy.deepcopy(base)
            _at(obj, path[:-1])[path[-1]] = value
            _verdicts_agree(record, obj)


@pytest.mark.parametrize("kind", CommandType)
def test_schema_and_codec_agree_on_which_fields_each_command_type_needs(
        kind: CommandType) -> None:
    conditional = {"gateway": "acme-us", "import_status": "Active",
                   "new_phone": "+12015550124", "until": "2026-11-25T22:58:00.020Z"}
    base = {"schema_version": 1, "command_id": "c1", "type": kind.value,
            "phone": "+12015550123", "actor": "ops", "created_at": "2026-11-24T22:55:00Z"}
    for present in range(2 ** len(conditional)):
        obj = base | {name: value for bit, (name, value) in enumerate(conditional.items())
                      if present >> bit & 1}
        _verdicts_agree("command", obj)


@pytest.mark.parametrize(("sent", "scope"), [
    ("volunteer", "VOLUNTEER"), ("Volunteer", "VOLUNTEER"), ("niños  2026", "NINOS 2026")])
def test_input_keywords_name_the_scope_the_classifier_names(sent: str, scope: str) -> None:
    request = _example("send-request") | {"keyword": sent}
    decoded = RECORDS["send-request"].decode(orjson.dumps(request), EXAMPLE_REGIONS)
    assert decoded.keyword == scope
    texted = classify(sent, KeywordSet.build(campaign=[sent]))
    assert texted.scope == scope
