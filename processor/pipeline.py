"""One batch of one partition: decode -> load states -> decide -> write states -> outputs.

No Kafka here: the worker hands in records and sends the returned outputs (with the consumed
offsets) in one transaction. Redis is reached through the ConsentStore port in two round
trips per batch (one read, one atomic write), never once per message.

Idempotency: every decided input's encoded outputs are stored with its cause id (message,
request or command id) in the same atomic write as the states. An input whose outcome is
already stored (a batch re-consumed after a crash or an aborted transaction, or a duplicate
record) is answered with the stored outputs, and the state is not touched again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from processor import codec
from processor.domain.consent.state import Decision, PhoneState, SendLog, SubKey, due_at
from processor.domain.engine import Input, cause_id, decide
from processor.domain.gateways.config import Gateways
from processor.domain.ids import joined_id
from processor.domain.models.enums import SendStatus
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.outputs import OutboundMessage
from processor.domain.models.subscription import Subscription
from processor.ports import NO_PROGRESS, Clock, ConsentStore, PhoneWrite, Progress
from processor.topics import Topic


class InputRecord(msgspec.Struct, frozen=True, gc=False):
    """One consumed input record, as the worker hands it in. A Struct, not a dataclass: one
    is built per record, and a frozen dataclass's __init__ sets each field through
    object.__setattr__ (about ten times slower)."""

    topic: Topic
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int = 0
    headers: tuple[tuple[str, bytes], ...] = ()
    # The topic's name on the broker (with the configured prefix), for dead letters.
    source: str = ""


class OutputRecord(msgspec.Struct, frozen=True, gc=False):
    topic: Topic
    key: bytes | None
    value: bytes | None


@dataclass
class BatchOutcome:
    outputs: list[OutputRecord] = field(default_factory=list)
    decided: int = 0
    replayed: int = 0
    invalid: int = 0
    # One flag per input record, in input order: True when it became a dead letter.
    invalid_flags: list[bool] = field(default_factory=list)
    # Input records per (topic, "decided" | "replayed" | "dead_lettered"), for the metrics.
    counts: Counter[tuple[Topic, str]] = field(default_factory=Counter)

    def undecided(self, record: InputRecord, letter: OutputRecord) -> None:
        self.outputs.append(letter)
        self.invalid += 1
        self.invalid_flags.append(True)
        self.counts[(record.topic, "dead_lettered")] += 1


# Stored outcomes, msgpack: [content digest, entries], an entry being [topic, key, value] with
# the bytes as they were produced (no JSON escaping of JSON), or FORWARDED_SELF: the forwarded
# copy of the input's own send request, rebuilt from the request and its stored result, so
# outcomes do not keep message bodies for the retention period. Outcomes stored by earlier
# releases are JSON, {"d": digest, "o": [[topic, key text, value text] | "F", ...]}, and are
# still read (they live for the retention period).
FORWARDED_SELF = "F"


class BatchProcessor:
    def __init__(self, store: ConsentStore, gateways: Gateways, clock: Clock) -> None:
        self._store = store
        self._gateways = gateways
        self._clock = clock

    @property
    def gateways(self) -> Gateways:
        return self._gateways

    def use_gateways(self, gateways: Gateways) -> None:
        """Decides later batches with `gateways` (a batch in progress keeps the ones it
        started with): the worker reloads its gateways file on SIGHUP."""
        self._gateways = gateways

    async def process(self, records: Sequence[InputRecord], partition: int,
                      progress: Progress = NO_PROGRESS) -> BatchOutcome:
        """Decides every record; returns exactly one decided output set per record. The
        store records `progress` with the batch's writes (and refuses them, raising
        StoreBehindError, when it is behind `progress.committed`)."""
        now = self._clock.now_ms()
        gateways = self._gateways  # one configuration for the whole batch
        regions = gateways.regions
        out = BatchOutcome()
        decoded: list[tuple[InputRecord, Input | Exception, str]] = []
        wanted: dict[str, list[str]] = defaultdict(list)
        for record in records:
            try:
                parsed = codec.decode_input(record.topic, record.value, regions)
            except Exception as exc:  # every failure becomes a dead letter
                decoded.append((record, exc, ""))
                continue
            oid = outcome_id(parsed)
            decoded.append((record, parsed, oid))
            wanted[parsed.phone].append(oid)

        loaded = await self._store.load(wanted) if wanted else {}
        states: dict[str, PhoneState] = {p: loaded[p].state for p in wanted}
        known: dict[tuple[str, str], bytes] = {
            (p, c): v for p in wanted for c, v in loaded[p].outcomes.items()
        }
        changed: dict[str, dict[SubKey, Subscription]] = {}
        logs: dict[str, dict[SubKey, SendLog]] = {}
        new_outcomes: dict[str, dict[str, bytes]] = {}
        outputs = out.outputs
        flags = out.invalid_flags
        counts = out.counts

        for record, item, oid in decoded:
            if isinstance(item, Exception):
                out.undecided(record, dead_letter_record(record, item, now))
                continue
            phone = item.phone
            stored = known.get((phone, oid))
            try:
                if stored is not None:
                    outputs.extend(rehydrate(stored, item))
                    out.replayed += 1
                    flags.append(False)
                    counts[(record.topic, "replayed")] += 1
                    continue
                decision = decide(states[phone], item, gateways, now)
                encoded = encode_decision(decision)
            except Exception as exc:  # a reused id, or a bug: never a stopped worker
                out.undecided(record, dead_letter_record(record, exc, now))
                continue
            if decision.changed or decision.send_logs:
                states[phone] = states[phone].with_changes(decision.changed, decision.send_logs)
                subs = changed.setdefault(phone, {})
                for sub in decision.changed:
                    subs[(sub.gateway, sub.keyword)] = sub
                if decision.send_logs:
                    phone_logs = logs.setdefault(phone, {})
                    for log in decision.send_logs:
                        phone_logs[log.key] = log
            packed = pack_outcome(encoded, content_digest(item))
            new_outcomes.setdefault(phone, {})[oid] = packed
            known[(phone, oid)] = packed  # a duplicate later in this batch replays it
            outputs.extend([record for record, _ in encoded])
            out.decided += 1
            flags.append(False)
            counts[(record.topic, "decided")] += 1

        writes = [
            _write(loaded[phone].state, changed.get(phone, {}).values(),
                   new_outcomes.get(phone, {}), logs.get(phone, {}).values())
            for phone in wanted if phone in changed or phone in new_outcomes
        ]
        if writes or progress.covered:
            await self._store.commit(writes, partition, progress)
        return out


def _write(before: PhoneState, changed: Iterable[Subscription],
           outcomes: dict[str, bytes], logs: Iterable[SendLog] = ()) -> PhoneWrite:
    """The phone's write: new values fenced by the versions read, and the due times left."""
    subscriptions, left = [], []
    for sub in changed:
        read = before.get(sub.gateway, sub.keyword)
        subscriptions.append((sub, read.version))
        if due_at(read) is not None and due_at(sub) != due_at(read):
            left.append(read)
    send_logs = [(log, before.send_log(log.gateway, log.keyword).version) for log in logs]
    return PhoneWrite(before.phone, subscriptions, outcomes, left, send_logs)


