"""Decoding has bounds: a record far larger than the schemas allow, or a list of millions, is
refused before it costs time or memory (issue 12: an 8 MB record took over a second and 250 MB
to reach its error, and a command with 1.2M permissions was accepted)."""

from __future__ import annotations

import orjson
import pytest

from processor import codec
from processor.codec.records import MAX_INPUT_BYTES
from processor.domain.models.enums import ErrorType
from processor.domain.models.wire import MAX_PERMISSIONS
from processor.topics import INPUT_TOPICS, Topic


@pytest.mark.parametrize("topic", INPUT_TOPICS)
def test_an_input_far_above_the_largest_valid_one_is_refused_before_it_is_parsed(
        topic: Topic) -> None:
    huge = b"{" + b" " * MAX_INPUT_BYTES  # not even JSON: refused for its size first
    with pytest.raises(codec.DecodeError) as refused:
        codec.decode_input(topic, huge)
    assert refused.value.error_type is ErrorType.TOO_LARGE
    assert str(MAX_INPUT_BYTES) in str(refused.value)


def test_the_largest_valid_inbound_body_fits_the_bound() -> None:
    body = "\u2603" * 65536  # escaped as \\u2603 by an ASCII-only producer: 6 bytes each
    value = orjson.dumps({"schema_version": 1, "message_id": "m-1", "from": "+12025550123",
                          "to": "12345", "gateway": "gw1", "body": body,
                          "received_at": "2026-11-24T22:56:00Z"}).replace(
        "\u2603".encode(), b"\\u2603")
    assert len(value) < MAX_INPUT_BYTES
    assert codec.decode_input(Topic.INBOUND, value).body == body


def command_with(permissions: int) -> bytes:
    return orjson.dumps({"schema_version": 1, "command_id": "c-1", "type": "manual_opt_in",
                         "phone": "+12025550123", "gateway": "gw1", "actor": "ops",
                         "created_at": "2026-11-24T22:56:00Z",
                         "permissions": [f"p{i}" for i in range(permissions)]})


def test_a_command_names_at_most_a_bounded_number_of_permissions() -> None:
    assert len(codec.decode_input(Topic.COMMANDS, command_with(MAX_PERMISSIONS)).permissions) \
        == MAX_PERMISSIONS
    with pytest.raises(codec.DecodeError) as refused:
        codec.decode_input(Topic.COMMANDS, command_with(MAX_PERMISSIONS + 1))
    assert refused.value.field == "permissions"
