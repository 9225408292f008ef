"""The stored outcome of a decided input: where it is stored, its byte format, and its replay.

Every decided input's outputs are stored under its outcome id in the same atomic write as the
states, so the same input consumed again (a batch re-consumed after an aborted transaction, a
duplicate record) is answered with exactly the bytes first produced.

Format (msgpack): ``[digest, entries, forwarded]``. ``digest`` is the input's content digest
(a reused id with other content is refused, never answered with another input's decision).
An entry is ``[topic, key, value]`` with the bytes as they were produced, or ``"F"``: the
forwarded copy of the input's own send request, which is not stored (outcomes live for the
retention period and must not keep message bodies). ``forwarded`` holds what that copy needs
besides the request itself (its message id, decision time and consent snapshot), so a replay
rebuilds it from the request without decoding any stored output.

Older stored outcomes are still read (they live for the retention period):
* msgpack ``[digest, entries]`` without ``forwarded``: the copy is rebuilt from the request
  and its stored send result (decoded), as the release that wrote them did;
* JSON ``{"d": digest, "o": [[topic, key text, value text] | "F", ...]}``, the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from processor import codec
from processor.domain.engine import Input, cause_id
from processor.domain.ids import joined_id
from processor.domain.models.enums import SendStatus
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.outputs import ConsentSnapshot, OutboundMessage
from processor.pipeline.keying import phone_key
from processor.ports import OutputRecord
from processor.topics import Topic

FORWARDED_SELF = "F"

# (record, the decided request's own forwarded message when the record is its copy)
Encoded = list[tuple[OutputRecord, OutboundMessage | None]]


class Forwarded(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """What the forwarded copy of a send request holds besides the request's own fields."""

    message_id: str
    decided_at: int
    consent: ConsentSnapshot


Entry = str | tuple[str, bytes | None, bytes | None]


class StoredOutcome(msgspec.Struct, frozen=True, array_like=True, gc=False):
    digest: str
    entries: list[Entry]
    forwarded: Forwarded | None = None  # absent in outcomes stored before it existed


_KINDS = {InboundMessage: "m", SendRequest: "r", Command: "c"}
_ID_FIELDS = {InboundMessage: "message_id", SendRequest: "request_id", Command: "command_id"}


def outcome_id(item: Input) -> str:
    """Where an input's outcome is stored: its id, in a namespace per input kind, so a send
    request and an inbound message that happen to share an id never answer for each other."""
    return f"{_KINDS[type(item)]}:{cause_id(item)}"


def content_digest(item: Input) -> str:
    """What an input asks for, without its times (a carrier's retry may restamp them): the
    fields' str() joined by U+001F, hashed like an id (the digests of stored outcomes)."""
    if isinstance(item, SendRequest):
        return joined_id(f"{item.gateway}\x1f{item.body}\x1f{item.kind}\x1f{item.requested_by}"
                         f"\x1f{item.campaign}\x1f{item.keyword}")
    if isinstance(item, InboundMessage):
        return joined_id(f"{item.to}\x1f{item.gateway}\x1f{item.body}")
    return joined_id(f"{item.type}\x1f{item.gateway}\x1f{item.keyword}\x1f{item.actor}"
                     f"\x1f{item.permissions}\x1f{item.import_status}\x1f{item.new_phone}"
                     f"\x1f{item.reason}\x1f{item.until}")


def pack_outcome(encoded: Encoded, digest: str) -> bytes:
    entries: list[Entry] = []
    forwarded = None
    for output, own in encoded:
        if own is None:
            entries.append((output.topic.value, output.key, output.value))
        else:
            entries.append(FORWARDED_SELF)
            forwarded = Forwarded(own.message_id, own.decided_at, own.consent)
    return _PACK.encode(StoredOutcome(digest, entries, forwarded))


_PACK = msgspec.msgpack.Encoder()
_UNPACK = msgspec.msgpack.Decoder(StoredOutcome)


def unpack_outcome(stored: bytes) -> StoredOutcome:
    """A stored outcome in any of its formats (module doc); entries with bytes."""
    if stored[:1] == b"{":
        outcome = msgspec.json.decode(stored)
        return StoredOutcome(outcome["d"], [
            e if e == FORWARDED_SELF else (e[0], _bytes(e[1]), _bytes(e[2]))
            for e in outcome["o"]])
    return _UNPACK.decode(stored)


class ReusedIdError(codec.DecodeError):
    """An id that was already decided arrived again with different content."""


def rehydrate(stored: bytes, item: Input) -> list[OutputRecord]:
    """The outputs of a stored outcome, exactly as they were first produced. Only the same
    input gets them: a reused id with other content (another body, another gateway) is
    refused, never answered with another input's decision."""
    outcome = unpack_outcome(stored)
    if outcome.digest != content_digest(item):
        raise ReusedIdError(
            codec.ErrorType.REUSED_ID, _ID_FIELDS[type(item)],
            f"{cause_id(item)!r} was already decided for different content; an id is "
            "decided once")
    entries = outcome.entries
    outputs = [OutputRecord(Topic(e[0]), e[1], e[2]) for e in entries if not isinstance(e, str)]
    if FORWARDED_SELF in entries and isinstance(item, SendRequest):
        copy = (_forwarded_copy(item, outcome.forwarded) if outcome.forwarded is not None
                else _forwarded_copy_from_result(item, outputs))
        outputs.insert(entries.index(FORWARDED_SELF), copy)
    return outputs


def _forwarded_copy(item: SendRequest, forwarded: Forwarded) -> OutputRecord:
    """The outbound record of a forwarded request, rebuilt from the request and what the
    outcome stored of its forwarding."""
    message = OutboundMessage(
        message_id=forwarded.message_id, phone=item.phone, gateway=item.gateway,
        body=item.body, auto_reply=False, consent=forwarded.consent,
        decided_at=forwarded.decided_at, request_id=item.request_id,
    )
    return OutputRecord(Topic.OUTBOUND, phone_key(item.phone), codec.encode_outbound(message))


def _forwarded_copy_from_result(item: SendRequest,
                                outputs: Sequence[OutputRecord]) -> OutputRecord:
    """The same from an outcome stored before ``forwarded`` existed: its own send result (a
    send's decision may also release held requests, with results of theirs) says the rest."""
    results = (codec.decode_send_result(o.value) for o in outputs
               if o.topic is Topic.SEND_RESULTS and o.value is not None)
    result = next(r for r in results if r.request_id == item.request_id
                  and r.status is SendStatus.FORWARDED)
    assert result.message_id is not None
    return _forwarded_copy(item, Forwarded(result.message_id, result.decided_at,
                                           result.consent))


def _bytes(value: Any) -> bytes | None:
    return None if value is None else str(value).encode()
