"""Dead letters: the reason names the field and the problem, and building one never fails."""

from __future__ import annotations

import base64
import hashlib

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.codec import (
    DecodeError,
    ErrorType,
    dead_letter,
    decode_dead_letter,
    decode_input,
    encode_dead_letter,
)
from processor.codec.dead_letters import MAX_KEPT_VALUE
from processor.codec.schemas import validator_for
from processor.domain.models.outputs import DeadLetter
from processor.topics import INPUT_TOPICS, Topic

INBOUND = {"schema_version": 1, "message_id": "m1", "from": "+12015550123", "to": "12345",
           "gateway": "acme-us", "body": "STOP", "received_at": "2026-11-24T22:48:01.403Z"}
COMMAND = {"schema_version": 1, "command_id": "c1", "type": "manual_opt_out",
           "gateway": "acme-us", "phone": "+12015550123", "actor": "ops",
           "created_at": "2026-11-24T22:55:00Z"}
FAILED_AT = 1_795_992_481_403


def _inbound(**changes: object) -> bytes:
    return orjson.dumps({**INBOUND, **changes})


def _cut_note(value: bytes) -> str:
    """What the reason of a dead letter whose value is over 64 KiB ends with."""
    return (f" [value cut to its first {MAX_KEPT_VALUE} of {len(value)} bytes, sha256 "
            f"{hashlib.sha256(value).hexdigest()}]")


