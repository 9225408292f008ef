"""Records across versions: send-result is at version 2 and version 1 is still read; fields
added within a version are optional when read (older records lack them) and always written."""

from __future__ import annotations

import orjson
import pytest

from processor import codec
from processor.codec import DecodeError, ErrorType
from processor.domain.models.enums import SendDebug, SendStatus

V2 = {"schema_version": 2, "request_id": "r1", "to": "+12015550123", "gateway": "acme-us",
      "status": "Held", "debug": None, "detail": "Quiet hours", "message_id": None,
      "sendable_at": "2026-11-25T13:00:00.000Z",
      "consent": {"status": "Opt-In", "source": "keyword", "version": 3},
      "decided_at": "2026-11-25T03:30:00.000Z"}
V1 = {key: value for key, value in V2.items() if key != "sendable_at"} | {
    "schema_version": 1, "status": "Forwarded", "detail": None, "message_id": "out-r1"}


def test_send_results_are_written_at_version_2_with_sendable_at() -> None:
    result = codec.decode_send_result(orjson.dumps(V2))
    assert (result.status, result.sendable_at) == (SendStatus.HELD, 1_795_611_600_000)
    assert orjson.loads(codec.encode_send_result(result)) == V2


def test_a_version_1_send_result_is_read_and_written_again_at_version_2() -> None:
    result = codec.decode_send_result(orjson.dumps(V1))
    assert (result.status, result.sendable_at) == (SendStatus.FORWARDED, None)
    again = orjson.loads(codec.encode_send_result(result))
    assert again == {**V1, "schema_version": 2, "sendable_at": None}


@pytest.mark.parametrize(("raw", "error_type", "field"), [
    ({**V1, "sendable_at": None}, ErrorType.UNKNOWN_FIELD, "sendable_at"),  # not in version 1
    ({k: v for k, v in V2.items() if k != "sendable_at"}, ErrorType.MISSING_FIELD, "sendable_at"),
    ({**V2, "schema_version": 3}, ErrorType.UNSUPPORTED_SCHEMA_VERSION, "schema_version"),
    ({**V2, "debug": "Quiet Hours"}, ErrorType.INVALID_VALUE, "debug"),
])
def test_what_no_version_has_is_refused(raw: dict[str, object], error_type: ErrorType,
                                        field: str) -> None:
    with pytest.raises(DecodeError) as caught:
        codec.decode_send_result(orjson.dumps(raw))
    assert (caught.value.error_type, caught.value.field) == (error_type, field)


def test_frequency_cap_is_a_debug_value_of_version_2() -> None:
    capped = {**V2, "status": "Error", "debug": "Frequency Cap", "sendable_at": None}
    assert codec.decode_send_result(orjson.dumps(capped)).debug is SendDebug.FREQUENCY_CAP


def test_the_unsupported_version_reason_names_the_versions_read() -> None:
    with pytest.raises(DecodeError, match=r"unsupported version 3 \(supported: 1, 2\)"):
        codec.decode_send_result(orjson.dumps({**V2, "schema_version": 3}))
