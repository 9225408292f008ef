"""A deterministic, realistic mix of input records for the benchmark.

About 70% send requests, 25% inbound texts (mostly ordinary chat, a few STOP/START/HELP) and
5% commands, spread over tens of thousands of valid US phone numbers. The same seed always
gives the same bytes, so the relay and every worker trial read identical records.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import phonenumbers

from processor import codec
from processor.domain.gateways.config import API_PERMISSION, MANUAL_PERMISSION, Gateways
from processor.domain.gateways.parsing import parse_gateways
from processor.domain.models.enums import CommandType, ImportStatus, SendKind
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.pipeline import InputRecord
from processor.topics import Topic

START_MS = 1_795_992_481_403  # 2026-11-24T22:48:01.403Z
# Milliseconds between consecutive records: about 140 records per second of traffic.
STEP_MS = 7

ALERTS = "acme-alerts"  # default mode: texts go out until the phone opts out
CARE = "acme-care"  # mandatory opt-in: only opted-in phones may be texted
CAMPAIGN_KEYWORD = "DEALS"

# Two gateways, as `gateways.yaml` would configure them. No mode here opens confirmation
# windows, so the worker's timer adds no records to the input topics during a run.
GATEWAYS_CONFIG: dict[str, Any] = {
    "defaults": {"brand": "Acme", "program": "Acme Alerts",
                 "help_contact": "help@acme.example", "owner": "owner@acme.example",
                 "default_region": "US", "keywords": {"campaign": [CAMPAIGN_KEYWORD, "NEWS"]}},
    "gateways": {ALERTS: {"mode": "default", "number": "12345"},
                 CARE: {"mode": "mandatory", "number": "+12025550100"}},
}

# Area codes of the phone pool: 10,000 numbers in the 555 exchange each.
_AREA_CODES = ("202", "212", "213", "312", "415", "617", "646", "718", "305", "404")
_PER_AREA = 10_000
MAX_PHONES = len(_AREA_CODES) * _PER_AREA

_CHAT = (
    "ok", "Thanks!", "see you soon", "On my way", "k", "Sure", "Who is this?",
    "Sounds good, talk later", "Running late, sorry", "What time is the game tomorrow?",
    "Can you pick up milk on the way home?", "I'll be there in 10 minutes",
    "Did you get my email about the meeting?", "Is the store open until 9?",
    "The package arrived this morning, thank you so much!", "Where are you parked?",
    "Can we move it to Thursday?", "Perfect 👍", "Is the appointment still at 2pm tomorrow?",
    "I sent the payment, let me know if it went through", "How much is the deposit?",
    "Can you stop by the office later?", "Yes I'll be there at 10", "Thank you for the reminder",
)
_STOPS = ("STOP", "Stop", "stop", "STOP.", "Unsubscribe", "stop please", "Cancel")
_STARTS = ("START", "Start", "UNSTOP")
_HELPS = ("HELP", "Help", "help?")

_SEND_BODIES = (
    "Your order #{n} has shipped and arrives on Friday.",
    "Acme: your verification code is {n}. It expires in 10 minutes.",
    "Reminder: your appointment with Dr. Rivera is tomorrow at 2:30pm. Reply C to confirm or "
    "call 202-555-0100 to reschedule.",
    "Spring sale! 20% off everything in store and online until Sunday with code SPRING{n}. "
    "Msg&data rates may apply. Reply STOP to opt out.",
    "Hi, this is Sam from Acme support following up on ticket {n}. Is there anything else we "
    "can help you with today?",
    "Your payment of $42.{n} was received. Thank you!",
)
_PEOPLE = ("alice@acme.example", "bob@acme.example", "shop-api", "billing-service")


@dataclass(frozen=True, slots=True)
class BenchRecord:
    """One pre-produced input record: what the producer sends and the worker decides."""

    topic: Topic
    key: bytes
    value: bytes
    timestamp: int


@dataclass(frozen=True, slots=True)
class Workload:
    records: tuple[BenchRecord, ...]
    phones: int
    request_ids: frozenset[str]
    command_ids: frozenset[str]
    keyword_texts: int  # inbound STOP/START/HELP among the texts

    def by_topic(self) -> dict[str, int]:
        """Record counts per logical topic, for the report."""
        return {str(topic): n for topic, n in Counter(r.topic for r in self.records).items()}

    def input_records(self, partition: int = 0) -> Iterator[InputRecord]:
        """The records as the worker hands them to BatchProcessor (all on one partition)."""
        offsets: Counter[Topic] = Counter()
        for record in self.records:
            yield InputRecord(record.topic, partition, offsets[record.topic], record.key,
                              record.value, record.timestamp, source=str(record.topic))
            offsets[record.topic] += 1


def bench_gateways() -> Gateways:
    """The gateways of GATEWAYS_CONFIG, as the worker loads them from the YAML file."""
    return parse_gateways(GATEWAYS_CONFIG)


def phone_number(index: int) -> str:
    """The index-th phone of the pool: ``+1<area>555<4 digits>``."""
    return f"+1{_AREA_CODES[index // _PER_AREA]}555{index % _PER_AREA:04d}"


def build_workload(n: int, phones: int, seed: int = 2025) -> Workload:
    """``n`` input records over ``phones`` distinct phones, reproducibly."""
    if not 0 < phones <= MAX_PHONES:
        raise ValueError(f"phones must be in 1..{MAX_PHONES}")
    rng = random.Random(seed)
    pool = [phone_number(index) for index in rng.sample(range(MAX_PHONES), phones)]
    invalid = [p for p in pool if not phonenumbers.is_valid_number(phonenumbers.parse(p))]
    if invalid:
        raise ValueError(f"not valid phone numbers: {invalid[:5]}")
    # Most phones belong to the alerts gateway; a fifth to the mandatory-opt-in one.
    home = {phone: CARE if rng.random() < 0.2 else ALERTS for phone in pool}
    records: list[BenchRecord] = []
    request_ids: set[str] = set()
    command_ids: set[str] = set()
    keyword_texts = 0
    for index in range(n):
        phone = rng.choice(pool)
        at = START_MS + index * STEP_MS
        draw = rng.random()
        if draw < 0.70:
            request = _send_request(rng, index, phone, home[phone], at)
            request_ids.add(request.request_id)
            record = BenchRecord(Topic.SEND_REQUESTS, codec.encode_key(phone),
                                 codec.encode_send_request(request), at)
        elif draw < 0.95:
            body = _text_body(rng)
            keyword_texts += body not in _CHAT
            message = InboundMessage(
                message_id=f"SM{seed:08x}{index:024x}", phone=phone, to="12345",
                gateway=home[phone], body=body, received_at=at, carrier="Verizon Wireless",
                provider="twilio", media_count=0)
            record = BenchRecord(Topic.INBOUND, codec.encode_key(phone),
                                 codec.encode_inbound(message), at)
        else:
            command = _command(rng, index, phone, home[phone], at)
            command_ids.add(command.command_id)
            record = BenchRecord(Topic.COMMANDS, codec.encode_key(phone),
                                 codec.encode_command(command), at)
        records.append(record)
    return Workload(tuple(records), phones, frozenset(request_ids), frozenset(command_ids),
                    keyword_texts)


def _text_body(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.94:
        return rng.choice(_CHAT)
    if draw < 0.97:
        return rng.choice(_STOPS)
    return rng.choice(_STARTS if draw < 0.985 else _HELPS)


def _send_request(rng: random.Random, index: int, phone: str, gateway: str,
                  at: int) -> SendRequest:
    kind = rng.choices(list(SendKind), weights=(3, 3, 4))[0]
    campaign = keyword = None
    if kind is SendKind.CAMPAIGN:
        campaign = "Spring sale"
        # A quarter of campaign sends are keyword-scoped (need an opt-in to the keyword).
        keyword = CAMPAIGN_KEYWORD if rng.random() < 0.25 else None
    body = rng.choice(_SEND_BODIES).format(n=rng.randrange(10_000))
    return SendRequest(
        request_id=f"req-{index:08d}", phone=phone, gateway=gateway, body=body, kind=kind,
        requested_by=rng.choice(_PEOPLE), created_at=at, campaign=campaign, keyword=keyword)


def _command(rng: random.Random, index: int, phone: str, gateway: str, at: int) -> Command:
    command_id = f"cmd-{index:08d}"
    draw = rng.random()
    if draw < 0.40:
        return Command(command_id=command_id, type=CommandType.API_OPT_IN, phone=phone,
                       actor="crm-sync", created_at=at, gateway=gateway,
                       permissions=(API_PERMISSION,))
    if draw < 0.70:
        return Command(command_id=command_id, type=CommandType.IMPORT, phone=phone,
                       actor="import-2026-11.csv", created_at=at, gateway=gateway,
                       import_status=ImportStatus.ACTIVE)
    if draw < 0.90:
        return Command(command_id=command_id, type=CommandType.MANUAL_OPT_OUT, phone=phone,
                       actor="bob@acme.example", created_at=at, gateway=gateway,
                       permissions=(MANUAL_PERMISSION,), reason="asked on the phone")
    if draw < 0.95:
        return Command(command_id=command_id, type=CommandType.API_OPT_OUT, phone=phone,
                       actor="crm-sync", created_at=at, gateway=gateway,
                       permissions=(API_PERMISSION,))
    return Command(command_id=command_id, type=CommandType.GLOBAL_OPT_OUT_SET, phone=phone,
                   actor="compliance@acme.example", created_at=at, reason="litigator list")
