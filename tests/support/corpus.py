"""A recorded corpus: deterministic input batches and the exact output bytes the pipeline gave.

``build_steps`` makes the inputs (every input record kind, every gateway mode, consent, command
and send rules, national spellings, dead letters of every error type the pipeline can raise,
duplicates and replays of whole batches). ``python -m tests.support.corpus`` runs them through
``BatchProcessor`` with the real Redis store (``REDIS_URL``) and writes
``tests/data/pipeline_corpus.jsonl.gz``; ``tests/integration/test_corpus.py`` replays it and
demands byte-identical outputs. The file was recorded with the codec as it was before records
became msgspec Structs (issue 14), so it holds later codecs to the old bytes.

Inputs are stored as bytes, so the corpus does not depend on the encoder that made them; the
steps that follow window expiries are derived from the outputs while recording.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from processor import codec
from processor.adapters.redis_store import RedisConsentStore
from processor.domain.gateways.config import API_PERMISSION, MANUAL_PERMISSION, Gateways
from processor.domain.gateways.parsing import parse_gateways
from processor.domain.models.enums import CommandType, ConsentStatus, ImportStatus, SendKind
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.pipeline import BatchProcessor, InputRecord, OutputRecord
from processor.ports import ManualClock
from processor.topics import Topic

CORPUS = Path(__file__).resolve().parents[1] / "data" / "pipeline_corpus.jsonl.gz"
CODEC_CORPUS = Path(__file__).resolve().parents[1] / "data" / "codec_corpus.jsonl.gz"
START = 1_800_000_000_000
MINUTE = 60_000

CONFIG: dict[str, Any] = {
    "defaults": {"brand": "Acme", "program": "Acme Alerts", "help_contact": "help@acme.example",
                 "keywords": {"campaign": ["VOLUNTEER", "DONATE2026"]}},
    "gateways": {
        "gw-default": {"mode": "default"},
        "gw-mandatory": {"mode": "mandatory", "owner": "owner@acme.example"},
        "gw-doi": {"mode": "double_opt_in", "pending_window": "10m"},
        "gw-cr": {"mode": "consent_request", "sender_name": "Dana Lee",
                  "owner": "frontdesk@acme.example", "pending_window": "15m"},
        "gw-cr-new": {"mode": "consent_request", "consent_request_to_new_numbers": True,
                      "pending_window": "5m"},
        "gw-disclaimer": {"mode": "disclaimer"},
        "gw-scoped": {"mode": "default", "keyword_scoped": True},
        "gw-incoming": {"mode": "mandatory", "create_opt_in_on_incoming": True},
        "gw-uk": {"mode": "default", "default_region": "GB",
                  "keywords": {"opt_out": ["ARRET"], "verification": "OUI",
                               "languages": ["en", "fr"]}},
        "gw-noregion": {"mode": "default"},
    },
}
for _gid, _gateway in CONFIG["gateways"].items():
    if _gid not in {"gw-uk", "gw-noregion"}:
        _gateway["default_region"] = "US"
GATEWAY_IDS = list(CONFIG["gateways"])
US_PHONES = [f"+1202555{n:04d}" for n in range(120, 136)]
UK_PHONES = ["+447400123456", "+447400123457"]
TEXTS = ["STOP", "stop", "Stop.", "STOP VOLUNTEER", "START", "UNSTOP", "YES", "yes", "OUI",
         "HELP", "INFO", "VOLUNTEER", "volunteer", "DONATE2026", "please stop texting me",
         "ALTO", "ARRET", "arrêt", "PARE", "Thanks, see you then", "", "Who is this?",
         "STOP DONATE2026", "UNSUBSCRIBE", "cancel", "END", "QUIT", "ok 👍"]
KEYWORDS = [None, None, None, "VOLUNTEER", "volunteer", "DONATE2026", "niños  2026", "NEWS"]
PEOPLE = ["alice@acme.example", "bob@acme.example", "shop-api"]


def gateways() -> Gateways:
    return parse_gateways(CONFIG)


@dataclass
class Step:
    """One batch of one partition, decided at ``now``."""

    now: int
    partition: int
    records: list[InputRecord]
    outputs: list[OutputRecord] | None = None
    stats: tuple[int, int, int] | None = None


def _time(rng: random.Random, ms: int) -> str:
    """An RFC 3339 spelling of ``ms``: canonical, or with an offset, fraction or lower case."""
    text = codec.format_time(ms)
    draw = rng.random()
    if draw < 0.6:
        return text
    if draw < 0.7:
        return text[:19] + "Z"
    if draw < 0.8:
        return text.replace("T", "t").replace("Z", "z")
    if draw < 0.9:
        return text[:23] + "999999-00:00"
    # The same instant five hours west.
    hour = int(text[11:13])
    if hour >= 5:
        return f"{text[:11]}{hour - 5:02d}{text[13:23]}-05:00"
    return text


def _spell(rng: random.Random, phone: str, gateway: str) -> str:
    """The phone as an upstream might spell it (national forms only where a region exists)."""
    if rng.random() < 0.7 or gateway == "gw-noregion":
        return phone
    if phone.startswith("+1"):
        digits = phone[2:]
        return rng.choice([f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                           f"{digits[:3]}.{digits[3:6]}.{digits[6:]}", f"+1 {digits}"])
    if gateway == "gw-uk":
        return "0" + phone[3:7] + " " + phone[7:]
    return phone


class Inputs:
    """Builds input records with deterministic ids and offsets."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.offsets: dict[tuple[Topic, int], int] = {}
        self.serial = 0
        self.sent: list[InputRecord] = []

    def record(self, topic: Topic, partition: int, key: bytes | None, value: bytes | None,
               timestamp: int, headers: tuple[tuple[str, bytes], ...] = ()) -> InputRecord:
        offset = self.offsets.get((topic, partition), 0)
        self.offsets[(topic, partition)] = offset + 1
        made = InputRecord(topic, partition, offset, key, value, timestamp, headers,
                           source=f"corpus.{topic.value}")
        self.sent.append(made)
        return made

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial:05d}"

    def phone(self, gateway: str) -> str:
        pool = UK_PHONES if gateway == "gw-uk" and self.rng.random() < 0.7 else US_PHONES
        return self.rng.choice(pool)

    def inbound(self, now: int, partition: int) -> InputRecord:
        rng = self.rng
        gateway = rng.choice(GATEWAY_IDS)
        phone = self.phone(gateway)
        message = InboundMessage(
            message_id=self.next_id("m"), phone=phone, to=rng.choice(["12345", "+12025550100"]),
            gateway=gateway, body=rng.choice(TEXTS), received_at=now - rng.randrange(5000),
            carrier=rng.choice([None, "Verizon Wireless"]), provider=rng.choice([None, "twilio"]),
            media_count=rng.choice([None, 0, 2]))
        if rng.random() < 0.5:
            value = codec.encode_inbound(message)
        else:
            raw: dict[str, Any] = {
                "schema_version": 1, "message_id": message.message_id,
                "from": _spell(rng, phone, gateway), "to": message.to, "gateway": gateway,
                "body": message.body, "received_at": _time(rng, message.received_at)}
            if rng.random() < 0.3:
                raw["carrier"] = None
                raw["x-provider-extra"] = {"id": rng.randrange(1000)}
            if rng.random() < 0.2:
                raw["media_count"] = 1.0  # an integral number counts as an integer
            items = list(raw.items())
            rng.shuffle(items)
            value = orjson.dumps(dict(items))
        return self.record(Topic.INBOUND, partition, phone.encode(), value, now)

    def send(self, now: int, partition: int) -> InputRecord:
        rng = self.rng
        gateway = rng.choice(GATEWAY_IDS)
        phone = self.phone(gateway)
        kind = rng.choice(list(SendKind))
        keyword = rng.choice(KEYWORDS)
        request = SendRequest(
            request_id=self.next_id("r"), phone=phone, gateway=gateway,
            body=rng.choice(["Hello from Acme", "Your code is 1234", "Sale! 20% off"]),
            kind=kind, requested_by=rng.choice(PEOPLE), created_at=now - rng.randrange(5000),
            campaign="Spring" if kind is SendKind.CAMPAIGN else None,
            keyword=keyword if keyword is None else keyword.upper().replace("Ñ", "N"))
        if rng.random() < 0.5 and keyword == request.keyword:
            value = codec.encode_send_request(request)
        else:
            raw: dict[str, Any] = {
                "schema_version": 1, "request_id": request.request_id,
                "to": _spell(rng, phone, gateway), "gateway": gateway, "body": request.body,
                "kind": kind.value, "requested_by": request.requested_by,
                "created_at": _time(rng, request.created_at), "keyword": keyword,
                "campaign": request.campaign, "priority": "high"}
            value = orjson.dumps(raw)
        return self.record(Topic.SEND_REQUESTS, partition, phone.encode(), value, now)

    def command(self, now: int, partition: int) -> InputRecord:
        rng = self.rng
        kind = rng.choice([k for k in CommandType if k is not CommandType.EXPIRE_WINDOW])
        gateway = rng.choice(GATEWAY_IDS)
        phone = self.phone(gateway)
        gatewayless = kind in {CommandType.GLOBAL_OPT_OUT_SET, CommandType.GLOBAL_OPT_OUT_CLEAR,
                               CommandType.NUMBER_CHANGED}
        permissions = rng.choice([(), (MANUAL_PERMISSION,), (API_PERMISSION,),
                                  (MANUAL_PERMISSION, API_PERMISSION)])
        command = Command(
            command_id=self.next_id("c"), type=kind, phone=phone, actor=rng.choice(PEOPLE),
            created_at=now - rng.randrange(5000),
            gateway=rng.choice([None, gateway]) if gatewayless else gateway,
            keyword=rng.choice([None, None, "VOLUNTEER", "DONATE2026"]),
            permissions=permissions,
            import_status=rng.choice(list(ImportStatus)) if kind is CommandType.IMPORT else None,
            new_phone=rng.choice([None, rng.choice(US_PHONES)])
            if kind is CommandType.NUMBER_CHANGED else None,
            reason=rng.choice([None, "asked on the phone"]))
        return self.record(Topic.COMMANDS, partition, phone.encode(),
                           codec.encode_command(command), now)

    def expire(self, now: int, partition: int, phone: str, gateway: str, keyword: str | None,
               until: int) -> InputRecord:
        tick = Command(command_id=self.next_id("tick"), type=CommandType.EXPIRE_WINDOW,
                       phone=phone, actor="window-timer", created_at=now, gateway=gateway,
                       keyword=keyword, until=until)
        return self.record(Topic.COMMANDS, partition, phone.encode(), codec.encode_command(tick),
                           now)


