"""Explains every difference between two recordings of the corpus before one replaces the
other: ``python -m tests.support.corpus_diff OLD_PIPELINE NEW_PIPELINE OLD_CODEC``.

Written for issue 16 (quiet hours, frequency caps, consent evidence, send-result version 2).
Each output the new recording has is either byte-identical to the old one, or differs only by
the contract's additions (checked against the inputs that caused it), or is the quiet-hours
behaviour on a campaign send decided inside the recipient's quiet hours (checked against the
rule table), or follows from such a hold on the same phone, or comes from the morning step
that releases the holds. Anything else is reported as unexplained and the exit status is 1.
The old codec corpus is read again by today's codec: every verdict that changed must change
only by the same additions.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from processor import codec
from processor.domain.classify.classifier import classify
from processor.domain.models.enums import Intent
from processor.domain.quiet_hours import recipient_of
from processor.domain.quiet_hours_rules import DEFAULT_QUIET_HOURS
from processor.pipeline import InputRecord, OutputRecord
from processor.topics import Topic
from tests.support.corpus import _unb64, codec_line, gateways, read_codec_corpus, read_corpus

EVIDENCE = ("message_id", "message_text", "gateway_number", "received_at", "command_id")


class Tally:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.unexplained: list[str] = []

    def add(self, what: str, n: int = 1) -> None:
        self.counts[what] += n

    def fail(self, what: str) -> None:
        self.unexplained.append(what)


def _inputs(records: list[InputRecord]) -> dict[str, Any]:
    """Decoded inputs of a step by cause id (dead letters are not causes)."""
    found: dict[str, Any] = {}
    regions = gateways().regions
    for record in records:
        try:
            item = codec.decode_input(record.topic, record.value, regions)
        except Exception:  # a dead letter in the corpus, on purpose
            continue
        cause = getattr(item, "message_id", None) or getattr(item, "request_id", None) or \
            item.command_id
        found[cause] = item
    return found


def _text_kept(body: str, gateway: str) -> bool:
    return classify(body, gateways().get(gateway).keywords).intent in {Intent.OPT_IN,
                                                                       Intent.OPT_OUT}


def _evidence_ok(event: dict[str, Any], inputs: dict[str, Any]) -> str | None:
    """The evidence an event must carry, from its cause; None if it does, else why not."""
    cause = inputs.get(event["cause_id"])
    got = {name: event[name] for name in EVIDENCE}
    if cause is not None and hasattr(cause, "message_id"):
        text = cause.body if _text_kept(cause.body, cause.gateway) else None
        want = {"message_id": cause.message_id, "message_text": text,
                "gateway_number": cause.to, "received_at": codec.format_time(cause.received_at),
                "command_id": None}
    elif cause is not None and hasattr(cause, "command_id") and event["source"] != "expiry":
        want = {"message_id": None, "message_text": None, "gateway_number": None,
                "received_at": None, "command_id": cause.command_id}
    else:  # a timer's expiry, a consent request by a send, or a cause outside this step
        want = dict.fromkeys(EVIDENCE)
        if cause is None and any(got.values()):
            return None  # decided in an earlier step (a replayed batch): checked there
    return None if got == want else f"evidence {got} != {want}"


def _as_before(output: OutputRecord, inputs: dict[str, Any], tally: Tally) -> bytes | None:
    """The output without the contract's additions, as the old recording spelled it."""
    if output.value is None:
        return output.value
    obj = orjson.loads(output.value)
    if output.topic is Topic.SEND_RESULTS:
        if obj.get("sendable_at") is not None:
            return output.value  # a quiet-hours hold: behaviour, not an addition
        obj["schema_version"] = 1
        del obj["sendable_at"]
    elif output.topic is Topic.CONSENT_EVENTS:
        why = _evidence_ok(obj, inputs)
        if why is not None:
            tally.fail(f"consent event {obj['event_id']}: {why}")
        tally.add("consent-event evidence: text kept" if obj["message_text"] is not None else
                  "consent-event evidence: message (no text)" if obj["message_id"] else
                  "consent-event evidence: command" if obj["command_id"] else
                  "consent-event evidence: none (timer or send)")
        for name in EVIDENCE:
            del obj[name]
    elif output.topic is Topic.CONSENT_STATE:
        if obj.get("held_until") is not None:
            return output.value
        del obj["held_until"]
    else:
        return output.value
    return orjson.dumps(obj)


def compare_pipeline(old_path: Path, new_path: Path, tally: Tally) -> None:
    old_steps, new_steps = list(read_corpus(old_path)), list(read_corpus(new_path))
    held_phones: set[str] = set()
    for index, new in enumerate(new_steps):
        outputs = new.outputs or []
        if index >= len(old_steps):
            tally.add("outputs of the morning step releasing quiet-hours holds", len(outputs))
            _check_release(new.records, outputs, tally)
            continue
        old = old_steps[index]
        if (old.now, old.partition, old.records) != (new.now, new.partition, new.records):
            tally.fail(f"step {index}: its inputs differ")
            continue
        inputs = _inputs(new.records)
        before = [_as_before(o, inputs, tally) for o in outputs]
        old_values = [o.value for o in old.outputs or []]
        for output, value in zip(outputs, before, strict=True):
            if output.value in old_values:
                tally.add(f"identical: {output.topic.value}")
            elif value in old_values:
                tally.add(f"addition only: {output.topic.value}")
        if before == old_values and [o.key for o in outputs] == [o.key for o in old.outputs or []]:
            continue
        # Behaviour: campaign sends held for quiet hours, and what follows on their phones.
        held_now = _quiet_holds(outputs, inputs, new.now, tally)
        held_phones |= held_now
        old_rest = Counter((o.topic, o.value) for o in old.outputs or [])
        new_rest = Counter((o.topic, v) for o, v in zip(outputs, before, strict=True))
        for (topic, value), n in (new_rest - old_rest).items():
            _explain(topic, value, n, held_phones, "new", tally)
        for (topic, value), n in (old_rest - new_rest).items():
            _explain(topic, value, n, held_phones, "no longer", tally)


