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

from processor import codec
from processor.domain.consent.state import Decision, PhoneState, SendLog, SubKey, due_at
from processor.domain.engine import Input, decide
from processor.domain.gateways.config import Gateways
from processor.domain.models.subscription import Subscription
from processor.pipeline.keying import phone_key, subscription_key
from processor.pipeline.outcomes import (
    Encoded,
    content_digest,
    outcome_id,
    pack_outcome,
    rehydrate,
)
from processor.ports import (
    NO_PROGRESS,
    Clock,
    ConsentStore,
    InputRecord,
    OutputRecord,
    PhoneWrite,
    Progress,
)
from processor.topics import Topic


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


def encode_decision(decision: Decision) -> Encoded:
    """The records one decision puts on the output topics, in a fixed order (keyed as
    processor.pipeline.keying says)."""
    records: Encoded = []
    for event in decision.events:
        records.append((OutputRecord(Topic.CONSENT_EVENTS, phone_key(event.phone),
                                     codec.encode_consent_event(event)), None))
    for sub in decision.changed:
        key = subscription_key(sub.phone, sub.gateway, sub.keyword)
        records.append((OutputRecord(Topic.CONSENT_STATE, key, codec.encode_consent_state(sub)),
                        None))
    for message in decision.outbound:
        own = not message.auto_reply and message.request_id == decision.cause_id
        records.append((OutputRecord(Topic.OUTBOUND, phone_key(message.phone),
                                     codec.encode_outbound(message)), message if own else None))
    for result in decision.results:
        records.append((OutputRecord(Topic.SEND_RESULTS, phone_key(result.phone),
                                     codec.encode_send_result(result)), None))
    for notice in decision.notices:
        records.append((OutputRecord(Topic.NOTICES, phone_key(notice.phone),
                                     codec.encode_notice(notice)), None))
    if decision.command_result is not None:
        done = decision.command_result
        records.append((OutputRecord(Topic.COMMAND_RESULTS, phone_key(done.phone),
                                     codec.encode_command_result(done)), None))
    return records