# Invalid and odd records -------------------------------------------------------------------

_EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
_INPUT_TOPICS = {"inbound": Topic.INBOUND, "send-request": Topic.SEND_REQUESTS,
                 "command": Topic.COMMANDS}

_VALID_INBOUND = {"schema_version": 1, "message_id": "bad-0", "from": "+12025550123",
                  "to": "12345", "gateway": "gw-default", "body": "STOP",
                  "received_at": "2026-11-24T22:48:01.403Z"}
_VALID_SEND = {"schema_version": 1, "request_id": "bad-0", "to": "+12025550123",
               "gateway": "gw-default", "body": "hi", "kind": "campaign",
               "requested_by": "alice", "created_at": "2026-11-24T22:48:01.403Z"}
_VALID_COMMAND = {"schema_version": 1, "command_id": "bad-0", "type": "manual_opt_out",
                  "gateway": "gw-default", "phone": "+12025550123", "actor": "bob",
                  "created_at": "2026-11-24T22:48:01.403Z", "permissions": ["manual_opt_in_out"]}

# (base record, changes): None as a change deletes the field. Several changes at once test
# which error is reported first.
_EDITS: list[dict[str, Any]] = [
    {"message_id": None}, {"message_id": ""}, {"message_id": "x" * 129}, {"message_id": 12},
    {"message_id": None, "body": 3}, {"body": 3, "message_id": None},
    {"from": "+15555550123"}, {"from": "+15555550123", "body": None},
    {"body": None, "from": "not a phone"}, {"from": "2025550123", "gateway": "gw-noregion"},
    {"from": "(202) 555-0123", "gateway": "unknown-gw"}, {"from": None}, {"from": 12025550123},
    {"to": "short code!"}, {"to": "1"}, {"gateway": "gw default"}, {"gateway": "gw|x"},
    {"gateway": "-gw"}, {"gateway": "g" * 65}, {"gateway": "gw1\n"}, {"body": "x" * 65537},
    {"received_at": "2026-11-24 22:48:01Z"}, {"received_at": "2026-02-30T10:00:00Z"},
    {"received_at": "2026-11-24T22:48:01"}, {"received_at": 1767261600000},
    {"received_at": "2026-01-01T10:00:60Z"}, {"received_at": "0001-01-01T00:00:00+01:00"},
    {"media_count": -1}, {"media_count": 1001}, {"media_count": "2"}, {"media_count": 2.5},
    {"media_count": True}, {"media_count": 1e300}, {"carrier": "c" * 129}, {"carrier": 5},
    {"schema_version": None}, {"schema_version": 2}, {"schema_version": 1.5},
    {"schema_version": "1"}, {"schema_version": True}, {"schema_version": 1.0},
    {"schema_version": 7, "from": "bad"}, {"body": None, "received_at": "bad"},
    {"message_id": None, "from": None, "to": None}, {"to": "+1 (202) 555-0123"},
]
_SEND_EDITS: list[dict[str, Any]] = [
    {"kind": "bulk"}, {"kind": None}, {"kind": 1}, {"body": ""}, {"body": "x" * 4097},
    {"keyword": "a|b"}, {"keyword": ""}, {"keyword": "ß" * 40}, {"keyword": "x" * 65},
    {"keyword": "straße"}, {"campaign": ""}, {"campaign": "c" * 129}, {"requested_by": ""},
    {"to": "+44 7400 123456"}, {"to": "07400 123456"}, {"to": "07400 123456", "gateway": "gw-uk"},
    {"created_at": "2026-11-24T22:48:01.1234567891Z"}, {"created_at": "2026-13-01T00:00:00Z"},
    {"request_id": ["r"]}, {"keyword": None, "campaign": None}, {"gateway": "*"},
    {"to": None, "kind": "bulk"}, {"kind": "bulk", "to": "+15555550123"},
]
_COMMAND_EDITS: list[dict[str, Any]] = [
    {"type": "unknown"}, {"gateway": None}, {"type": "import"},
    {"type": "import", "import_status": "Active"}, {"type": "import", "import_status": "active"},
    {"import_status": "Active"}, {"new_phone": "+12025550124"},
    {"type": "number_changed", "gateway": None, "new_phone": "+12025550124"},
    {"type": "number_changed", "gateway": None, "new_phone": "+15555550123"},
    {"type": "expire_window"}, {"until": "2026-11-25T22:58:00.020Z"},
    {"type": "expire_window", "until": "2026-11-25T22:58:00.020Z"},
    {"type": "expire_window", "until": "bad"}, {"permissions": "manual_opt_in_out"},
    {"permissions": [""]}, {"permissions": ["p" * 129]}, {"permissions": [1]},
    {"permissions": None}, {"reason": ""}, {"reason": "r" * 1025}, {"actor": "a" * 257},
    {"keyword": "volunteer"}, {"keyword": "ß" * 33}, {"gateway": None, "keyword": "ß" * 33},
    {"type": "import", "phone": "bad", "gateway": None}, {"type": "global_opt_out_set",
                                                          "gateway": None},
    {"phone": "+15555550123", "type": "import"}, {"type": "expire_window", "new_phone": 5},
]


