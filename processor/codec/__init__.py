"""Bytes <-> domain records for every topic, following the JSON Schemas in ``schemas/``.

``decode_<record>(value)`` and ``encode_<record>(record)`` exist for all ten records (record
names as in ``schemas/``, with ``_`` for ``-``). Decoding raises :class:`DecodeError` and nothing
else; :func:`dead_letter` turns that (or any exception) into the dead-letter record. No JSON
Schema validator runs here: msgspec checks the limits declared on the records' Structs
(:mod:`processor.domain.models`), and the contract tests prove the codec and the schemas agree.
"""

from __future__ import annotations

from collections.abc import Mapping

from processor.codec.dead_letters import dead_letter
from processor.codec.errors import DecodeError, ErrorType
from processor.codec.fields import NO_REGIONS
from processor.codec.phones import normalise_phone
from processor.codec.records import (
    COMMAND,
    COMMAND_RESULT,
    CONSENT_EVENT,
    CONSENT_STATE,
    DEAD_LETTER,
    INBOUND,
    NOTICE,
    OUTBOUND,
    RECORD_FOR_TOPIC,
    RECORDS,
    SEND_REQUEST,
    SEND_RESULT,
    RecordCodec,
)
from processor.codec.times import format_time
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.subscription import Subscription
from processor.topics import INPUT_TOPICS, Topic

__all__ = [
    "RECORDS", "RECORD_FOR_TOPIC", "DecodeError", "ErrorType", "RecordCodec", "dead_letter",
    "decode_command", "decode_command_result", "decode_consent_event", "decode_consent_state",
    "decode_dead_letter", "decode_inbound", "decode_input", "decode_notice", "decode_outbound",
    "decode_send_request", "decode_send_result", "decode_state_key", "encode_command",
    "encode_command_result", "encode_consent_event", "encode_consent_state",
    "encode_dead_letter", "encode_inbound", "encode_key", "encode_notice", "encode_outbound",
    "encode_send_request", "encode_send_result", "encode_state_key", "format_time",
    "normalise_phone",
]

decode_inbound = INBOUND.decode
decode_send_request = SEND_REQUEST.decode
decode_command = COMMAND.decode
decode_outbound = OUTBOUND.decode
decode_send_result = SEND_RESULT.decode
decode_consent_event = CONSENT_EVENT.decode
decode_command_result = COMMAND_RESULT.decode
decode_notice = NOTICE.decode
decode_dead_letter = DEAD_LETTER.decode

encode_inbound = INBOUND.encode
encode_send_request = SEND_REQUEST.encode
encode_command = COMMAND.encode
encode_outbound = OUTBOUND.encode
encode_send_result = SEND_RESULT.encode
encode_consent_event = CONSENT_EVENT.encode
encode_consent_state = CONSENT_STATE.encode
encode_command_result = COMMAND_RESULT.encode
encode_notice = NOTICE.encode
encode_dead_letter = DEAD_LETTER.encode

_INPUTS: Mapping[Topic, RecordCodec[InboundMessage] | RecordCodec[SendRequest]
                 | RecordCodec[Command]] = {
    topic: RECORD_FOR_TOPIC[topic] for topic in INPUT_TOPICS}


def decode_input(topic: Topic, value: bytes | None,
                 regions: Mapping[str, str] = NO_REGIONS) -> InboundMessage | SendRequest | Command:
    """The record on an input topic; raises DecodeError (only) saying what is wrong.

    ``regions`` maps a gateway id to its default region (ISO 3166, e.g. "US") so national
    phone spellings can be read; without one only international (+) spellings are valid.
    """
    codec = _INPUTS.get(topic)
    if codec is None:
        raise DecodeError(ErrorType.UNKNOWN_TOPIC, None,
                          f"{str(topic)!r} is not an input topic "
                          f"({', '.join(str(input_topic) for input_topic in INPUT_TOPICS)})")
    if value is None:
        raise DecodeError(ErrorType.NO_VALUE, None,
                          "the record has no value (a tombstone); input records need one")
    return codec.decode(value, regions)


def decode_consent_state(value: bytes | None) -> Subscription | None:
    """The subscription in a consent-state value; None for a tombstone (the key was deleted).

    Compaction keeps a tombstone only for a while, so a rebuild treats a missing key and a
    tombstone alike: the subscription is untouched.
    """
    return None if value is None else CONSENT_STATE.decode(value)


def encode_key(phone: str) -> bytes:
    """The Kafka key of every keyed topic: the subscriber's E.164 phone, so one phone's records
    share a partition."""
    return phone.encode("ascii")


def encode_state_key(phone: str, gateway: str, keyword: str | None) -> bytes:
    """The compacted consent-state key ``phone|gateway|keyword`` (empty keyword: whole gateway)."""
    return f"{phone}|{gateway}|{keyword or ''}".encode()


def decode_state_key(key: bytes) -> tuple[str, str, str | None]:
    """(phone, gateway, keyword or None) from a consent-state key; DecodeError when malformed."""
    try:
        phone, gateway, keyword = key.decode("utf-8").split("|")
    except (UnicodeDecodeError, ValueError) as exc:
        raise DecodeError(ErrorType.INVALID_VALUE, "key",
                          f"not a phone|gateway|keyword key ({key[:80]!r})") from exc
    return phone, gateway, keyword or None