def dead_letter_record(record: InputRecord, error: Exception, now: int) -> OutputRecord:
    letter = codec.dead_letter(
        error, topic=record.source or record.topic.value, partition=record.partition,
        offset=record.offset,
        key=record.key, value=record.value, headers=record.headers, failed_at=now,
    )
    return OutputRecord(Topic.DEAD_LETTER, record.key, codec.encode_dead_letter(letter))


# (record, True when it is the forwarded copy of the decided send request itself)
Encoded = list[tuple[OutputRecord, bool]]


def encode_decision(decision: Decision) -> Encoded:
    """The records one decision puts on the output topics, in a fixed order."""
    records: Encoded = []
    for event in decision.events:
        records.append((OutputRecord(Topic.CONSENT_EVENTS, codec.encode_key(event.phone),
                                     codec.encode_consent_event(event)), False))
    for sub in decision.changed:
        key = codec.encode_state_key(sub.phone, sub.gateway, sub.keyword)
        records.append((OutputRecord(Topic.CONSENT_STATE, key, codec.encode_consent_state(sub)),
                        False))
    for message in decision.outbound:
        own = not message.auto_reply and message.request_id == decision.cause_id
        records.append((OutputRecord(Topic.OUTBOUND, codec.encode_key(message.phone),
                                     codec.encode_outbound(message)), own))
    for result in decision.results:
        records.append((OutputRecord(Topic.SEND_RESULTS, codec.encode_key(result.phone),
                                     codec.encode_send_result(result)), False))
    for notice in decision.notices:
        records.append((OutputRecord(Topic.NOTICES, codec.encode_key(notice.phone),
                                     codec.encode_notice(notice)), False))
    if decision.command_result is not None:
        done = decision.command_result
        records.append((OutputRecord(Topic.COMMAND_RESULTS, codec.encode_key(done.phone),
                                     codec.encode_command_result(done)), False))
    return records