def _edited(base: dict[str, Any], changes: dict[str, Any], record_id: str,
            id_field: str) -> bytes:
    obj = dict(base)
    obj[id_field] = record_id
    for name, value in changes.items():
        if value is None and name in obj and name not in {"carrier", "keyword", "campaign",
                                                          "gateway", "permissions"}:
            del obj[name]
        else:
            obj[name] = value
    return orjson.dumps(obj)


def invalid_records(inputs: Inputs, now: int, partition: int) -> list[InputRecord]:
    """Records the codec refuses (every error type), and a few it accepts on the edge."""
    made: list[InputRecord] = []
    key = b"+12025550123"
    for record, topic in _INPUT_TOPICS.items():
        for path in sorted((_EXAMPLES / record).glob("*.json")):
            made.append(inputs.record(topic, partition, key, path.read_bytes(), now))
    for index, changes in enumerate(_EDITS):
        made.append(inputs.record(Topic.INBOUND, partition, key, _edited(
            _VALID_INBOUND, changes, f"bad-m{index}", "message_id"), now))
    for index, changes in enumerate(_SEND_EDITS):
        made.append(inputs.record(Topic.SEND_REQUESTS, partition, key, _edited(
            _VALID_SEND, changes, f"bad-r{index}", "request_id"), now))
    for index, changes in enumerate(_COMMAND_EDITS):
        made.append(inputs.record(Topic.COMMANDS, partition, key, _edited(
            _VALID_COMMAND, changes, f"bad-c{index}", "command_id"), now))
    stop = orjson.dumps(_VALID_INBOUND | {"message_id": "raw-1"})
    headers = (("trace", b"abc"), ("empty", b""), ("bin", bytes(range(250, 256))))
    made += [
        inputs.record(Topic.INBOUND, partition, key, None, now),  # a tombstone
        inputs.record(Topic.INBOUND, partition, None, b"", now),
        inputs.record(Topic.INBOUND, partition, key, b"STOP", now, headers),
        inputs.record(Topic.INBOUND, partition, key, b"\xff\xfe{}", now),
        inputs.record(Topic.INBOUND, partition, key, stop[:-1] + b',"note":"caf\xe9"}', now),
        inputs.record(Topic.INBOUND, partition, key, stop[:-1], now),
        inputs.record(Topic.INBOUND, partition, key, b"[1, 2]", now),
        inputs.record(Topic.INBOUND, partition, key, b'"STOP"', now),
        inputs.record(Topic.INBOUND, partition, key, b"null", now),
        inputs.record(Topic.INBOUND, partition, key, b" {} ", now),
        inputs.record(Topic.INBOUND, partition, key,
                      b'{"schema_version":1,"message_id":"dup-key","message_id":"","from":'
                      b'"+12025550123","to":"12345","gateway":"gw-default","body":"hi",'
                      b'"received_at":"2026-11-24T22:48:01Z"}', now),
        inputs.record(Topic.INBOUND, partition, key,
                      b'{"schema_version":1,"message_id":"","message_id":"dup-key-2","from":'
                      b'"+12025550123","to":"12345","gateway":"gw-default","body":"hi",'
                      b'"received_at":"2026-11-24T22:48:01Z"}', now),
        inputs.record(Topic.INBOUND, partition, key,
                      b'{"schema_version":1,"message_id":"esc","from":"+12025550123","to":'
                      b'"12345","gateway":"gw-default","body":"\\u0053TOP \\ud83d\\ude00 \\/",'
                      b'"received_at":"2026-11-24T22:48:01Z"}', now),
        inputs.record(Topic.INBOUND, partition, key, orjson.dumps(
            _VALID_INBOUND | {"message_id": "huge", "body": "x" * 70_000}), now),
        inputs.record(Topic.INBOUND, partition, key, orjson.dumps(
            _VALID_INBOUND | {"message_id": "long-stop", "body": "STOP " + "y" * 60_000}), now),
        inputs.record(Topic.OUTBOUND, partition, key, stop, now),  # not an input topic
    ]
    return made


