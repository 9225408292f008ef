"""The one generator of seeded input workloads: send requests, inbound texts and commands on
valid US phones, the same bytes for the same seed. Two mixes of it:

* ``REALISTIC`` (the benchmark): about 70% send requests of every kind, 25% texts (mostly
  ordinary chat, a few STOP/START/HELP) and 5% commands; each phone belongs to one of two
  configured gateways (``GATEWAYS_CONFIG``: default mode and mandatory opt-in), and no mode
  opens confirmation windows, so the worker's timer adds no input records during a run.
* ``CHURN`` (the fault tests): 60% one-to-one sends, 25% texts and 15% commands where opt-outs
  and opt-ins dominate, so phones change state often. No gateways file (every gateway in
  default mode, where a send never changes consent), and texting phones and commanded phones
  are disjoint: a phone's consent history is then a fold of one topic partition's records in
  their (always kept) order, whatever the interleaving of the three input topics
  (``tests/faults/exactly_once.py`` relies on both).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import phonenumbers
from aiokafka import AIOKafkaProducer

from processor import codec
from processor.domain.engine import Input
from processor.domain.gateways.config import API_PERMISSION, MANUAL_PERMISSION, Gateways
from processor.domain.gateways.parsing import parse_gateways
from processor.domain.models.enums import CommandType, ImportStatus, SendKind
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.pipeline import InputRecord
from processor.settings import Settings
from processor.topics import Topic

START_MS = 1_795_992_481_403  # 2026-11-24T22:48:01.403Z
# Milliseconds between consecutive records: about 140 records per second of traffic.
STEP_MS = 7

ALERTS = "acme-alerts"  # default mode: texts go out until the phone opts out
CARE = "acme-care"  # mandatory opt-in: only opted-in phones may be texted
CAMPAIGN_KEYWORD = "DEALS"

# The benchmark's two gateways, as `gateways.yaml` would configure them. Quiet hours are off:
# with them, which campaign sends are held would depend on the hour the benchmark runs (its
# phones span US time zones), and so would its figures.
GATEWAYS_CONFIG: dict[str, Any] = {
    "defaults": {"brand": "Acme", "program": "Acme Alerts", "quiet_hours": "off",
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
_CHURN_CHAT = "Thanks, see you then"
# Texts that are no keyword (counted apart in the benchmark's report).
CHAT = frozenset({*_CHAT, _CHURN_CHAT})

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
_REQUESTERS = ("alice@acme.example", "bob@acme.example", "shop-api", "billing-service")
_ACTORS = {
    CommandType.API_OPT_IN: "crm-sync", CommandType.API_OPT_OUT: "crm-sync",
    CommandType.NUMBER_CHANGED: "crm-sync", CommandType.IMPORT: "import-2026-11.csv",
    CommandType.MANUAL_OPT_IN: "bob@acme.example", CommandType.MANUAL_OPT_OUT: "bob@acme.example",
    CommandType.GLOBAL_OPT_OUT_SET: "compliance@acme.example",
    CommandType.GLOBAL_OPT_OUT_CLEAR: "compliance@acme.example",
}
_REASONS = {CommandType.MANUAL_OPT_OUT: "asked on the phone",
            CommandType.GLOBAL_OPT_OUT_SET: "litigator list"}
_GATEWAYLESS = {CommandType.GLOBAL_OPT_OUT_SET, CommandType.GLOBAL_OPT_OUT_CLEAR,
                CommandType.NUMBER_CHANGED}

_T = TypeVar("_T")

# A command of a mix: its type, import status and permissions, and its weight.
CommandShape = tuple[CommandType, ImportStatus | None, tuple[str, ...], float]


@dataclass(frozen=True)
class Mix:
    """What a workload is made of."""

    send_share: float
    text_share: float  # the rest are commands
    texts: tuple[tuple[str, float], ...]  # inbound bodies, weighted
    send_kinds: tuple[tuple[SendKind, float], ...]
    send_bodies: tuple[str, ...]  # ``{n}``: a random number
    commands: tuple[CommandShape, ...]
    gateways: tuple[tuple[str, float], ...]  # gateway ids, weighted
    # True: a phone keeps one gateway; False: each record draws one (a phone gets several).
    home_gateway: bool
    # True: texting phones, commanded phones and phones that are only texted to are apart.
    separate_roles: bool


def _spread(bodies: Sequence[str], share: float) -> tuple[tuple[str, float], ...]:
    return tuple((body, share / len(bodies)) for body in bodies)


REALISTIC = Mix(
    send_share=0.70, text_share=0.25,
    texts=(*_spread(_CHAT, 0.94),
           *_spread(("STOP", "Stop", "stop", "STOP.", "Unsubscribe", "stop please", "Cancel"),
                    0.03),
           *_spread(("START", "Start", "UNSTOP"), 0.015),
           *_spread(("HELP", "Help", "help?"), 0.015)),
    send_kinds=((SendKind.ONE_TO_ONE, 3), (SendKind.CAMPAIGN, 3), (SendKind.TRANSACTIONAL, 4)),
    send_bodies=_SEND_BODIES,
    commands=((CommandType.API_OPT_IN, None, (API_PERMISSION,), 40),
              (CommandType.IMPORT, ImportStatus.ACTIVE, (), 30),
              (CommandType.MANUAL_OPT_OUT, None, (MANUAL_PERMISSION,), 20),
              (CommandType.API_OPT_OUT, None, (API_PERMISSION,), 5),
              (CommandType.GLOBAL_OPT_OUT_SET, None, (), 5)),
    gateways=((ALERTS, 0.8), (CARE, 0.2)), home_gateway=True, separate_roles=False)

CHURN = Mix(
    send_share=0.60, text_share=0.25,
    texts=(("STOP", 4), ("START", 4), ("HELP", 1), ("stop please", 1), ("Unstop", 1),
           ("UNSUBSCRIBE", 1), ("yes", 1), (_CHURN_CHAT, 1)),
    send_kinds=((SendKind.ONE_TO_ONE, 1),),
    send_bodies=("Message {n}",),
    # The last one lacks its permission: rejected.
    commands=((CommandType.MANUAL_OPT_OUT, None, (MANUAL_PERMISSION,), 3),
              (CommandType.MANUAL_OPT_IN, None, (MANUAL_PERMISSION,), 3),
              (CommandType.API_OPT_OUT, None, (API_PERMISSION,), 1),
              (CommandType.API_OPT_IN, None, (API_PERMISSION,), 1),
              (CommandType.IMPORT, ImportStatus.ACTIVE, (), 1),
              (CommandType.IMPORT, ImportStatus.UNSUBSCRIBE, (), 1),
              (CommandType.GLOBAL_OPT_OUT_SET, None, (), 1),
              (CommandType.GLOBAL_OPT_OUT_CLEAR, None, (MANUAL_PERMISSION,), 1),
              (CommandType.NUMBER_CHANGED, None, (API_PERMISSION,), 1),
              (CommandType.MANUAL_OPT_IN, None, (), 1)),
    gateways=(("gw-a", 1), ("gw-b", 1)), home_gateway=False, separate_roles=True)


@dataclass(frozen=True, slots=True)
class WorkloadRecord:
    """One input record: what the producer sends and the worker decides."""

    topic: Topic
    key: bytes
    value: bytes
    timestamp: int


@dataclass(frozen=True)
class Workload:
    records: tuple[WorkloadRecord, ...]
    phones: int

    @cached_property
    def request_ids(self) -> frozenset[str]:
        return frozenset(i.request_id for i in self.inputs if isinstance(i, SendRequest))

    @cached_property
    def command_ids(self) -> frozenset[str]:
        return frozenset(i.command_id for i in self.inputs if isinstance(i, Command))

    @cached_property
    def keyword_texts(self) -> int:
        """Inbound texts that are not ordinary chat (STOP, START, HELP...)."""
        return sum(1 for i in self.inputs if isinstance(i, InboundMessage) and i.body not in CHAT)

    @cached_property
    def inputs(self) -> list[Input]:
        """The inputs as the worker reads them (decoded from the produced bytes)."""
        return [codec.decode_input(r.topic, r.value) for r in self.records]

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

    def split(self, at: int) -> tuple[Workload, Workload]:
        """The first `at` records and the rest, to produce at different times."""
        return (Workload(self.records[:at], self.phones),
                Workload(self.records[at:], self.phones))


def bench_gateways() -> Gateways:
    """The gateways of GATEWAYS_CONFIG, as the worker loads them from the YAML file."""
    return parse_gateways(GATEWAYS_CONFIG)


def phone_number(index: int) -> str:
    """The index-th phone of the pool: ``+1<area>555<4 digits>``."""
    return f"+1{_AREA_CODES[index // _PER_AREA]}555{index % _PER_AREA:04d}"


def build_workload(n: int, phones: int, seed: int = 2025, mix: Mix = REALISTIC) -> Workload:
    """``n`` input records of ``mix`` over ``phones`` distinct phones, reproducibly."""
    if not 0 < phones <= MAX_PHONES:
        raise ValueError(f"phones must be in 1..{MAX_PHONES}")
    rng = random.Random(seed)
    pool = [phone_number(index) for index in rng.sample(range(MAX_PHONES), phones)]
    invalid = [p for p in pool if not phonenumbers.is_valid_number(phonenumbers.parse(p))]
    if invalid:
        raise ValueError(f"not valid phone numbers: {invalid[:5]}")
    texters = commanded = pool
    if mix.separate_roles:  # 5/11 text, 5/11 get commands, 1/11 are only texted to
        fifth = len(pool) * 5 // 11
        texters, commanded = pool[:fifth], pool[fifth:2 * fifth]
        if not texters:
            raise ValueError("separate roles need at least 3 phones")
    gateway_ids = [g for g, _ in mix.gateways]
    gateway_weights = [w for _, w in mix.gateways]
    home = {phone: rng.choices(gateway_ids, gateway_weights)[0] for phone in pool}
    records = []
    for index in range(n):
        at = START_MS + index * STEP_MS
        draw = rng.random()
        topic = (Topic.SEND_REQUESTS if draw < mix.send_share else
                 Topic.INBOUND if draw < mix.send_share + mix.text_share else Topic.COMMANDS)
        phone = rng.choice({Topic.SEND_REQUESTS: pool, Topic.INBOUND: texters,
                            Topic.COMMANDS: commanded}[topic])
        gateway = (home[phone] if mix.home_gateway
                   else rng.choices(gateway_ids, gateway_weights)[0])
        if topic is Topic.SEND_REQUESTS:
            value = codec.encode_send_request(_send_request(rng, mix, index, phone, gateway, at))
        elif topic is Topic.INBOUND:
            value = codec.encode_inbound(InboundMessage(
                message_id=f"SM{seed:08x}{index:024x}", phone=phone, to="12345",
                gateway=gateway, body=_weighted(rng, mix.texts), received_at=at,
                carrier="Verizon Wireless", provider="twilio", media_count=0))
        else:
            value = codec.encode_command(_command(rng, mix, index, phone, gateway, at))
        records.append(WorkloadRecord(topic, codec.encode_key(phone), value, at))
    return Workload(tuple(records), phones)


def _weighted(rng: random.Random, table: Sequence[tuple[_T, float]]) -> _T:
    return rng.choices([item for item, _ in table], [weight for _, weight in table])[0]


def _send_request(rng: random.Random, mix: Mix, index: int, phone: str, gateway: str,
                  at: int) -> SendRequest:
    kind = _weighted(rng, mix.send_kinds)
    campaign = keyword = None
    if kind is SendKind.CAMPAIGN:
        campaign = "Spring sale"
        # A quarter of campaign sends are keyword-scoped (need an opt-in to the keyword).
        keyword = CAMPAIGN_KEYWORD if rng.random() < 0.25 else None
    body = rng.choice(mix.send_bodies).format(n=rng.randrange(10_000))
    return SendRequest(
        request_id=f"req-{index:08d}", phone=phone, gateway=gateway, body=body, kind=kind,
        requested_by=rng.choice(_REQUESTERS), created_at=at, campaign=campaign, keyword=keyword)


def _command(rng: random.Random, mix: Mix, index: int, phone: str, gateway: str,
             at: int) -> Command:
    kind, import_status, permissions, _ = rng.choices(
        mix.commands, [shape[3] for shape in mix.commands])[0]
    return Command(command_id=f"cmd-{index:08d}", type=kind, phone=phone, actor=_ACTORS[kind],
                   created_at=at, gateway=None if kind in _GATEWAYLESS else gateway,
                   permissions=permissions, import_status=import_status,
                   reason=_REASONS.get(kind))


# Producing -----------------------------------------------------------------------------------


async def produce_paced(producer: AIOKafkaProducer, settings: Settings, workload: Workload,
                        per_second: float, *, ticks_per_second: int = 10) -> float:
    """Produces the workload in order at a steady rate (so the run outlasts a fault
    schedule); returns the seconds it took. One producer keeps each partition's order. The
    records get the broker's time, as the input topics are configured to."""
    chunk = max(1, round(per_second / ticks_per_second))
    started = time.monotonic()
    for tick, first in enumerate(range(0, len(workload.records), chunk)):
        sent = [await producer.send(settings.topics(r.topic), r.value, key=r.key)
                for r in workload.records[first:first + chunk]]
        await asyncio.gather(*sent)
        await asyncio.sleep(max(0.0, started + (tick + 1) / ticks_per_second - time.monotonic()))
    return time.monotonic() - started


@asynccontextmanager
async def producing(producer: AIOKafkaProducer, settings: Settings, workload: Workload,
                    per_second: float) -> AsyncIterator[asyncio.Task[float]]:
    """`produce_paced` as a background task; await the task to know it finished. A test that
    fails before that does not leave it producing into deleted topics."""
    task = asyncio.create_task(produce_paced(producer, settings, workload, per_second))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