_KINDS = {InboundMessage: "m", SendRequest: "r", Command: "c"}


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
    return _PACK.encode((digest, [FORWARDED_SELF if own else (o.topic.value, o.key, o.value)
                                  for o, own in encoded]))


_PACK = msgspec.msgpack.Encoder()
_UNPACK = msgspec.msgpack.Decoder(tuple[str, list[str | tuple[str, bytes | None, bytes | None]]])


def unpack_outcome(stored: bytes) -> tuple[str, list[Any]]:
    """(digest, entries) of a stored outcome, entries as (topic, key, value) with bytes, or
    FORWARDED_SELF; either format (JSON ones from earlier releases)."""
    if stored[:1] == b"{":
        outcome = msgspec.json.decode(stored)
        return outcome["d"], [e if e == FORWARDED_SELF else (e[0], _bytes(e[1]), _bytes(e[2]))
                              for e in outcome["o"]]
    return _UNPACK.decode(stored)


class ReusedIdError(codec.DecodeError):
    """An id that was already decided arrived again with different content."""


def rehydrate(stored: bytes, item: Input) -> list[OutputRecord]:
    """The outputs of a stored outcome, exactly as they were first produced. Only the same
    input gets them: a reused id with other content (another body, another gateway) is
    refused, never answered with another input's decision."""
    digest, entries = unpack_outcome(stored)
    if digest != content_digest(item):
        raise ReusedIdError(
            codec.ErrorType.REUSED_ID, _ID_FIELDS[type(item)],
            f"{cause_id(item)!r} was already decided for different content; an id is "
            "decided once")
    outputs = [OutputRecord(Topic(e[0]), e[1], e[2]) for e in entries if e != FORWARDED_SELF]
    if FORWARDED_SELF in entries and isinstance(item, SendRequest):
        outputs.insert(entries.index(FORWARDED_SELF), _forwarded_copy(item, outputs))
    return outputs


_ID_FIELDS = {InboundMessage: "message_id", SendRequest: "request_id", Command: "command_id"}


def _forwarded_copy(item: SendRequest, outputs: Sequence[OutputRecord]) -> OutputRecord:
    """The outbound record of a forwarded request, rebuilt from the request and its result
    (its own: a send's decision may also release held requests, with results of theirs)."""
    results = (codec.decode_send_result(o.value) for o in outputs
               if o.topic is Topic.SEND_RESULTS and o.value is not None)
    result = next(r for r in results if r.request_id == item.request_id
                  and r.status is SendStatus.FORWARDED)
    assert result.status is SendStatus.FORWARDED
    assert result.message_id is not None
    message = OutboundMessage(
        message_id=result.message_id, phone=item.phone, gateway=item.gateway, body=item.body,
        auto_reply=False, consent=result.consent, decided_at=result.decided_at,
        request_id=item.request_id,
    )
    return OutputRecord(Topic.OUTBOUND, codec.encode_key(item.phone),
                        codec.encode_outbound(message))


def _bytes(value: str | None) -> bytes | None:
    return None if value is None else value.encode()