def reused_ids(inputs: Inputs, now: int, partition: int) -> list[InputRecord]:
    """Ids decided once, arriving again with other content (and once with the same)."""
    made = []
    for index, body in enumerate(["STOP", "START", "STOP"]):
        made.append(inputs.record(Topic.INBOUND, partition, b"+12025550130", orjson.dumps(
            _VALID_INBOUND | {"message_id": "reuse-m", "from": "+12025550130", "body": body,
                              "received_at": codec.format_time(now - index)}), now))
    for body in ["one", "two", "one"]:
        made.append(inputs.record(Topic.SEND_REQUESTS, partition, b"+12025550130", orjson.dumps(
            _VALID_SEND | {"request_id": "reuse-r", "to": "+12025550130", "body": body}), now))
    for actor in ["bob", "eve"]:
        made.append(inputs.record(Topic.COMMANDS, partition, b"+12025550130", orjson.dumps(
            _VALID_COMMAND | {"command_id": "reuse-c", "phone": "+12025550130",
                              "actor": actor}), now))
    return made


def build_first_steps(seed: int = 14) -> tuple[Inputs, list[Step]]:
    """The steps that do not depend on outputs: random traffic over two partitions."""
    inputs = Inputs(seed)
    rng = inputs.rng
    steps: list[Step] = []
    now = START
    for index in range(36):
        now += rng.randrange(0, 4 * MINUTE)
        partition = index % 2
        batch = []
        for _ in range(rng.randrange(10, 60)):
            draw = rng.random()
            if draw < 0.45:
                batch.append(inputs.send(now, partition))
            elif draw < 0.85:
                batch.append(inputs.inbound(now, partition))
            else:
                batch.append(inputs.command(now, partition))
        if index % 5 == 3 and len(inputs.sent) > 20:
            # Redeliveries: earlier records again, and a duplicate within the batch.
            batch += rng.sample(inputs.sent[:-len(batch)], 5)
            batch.append(batch[0])
        steps.append(Step(now, partition, batch))
    return inputs, steps