def _phone(topic: Topic, value: bytes | None) -> str:
    if value is None:
        return "?"
    obj = orjson.loads(value)
    return str(obj.get("to") or obj.get("phone") or "?")


def _explain(topic: Topic, value: bytes | None, n: int, held_phones: set[str], how: str,
             tally: Tally) -> None:
    if _phone(topic, value) in held_phones:
        tally.add(f"on a phone with quiet-hours holds, {how} written: {topic.value}", n)
    else:
        tally.fail(f"{how} written, unexplained: {topic.value} {value!r:.300}")


def _quiet_holds(outputs: list[OutputRecord], inputs: dict[str, Any], now: int,
                 tally: Tally) -> set[str]:
    """Phones of the campaign sends this step held for quiet hours, each checked against the
    rule table: a campaign send, decided inside the recipient's quiet hours, sendable when
    the table says."""
    phones = set()
    for output in outputs:
        if output.topic is not Topic.SEND_RESULTS or output.value is None:
            continue
        result = codec.decode_send_result(output.value)
        if result.sendable_at is None:
            continue
        blocked = DEFAULT_QUIET_HOURS.blocked(recipient_of(result.phone), result.decided_at)
        if blocked is None or blocked.sendable_at != result.sendable_at:
            tally.fail(f"{result.request_id}: held at {result.decided_at}, not quiet hours")
        request = inputs.get(result.request_id)
        if request is not None and request.kind.value != "campaign":
            tally.fail(f"{result.request_id}: a {request.kind} send was held")
        tally.add("campaign sends held for quiet hours (Held, sendable_at)")
        phones.add(result.phone)
    return phones


def _check_release(records: list[InputRecord], outputs: list[OutputRecord],
                   tally: Tally) -> None:
    for record in records:
        tick = codec.decode_command(record.value or b"")
        if tick.type.value != "expire_window":
            tally.fail(f"the morning step has a {tick.type}")
    for output in outputs:
        if output.topic is Topic.SEND_RESULTS and output.value is not None:
            result = codec.decode_send_result(output.value)
            tally.add(f"released in the morning: {result.status}"
                      + (f" / {result.debug}" if result.debug else ""))


def _strip(record: str, obj: Any) -> Any:
    """An encoding by today's codec, spelled as the old codec wrote it."""
    if not isinstance(obj, dict):
        return obj
    obj = dict(obj)
    if record == "send-result" and obj.get("schema_version") == 2:
        obj["schema_version"] = 1
        if obj.get("sendable_at", 0) is None:
            del obj["sendable_at"]
    elif record == "consent-event":
        for name in EVIDENCE:
            if obj.get(name, 0) is None:
                del obj[name]
    elif record == "consent-state" and obj.get("held_until", 0) is None:
        del obj["held_until"]
    return obj


def compare_codec(old_codec: Path, tally: Tally) -> None:
    """Today's codec on the old corpus' values: the same verdict, or the additions only."""
    for case in read_codec_corpus(old_codec):
        record, value = case[0], case[1]
        now = orjson.loads(codec_line(record, value))
        now[1], now[2] = _unb64(now[1]), _unb64(now[2])
        if now == case:
            tally.add(f"codec case unchanged: {record}")
            continue
        old_encoded, new_encoded = case[2], now[2]
        if old_encoded is not None and new_encoded is not None and _strip(
                record, orjson.loads(new_encoded)) == orjson.loads(old_encoded):
            tally.add(f"codec case re-encoded with the additions: {record}")
        elif (record == "send-result" and (case[3], case[4]) == (now[3], now[4])
              and now[5].replace("supported: 1, 2", "supported: 1") == case[5]):
            tally.add("codec case: send-result reason names the versions read (1, 2)")
        elif (record == "send-result" and (case[3], case[4]) == (now[3], now[4])
              and now[5].replace(", 'Frequency Cap'", "") == case[5]):
            tally.add("codec case: send-result reason lists the debug value Frequency Cap")
        else:
            tally.fail(f"codec case {record}: {case[2:]} -> {now[2:]}")


def main(argv: list[str]) -> int:
    old_pipeline, new_pipeline, old_codec = (Path(a) for a in argv)
    tally = Tally()
    compare_pipeline(old_pipeline, new_pipeline, tally)
    compare_codec(old_codec, tally)
    for what, n in sorted(tally.counts.items()):
        print(f"{n:6}  {what}")
    for what in tally.unexplained[:40]:
        print(f"UNEXPLAINED  {what}")
    print(f"{len(tally.unexplained)} unexplained differences")
    return 1 if tally.unexplained else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