@pytest.mark.parametrize(("topic", "value", "error_type", "reason"), [
    (Topic.INBOUND, b"\xff{}", ErrorType.NOT_UTF8, "not UTF-8 (invalid start byte at byte 0)"),
    (Topic.INBOUND, b"STOP", ErrorType.NOT_JSON, "not JSON ("),
    (Topic.INBOUND, b"[1, 2]", ErrorType.NOT_OBJECT, "not a JSON object (got array)"),
    (Topic.INBOUND, None, ErrorType.NO_VALUE, "the record has no value (a tombstone)"),
    (Topic.OUTBOUND, _inbound(), ErrorType.UNKNOWN_TOPIC, "'sms.outbound' is not an input topic"),
    (Topic.INBOUND, _inbound(schema_version=7), ErrorType.UNSUPPORTED_SCHEMA_VERSION,
     "schema_version: unsupported version 7 (supported: 1)"),
    (Topic.INBOUND, orjson.dumps({k: v for k, v in INBOUND.items() if k != "gateway"}),
     ErrorType.MISSING_FIELD, "gateway: required field is missing"),
    (Topic.INBOUND, _inbound(body=None), ErrorType.WRONG_TYPE, "body: must be a string, got null"),
    (Topic.INBOUND, _inbound(media_count="2"), ErrorType.WRONG_TYPE,
     "media_count: must be an integer, got string '2'"),
    (Topic.INBOUND, _inbound(media_count=-1), ErrorType.INVALID_VALUE,
     "media_count: must be between 0 and 1000 (got -1)"),
    (Topic.INBOUND, _inbound(**{"from": "+1555"}), ErrorType.INVALID_PHONE,
     "from: not a valid phone number ('+1555')"),
    (Topic.INBOUND, _inbound(received_at="2026-01-01 10:00"), ErrorType.INVALID_TIME,
     "received_at: not an RFC 3339 time with offset ('2026-01-01 10:00')"),
    (Topic.INBOUND, _inbound(message_id=""), ErrorType.INVALID_VALUE,
     "message_id: must not be empty"),
    (Topic.INBOUND, _inbound(body="x" * 70000), ErrorType.INVALID_VALUE,
     "body: longer than 65536 characters (70000)"),
    (Topic.SEND_REQUESTS, orjson.dumps({
        "schema_version": 1, "request_id": "r1", "to": "+12015550123", "gateway": "acme-us",
        "body": "hi", "kind": "bulk", "requested_by": "dana",
        "created_at": "2026-11-24T22:50:00Z"}), ErrorType.INVALID_VALUE,
     "kind: must be one of 'one_to_one', 'campaign', 'transactional' (got 'bulk')"),
    (Topic.COMMANDS, orjson.dumps({k: v for k, v in COMMAND.items() if k != "gateway"}),
     ErrorType.MISSING_FIELD, "gateway: required for type 'manual_opt_out'"),
    (Topic.COMMANDS, orjson.dumps({**COMMAND, "type": "import"}), ErrorType.MISSING_FIELD,
     "import_status: required for type 'import'"),
    (Topic.COMMANDS, orjson.dumps({**COMMAND, "new_phone": "+12015550124"}),
     ErrorType.INVALID_VALUE,
     "new_phone: only allowed for type 'number_changed' (type is 'manual_opt_out')"),
    (Topic.COMMANDS, orjson.dumps({**COMMAND, "permissions": ["ok", 7]}), ErrorType.WRONG_TYPE,
     "permissions[1]: must be a string, got integer 7"),
])
def test_the_reason_names_the_field_and_the_problem(
        topic: Topic, value: bytes | None, error_type: ErrorType, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_input(topic, value)
    assert caught.value.error_type == error_type
    assert str(caught.value).startswith(reason)
    letter = _letter(caught.value, topic, value)
    cut = _cut_note(value) if value is not None and len(value) > MAX_KEPT_VALUE else ""
    assert (letter.error_type, letter.reason) == (error_type, str(caught.value) + cut)


def test_reasons_quote_long_values_cut_short() -> None:
    with pytest.raises(DecodeError) as caught:
        decode_input(Topic.INBOUND, _inbound(**{"from": "+" + "9" * 1000}))
    assert len(str(caught.value)) < 120
    assert str(caught.value).endswith("…')")


def _letter(exc: BaseException, topic: str, value: bytes | None,
            headers: list[tuple[str, bytes | None]] | None = None) -> DeadLetter:
    return dead_letter(exc, topic=topic, partition=3, offset=42, key=b"+12015550123",
                       value=value, headers=headers or [("trace", b"t-1")], failed_at=FAILED_AT)


def test_a_dead_letter_keeps_where_the_record_came_from_and_its_bytes() -> None:
    value = _inbound(**{"from": "+1555"})
    letter = dead_letter(DecodeError(ErrorType.INVALID_PHONE, "from", "not valid"),
                         topic="staging.sms.inbound", partition=3, offset=42,
                         key=bytearray(b"+1555"), value=value,
                         headers=[("trace", b"t-1"), ("empty", None)], failed_at=FAILED_AT)
    assert (letter.topic, letter.partition, letter.offset) == ("staging.sms.inbound", 3, 42)
    assert (letter.key, letter.value) == (b"+1555", value)
    assert letter.headers == (("trace", b"t-1"), ("empty", b""))
    wire = orjson.loads(encode_dead_letter(letter))
    assert base64.b64decode(wire["value"]) == value
    assert validator_for("dead-letter").is_valid(wire)


def test_an_unexpected_exception_is_an_internal_error_with_its_repr() -> None:
    letter = dead_letter(KeyError("phone"), topic="sms.commands", partition=0, offset=1,
                         key=None, value=None, headers=None, failed_at=FAILED_AT)
    assert letter.error_type == ErrorType.INTERNAL
    assert letter.reason == "internal error: KeyError('phone')"


class _UnprintableError(Exception):
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_dead_letter_never_raises_even_for_broken_inputs() -> None:
    letter = dead_letter(_UnprintableError(), topic="sms.inbound", partition=1, offset=2,
                         key=b"k", value=b"v", headers=[("h", b"x")], failed_at=FAILED_AT)
    assert letter.error_type == ErrorType.INTERNAL
    assert letter.reason.startswith("internal error: the failure could not be recorded")
    assert (letter.topic, letter.partition, letter.offset) == ("sms.inbound", 1, 2)
    broken = dead_letter(DecodeError(ErrorType.NOT_JSON, None, "not JSON"), topic="sms.inbound",
                         partition=1, offset=2, key=b"k", value=b"v",
                         headers=[("h", object())],  # type: ignore[list-item]
                         failed_at=FAILED_AT)
    assert broken.error_type == ErrorType.INTERNAL


@settings(max_examples=300, deadline=None)
@given(topic=st.sampled_from([*INPUT_TOPICS, Topic.OUTBOUND]),
       value=st.none() | st.binary(max_size=200) | st.sampled_from(
           [_inbound(), _inbound(body=None), b"{}", b'{"schema_version": 1}']),
       key=st.none() | st.binary(max_size=20),
       headers=st.lists(st.tuples(st.text(max_size=8), st.none() | st.binary(max_size=8)),
                        max_size=3))
def test_any_bytes_on_any_topic_decode_or_become_a_valid_dead_letter(
        topic: Topic, value: bytes | None, key: bytes | None,
        headers: list[tuple[str, bytes | None]]) -> None:
    try:
        decode_input(topic, value)
    except DecodeError as exc:
        letter = dead_letter(exc, topic=topic, partition=0, offset=7, key=key, value=value,
                             headers=headers, failed_at=FAILED_AT)
        assert letter.error_type != ErrorType.INTERNAL
        assert letter.value == value
        encoded = encode_dead_letter(letter)
        assert validator_for("dead-letter").is_valid(orjson.loads(encoded))
        assert decode_dead_letter(encoded) == letter


def test_a_huge_invalid_value_is_cut_and_fingerprinted() -> None:
    """Found in review: a 900 kB invalid record made a dead letter over the broker's 1 MiB
    limit (base64 grows it by a third), and the partition stopped for good."""
    value = b"x" * 900_000
    letter = dead_letter(ValueError("boom"), topic="sms.inbound", partition=0, offset=7,
                         key=b"k", value=value, headers=(), failed_at=0)
    assert letter.value == value[:MAX_KEPT_VALUE]
    assert f"of {len(value)} bytes" in letter.reason
    assert hashlib.sha256(value).hexdigest() in letter.reason
    assert len(encode_dead_letter(letter)) < 100_000


def test_a_header_key_that_was_not_utf8_is_kept_as_escapes_and_encodes() -> None:
    raw_key = b"\xff\xfetrace".decode("utf-8", "surrogateescape")  # as the reader gives it
    letter = dead_letter(ValueError("x"), topic="sms.inbound", partition=0, offset=1,
                         key=None, value=b"{}", headers=[(raw_key, b"1"), ("ok", None)],
                         failed_at=0)
    assert letter.headers == (("\\xff\\xfetrace", b"1"), ("ok", b""))
    assert decode_dead_letter(encode_dead_letter(letter)) == letter