Output = tuple[str, bytes | None, bytes | None]


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def step_line(step: Step) -> bytes:
    assert step.outputs is not None and step.stats is not None
    return orjson.dumps({
        "now": step.now, "partition": step.partition,
        "records": [[r.topic.value, r.partition, r.offset, _b64(r.key), _b64(r.value),
                     r.timestamp, [[name, _b64(data)] for name, data in r.headers], r.source]
                    for r in step.records],
        "outputs": [[o.topic.value, _b64(o.key), _b64(o.value)] for o in step.outputs],
        "stats": list(step.stats)})


def read_corpus(path: Path = CORPUS) -> Iterator[Step]:
    with gzip.open(path, "rb") as f:
        for line in f:
            raw = json.loads(line)
            records = [InputRecord(Topic(r[0]), r[1], r[2], _unb64(r[3]), _unb64(r[4]), r[5],
                                   tuple((name, _unb64(data) or b"") for name, data in r[6]),
                                   r[7]) for r in raw["records"]]
            outputs = [OutputRecord(Topic(o[0]), _unb64(o[1]), _unb64(o[2]))
                       for o in raw["outputs"]]
            yield Step(raw["now"], raw["partition"], records, outputs, tuple(raw["stats"]))


async def run_step(processor: BatchProcessor, clock: ManualClock, step: Step) -> Step:
    clock.now = step.now
    outcome = await processor.process(step.records, step.partition)
    return Step(step.now, step.partition, step.records, list(outcome.outputs),
                (outcome.decided, outcome.replayed, outcome.invalid))


def _holds(steps: Sequence[Step]) -> dict[tuple[str, str, str | None], tuple[int, int]]:
    """Subscriptions holding sends for quiet hours after all steps: key -> (held_until,
    partition), from the consent-state outputs."""
    held: dict[tuple[str, str, str | None], tuple[int, int]] = {}
    for step in steps:
        for output in step.outputs or ():
            if output.topic is Topic.CONSENT_STATE and output.value is not None:
                sub = codec.decode_consent_state(output.value)
                assert sub is not None
                key = (sub.phone, sub.gateway, sub.keyword)
                if sub.held and sub.held_until is not None:
                    held[key] = (sub.held_until, step.partition)
                else:
                    held.pop(key, None)
    return held


def _open_windows(outputs: Sequence[OutputRecord]) -> dict[tuple[str, str, str | None], int]:
    windows: dict[tuple[str, str, str | None], int] = {}
    for output in outputs:
        if output.topic is Topic.CONSENT_STATE and output.value is not None:
            sub = codec.decode_consent_state(output.value)
            assert sub is not None
            key = (sub.phone, sub.gateway, sub.keyword)
            if (sub.status is ConsentStatus.OPT_IN_PENDING and not sub.window_closed
                    and sub.pending_until is not None):
                windows[key] = sub.pending_until
            else:
                windows.pop(key, None)
    return windows


async def record(processor: BatchProcessor, clock: ManualClock) -> list[Step]:
    """Runs every step, deriving the window expiries (and stale ticks) from the outputs."""
    inputs, first = build_first_steps()
    done: list[Step] = []
    windows: dict[tuple[str, str, str | None], tuple[int, int]] = {}
    now = START
    for index, step in enumerate(first):
        now = step.now
        due = sorted(((key, until, part) for key, (until, part) in windows.items()
                      if until <= now), key=lambda due: (*due[0][:2], due[0][2] or ""))
        for key, until, part in due:
            phone, gateway, keyword = key
            step.records.append(inputs.expire(now, part, phone, gateway, keyword, until))
            if index % 3 == 0:  # a stale tick: another close time
                step.records.append(inputs.expire(now, part, phone, gateway, keyword, until - 1))
            del windows[key]
        ran = await run_step(processor, clock, step)
        done.append(ran)
        for key, until in _open_windows(ran.outputs or []).items():
            windows[key] = (until, step.partition)
        if index == 10:
            done.append(await run_step(processor, clock, Step(now, 0, invalid_records(
                inputs, now, 0))))
            done.append(await run_step(processor, clock, Step(now, 1, reused_ids(
                inputs, now, 1))))
        if index == 20:  # a whole batch again, as after an aborted transaction
            again = done[-3]
            done.append(await run_step(processor, clock, Step(now, again.partition,
                                                              again.records)))
    # Late ticks for every window still open, after every window has closed.
    later = now + 60 * MINUTE
    for part in (0, 1):
        ticks = [inputs.expire(later, part, *key, until)
                 for key, (until, window_part) in sorted(
                     windows.items(), key=lambda item: (*item[0][:2], item[0][2] or ""))
                 if window_part == part]
        if ticks:
            done.append(await run_step(processor, clock, Step(later, part, ticks)))
    # Campaign sends held for quiet hours (issue 16) are released by the timer's ticks in the
    # morning: a last step, so the inputs recorded before it stay what they were.
    morning = START + 6 * 60 * MINUTE  # 14:00 UTC, 09:00 in Washington
    holds = _holds(done)
    for part in (0, 1):
        ticks = [inputs.expire(morning, part, *key, until)
                 for key, (until, hold_part) in sorted(
                     holds.items(), key=lambda item: (*item[0][:2], item[0][2] or ""))
                 if hold_part == part]
        if ticks:
            done.append(await run_step(processor, clock, Step(morning, part, ticks)))
    return done


# Codec cases: every record decoder on corpus records, examples and edited outputs ----------

_RECORD_FOR_TOPIC = {Topic.INBOUND: "inbound", Topic.SEND_REQUESTS: "send-request",
                     Topic.COMMANDS: "command", Topic.OUTBOUND: "outbound",
                     Topic.SEND_RESULTS: "send-result", Topic.CONSENT_EVENTS: "consent-event",
                     Topic.CONSENT_STATE: "consent-state", Topic.COMMAND_RESULTS: "command-result",
                     Topic.NOTICES: "notice", Topic.DEAD_LETTER: "dead-letter"}
_ODD_VALUES: list[Any] = [None, True, 0, 1, -1, 1.0, 1.5, 2**53, 2**63, "", " ", "*", "|", "a|b",
                          "gw1\n", "+12015550123", "+1555", "2015550123", "QQ==", "QQ=", "x" * 129,
                          "x" * 1025, "2026-11-24T22:48:01.403Z", "2026-11-24T22:48:01Z",
                          "Opt-In", "keyword", "help", "notice_expired", [], ["x"], {}, {"a": 1}]


def json_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every position in a JSON value whose content can be replaced or deleted."""
    children: Any = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, child in children:
        yield (*path, key)
        yield from json_paths(child, (*path, key))


def _edit_output(rng: random.Random, value: bytes) -> bytes:
    obj = orjson.loads(value)
    path = rng.choice(list(json_paths(obj)))
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    action = rng.random()
    if action < 0.2:
        del parent[path[-1]]
    elif action < 0.3 and isinstance(parent, dict):
        parent[rng.choice(["extra", "priority", "to", "phone"])] = rng.choice(_ODD_VALUES)
    else:
        parent[path[-1]] = rng.choice(_ODD_VALUES)
    return orjson.dumps(obj)


def codec_cases(steps: Sequence[Step], seed: int = 15) -> Iterator[tuple[str, bytes]]:
    """(record name, value) pairs: corpus inputs and outputs, examples, edited outputs."""
    rng = random.Random(seed)
    for step in steps:
        for r in step.records:
            if r.value is not None and r.topic in _RECORD_FOR_TOPIC:
                yield _RECORD_FOR_TOPIC[r.topic], r.value
        for o in step.outputs or ():
            if o.value is not None:
                yield _RECORD_FOR_TOPIC[o.topic], o.value
                if rng.random() < 0.5:
                    yield _RECORD_FOR_TOPIC[o.topic], _edit_output(rng, o.value)
    for path in sorted(_EXAMPLES.glob("*/*.json")):
        yield path.parent.name, path.read_bytes()


def codec_line(record: str, value: bytes) -> bytes:
    """What today's codec makes of ``value``: its re-encoding, or the error."""
    regions = gateways().regions
    try:
        decoded = codec.RECORDS[record].decode(value, regions)
    except codec.DecodeError as error:
        return orjson.dumps([record, _b64(value), None, error.error_type, error.field,
                             str(error)])
    return orjson.dumps([record, _b64(value), _b64(codec.RECORDS[record].encode(decoded)),
                         None, None, None])


def read_codec_corpus(path: Path = CODEC_CORPUS) -> Iterator[list[Any]]:
    with gzip.open(path, "rb") as f:
        for line in f:
            case = json.loads(line)
            case[1], case[2] = _unb64(case[1]), _unb64(case[2])
            yield case


async def _main() -> None:
    import redis.asyncio as aioredis

    from tests.support.stack import REDIS_URL, unique

    client = aioredis.Redis.from_url(REDIS_URL)
    prefix = unique("corpus")
    clock = ManualClock()
    processor = BatchProcessor(RedisConsentStore(client, prefix, retention_ms=3_600_000),
                               gateways(), clock)
    try:
        steps = await record(processor, clock)
    finally:
        from processor.adapters.redis_keys import delete_keys
        await delete_keys(client, f"{prefix}*")
        await client.aclose()
    CORPUS.parent.mkdir(exist_ok=True)
    with gzip.GzipFile(CORPUS, "wb", mtime=0) as f:
        for step in steps:
            f.write(step_line(step) + b"\n")
    with gzip.GzipFile(CODEC_CORPUS, "wb", mtime=0) as f:
        for record_name, value in codec_cases(steps):
            f.write(codec_line(record_name, value) + b"\n")
    records = sum(len(s.records) for s in steps)
    outputs = sum(len(s.outputs or ()) for s in steps)
    stats = [sum(s.stats[i] for s in steps if s.stats) for i in range(3)]
    print(f"{len(steps)} steps, {records} records, {outputs} outputs, "
          f"decided/replayed/invalid {stats}, {CORPUS.stat().st_size} bytes", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(_main())
