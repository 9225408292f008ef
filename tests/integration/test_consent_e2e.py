"""Every rule of the consent state machine and the send policy, end to end through the real
topics: consent, quiet hours (held campaign sends released by the worker's timer), frequency
caps, brand-wide revocations and the evidence on every event.

Each scenario is a conversation of inputs and clock moves. It runs through the running worker
(real Kafka, real Redis, the worker's own timer on an injected clock) and, step by step,
through the pure domain; after every step the records committed on each output topic must be
exactly the ones the domain decided. The domain itself is tested rule by rule in tests/unit;
this proves the worker applies it faithfully: decode, state load, decide, atomic write,
transactional produce, window timer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from msgspec.structs import replace

from processor.domain.consent.state import Decision, PhoneState, due_at
from processor.domain.engine import Input, decide
from processor.domain.gateways.config import MANUAL_PERMISSION, Gateways
from processor.domain.gateways.parsing import parse_gateways
from processor.domain.models.enums import CommandType, ImportStatus, SendDebug, SendKind, SendStatus
from processor.domain.models.inputs import Command, InboundMessage
from processor.domain.models.outputs import ConsentEvent, Notice, OutboundMessage, SendResult
from processor.ports import ManualClock
from processor.topics import Topic
from tests.support.consent_helpers import HOUR, NOW, command, inbound, send
from tests.support.harness import Stack, private_stack, running_worker

pytestmark = pytest.mark.integration

CONFIG: dict[str, Any] = {
    "defaults": {"brand": "Acme", "program": "Acme Alerts", "help_contact": "help@acme.example",
                 "owner": "owner@acme.example",
                 "keywords": {"campaign": ["VOLUNTEER", "DONATE2026"]}},
    "gateways": {
        "dflt": {"mode": "default"},
        "mand": {"mode": "mandatory", "create_opt_in_on_incoming": True},
        "dbl": {"mode": "double_opt_in", "pending_window": "1h"},
        "cons": {"mode": "consent_request", "pending_window": "1h", "sender_name": "Dana Lee",
                 "consent_request_to_new_numbers": True},
        "disc": {"mode": "disclaimer"},
        "short": {"mode": "default", "keyword_scoped": True},
        "camp": {"mode": "mandatory", "frequency_cap": {"max": 3, "window": "24h"}},
        "bee1": {"mode": "default", "brand": "Bee"},
        "bee2": {"mode": "mandatory", "brand": "Bee"},
    },
    "brands": {"Bee": {"revocation_scope": "brand"}},
}
PERMITTED = [MANUAL_PERMISSION]


@dataclass(frozen=True)
class Advance:
    """Moves the clock; the worker's timer then ticks for what became due (windows that
    closed, sends held for quiet hours that became sendable)."""

    ms: int


@dataclass(frozen=True)
class AdvanceTo:
    """Moves the clock to a wall-clock time in Washington, D.C. (the phones' area code)."""

    local: str

    @property
    def ms(self) -> int:
        moment = datetime.fromisoformat(self.local).replace(tzinfo=ZoneInfo("America/New_York"))
        return int(moment.timestamp() * 1000)


Step = Input | Advance | AdvanceTo
Scenario = Callable[[str], list[Step]]


def default_mode(p: str) -> list[Step]:
    return [
        send("dflt", phone=p, request_id=f"{p}-r1"),
        inbound("STOP", "dflt", phone=p, message_id=f"{p}-m1"),
        send("dflt", phone=p, request_id=f"{p}-r2"),
        inbound("stop", "dflt", phone=p, message_id=f"{p}-m2"),  # no second confirmation
        inbound("HELP", "dflt", phone=p, message_id=f"{p}-m3"),  # answered while opted out
        inbound("START", "dflt", phone=p, message_id=f"{p}-m4"),
        send("dflt", phone=p, request_id=f"{p}-r3"),
        inbound("VOLUNTEER", "dflt", phone=p, message_id=f"{p}-m5"),
        send("dflt", phone=p, request_id=f"{p}-r4", keyword="VOLUNTEER"),
        inbound("STOP VOLUNTEER", "dflt", phone=p, message_id=f"{p}-m6"),
        send("dflt", phone=p, request_id=f"{p}-r5", keyword="VOLUNTEER"),
        inbound("Please stop texting me", "dflt", phone=p, message_id=f"{p}-m7"),
    ]


def mandatory_mode(p: str) -> list[Step]:
    return [
        send("mand", phone=p, request_id=f"{p}-r1"),
        inbound("hi, are you open today?", "mand", phone=p, message_id=f"{p}-m1"),
        send("mand", phone=p, request_id=f"{p}-r2"),
        command(CommandType.MANUAL_OPT_OUT, "mand", phone=p, permissions=PERMITTED,
                command_id=f"{p}-c1"),
        command(CommandType.MANUAL_OPT_IN, "mand", phone=p, permissions=PERMITTED,
                command_id=f"{p}-c2"),
        inbound("STOP", "mand", phone=p, message_id=f"{p}-m2"),
        command(CommandType.MANUAL_OPT_IN, "mand", phone=p, permissions=PERMITTED,
                command_id=f"{p}-c3"),  # refused: only the phone can undo its STOP
        command(CommandType.MANUAL_OPT_OUT, "mand", phone=p, command_id=f"{p}-c4"),  # no perm
        command(CommandType.API_OPT_OUT, "mand", phone=p, permissions=["api_opt_in_out"],
                command_id=f"{p}-c5"),
    ]


def double_opt_in_mode(p: str) -> list[Step]:
    return [
        inbound("START", "dbl", phone=p, message_id=f"{p}-m1"),
        send("dbl", phone=p, request_id=f"{p}-r1"),
        inbound("YES", "dbl", phone=p, message_id=f"{p}-m2"),
        send("dbl", phone=p, request_id=f"{p}-r2"),
        inbound("STOP", "dbl", phone=p, message_id=f"{p}-m3"),
        inbound("START", "dbl", phone=p, message_id=f"{p}-m4"),
        Advance(HOUR + 1),  # the window closes: the timer emits the expiry
        inbound("yes", "dbl", phone=p, message_id=f"{p}-m5"),  # late
        send("dbl", phone=p, request_id=f"{p}-r3"),
    ]


def consent_request_mode(p: str) -> list[Step]:
    return [
        send("cons", phone=p, request_id=f"{p}-r1", requested_by="alice"),
        send("cons", phone=p, request_id=f"{p}-r2", requested_by="alice"),
        inbound("YES", "cons", phone=p, message_id=f"{p}-m1"),  # releases r1, r2 in order
        send("cons", phone=p, request_id=f"{p}-r3"),
    ]


def consent_request_declined(p: str) -> list[Step]:
    return [
        send("cons", phone=p, request_id=f"{p}-r1", requested_by="bob"),
        inbound("STOP", "cons", phone=p, message_id=f"{p}-m1"),
    ]


def consent_request_expires(p: str) -> list[Step]:
    return [
        send("cons", phone=p, request_id=f"{p}-r1", requested_by="carol"),
        Advance(HOUR + 1),
        inbound("Who is this?", "cons", phone=p, message_id=f"{p}-m1"),  # asked again (MT)
        inbound("yes", "cons", phone=p, message_id=f"{p}-m2"),
    ]


def disclaimer_mode(p: str) -> list[Step]:
    return [send("disc", phone=p, request_id=f"{p}-r1"), send("disc", phone=p,
                                                               request_id=f"{p}-r2")]


def keyword_scoped_short_code(p: str) -> list[Step]:
    return [
        send("short", phone=p, request_id=f"{p}-r1"),
        inbound("donate2026", "short", phone=p, message_id=f"{p}-m1"),
        send("short", phone=p, request_id=f"{p}-r2"),
    ]


def imports_global_and_number_change(p: str) -> list[Step]:
    active, gone = ImportStatus.ACTIVE, ImportStatus.UNSUBSCRIBE
    return [
        command(CommandType.IMPORT, "dflt", phone=p, keyword="VOLUNTEER", import_status=active,
                command_id=f"{p}-c1"),
        inbound("STOP", "dflt", phone=p, message_id=f"{p}-m1"),
        command(CommandType.IMPORT, "dflt", phone=p, keyword="VOLUNTEER", import_status=active,
                command_id=f"{p}-c2"),  # refused: opted out
        command(CommandType.IMPORT, "dflt", phone=p, keyword="NEWKEYWORD", import_status=active,
                command_id=f"{p}-c3"),
        send("dflt", phone=p, request_id=f"{p}-r1", keyword="NEWKEYWORD"),  # the STOP wins
        command(CommandType.IMPORT, "dflt", phone=p, keyword="NEWKEYWORD", import_status=gone,
                command_id=f"{p}-c4"),
        command(CommandType.GLOBAL_OPT_OUT_SET, None, phone=p, command_id=f"{p}-c5"),
        send("mand", phone=p, request_id=f"{p}-r2"),
        command(CommandType.GLOBAL_OPT_OUT_CLEAR, None, phone=p, permissions=PERMITTED,
                command_id=f"{p}-c6"),
        command(CommandType.NUMBER_CHANGED, None, phone=p, permissions=["api_opt_in_out"],
                command_id=f"{p}-c7"),
        send("dflt", phone=p, request_id=f"{p}-r3"),
    ]


def quiet_hours_and_frequency_cap(p: str) -> list[Step]:
    campaign = SendKind.CAMPAIGN
    return [
        inbound("START", "camp", phone=p, message_id=f"{p}-m1"),
        send("camp", phone=p, request_id=f"{p}-r1", kind=campaign),  # noon: forwarded
        AdvanceTo("2027-01-15 22:30"),
        send("camp", phone=p, request_id=f"{p}-r2", kind=campaign),  # held until 08:00
        send("camp", phone=p, request_id=f"{p}-r3", kind=campaign),
        send("camp", phone=p, request_id=f"{p}-r4"),  # a conversation goes at any hour
        AdvanceTo("2027-01-16 08:00"),  # the worker's timer releases r2 and r3, once
        send("camp", phone=p, request_id=f"{p}-r5", kind=campaign),  # a fourth: refused
    ]


def stop_while_held(p: str) -> list[Step]:
    return [
        inbound("START", "camp", phone=p, message_id=f"{p}-m1"),
        AdvanceTo("2027-01-16 21:30"),
        send("camp", phone=p, request_id=f"{p}-r1", kind=SendKind.CAMPAIGN),  # held
        inbound("STOP", "camp", phone=p, message_id=f"{p}-m2"),  # refuses it now
        AdvanceTo("2027-01-17 08:00"),  # nothing left for the timer
        send("camp", phone=p, request_id=f"{p}-r2", kind=SendKind.CAMPAIGN),
    ]


def brand_wide_stop(p: str) -> list[Step]:
    return [
        inbound("START", "bee2", phone=p, message_id=f"{p}-m1"),
        inbound("Stop", "bee1", phone=p, message_id=f"{p}-m2"),  # revokes bee1 and bee2
        send("bee2", phone=p, request_id=f"{p}-r1"),
        command(CommandType.MANUAL_OPT_IN, "bee2", phone=p, permissions=PERMITTED,
                command_id=f"{p}-c1"),  # refused: the phone's own STOP
        inbound("START", "bee2", phone=p, message_id=f"{p}-m3"),
        send("bee2", phone=p, request_id=f"{p}-r2"),
    ]


SCENARIOS: dict[str, Scenario] = {
    "+12025550111": default_mode,
    "+12025550112": mandatory_mode,
    "+12025550113": double_opt_in_mode,
    "+12025550114": consent_request_mode,
    "+12025550115": consent_request_declined,
    "+12025550116": consent_request_expires,
    "+12025550117": disclaimer_mode,
    "+12025550118": keyword_scoped_short_code,
    "+12025550119": imports_global_and_number_change,
    "+12025550120": brand_wide_stop,
    # Last: these move the clock through a night.
    "+12025550121": quiet_hours_and_frequency_cap,
    "+12025550122": stop_while_held,
}


def comparable(topic: Topic, record: Any) -> tuple[Any, ...]:
    """What must agree between the worker and the domain. Expiry ticks carry random ids, so
    ids derived from them (and the tick's own command result) are left out."""
    if isinstance(record, ConsentEvent):
        cause = None if record.source.value == "expiry" else record.cause_id
        return (record.phone, record.gateway, record.keyword, record.previous_status,
                record.status, record.source, record.detail, record.actor, record.version,
                cause, record.message_id, record.message_text, record.gateway_number,
                record.received_at, record.command_id)
    if isinstance(record, SendResult):
        return (record.request_id, record.status, record.debug, record.detail, record.consent,
                record.sendable_at)
    if isinstance(record, OutboundMessage):
        return (record.phone, record.request_id, record.reply_kind, record.body,
                record.in_reply_to, record.consent, record.auto_reply)
    if isinstance(record, Notice):
        return (record.recipient, record.phone, record.kind, record.body, record.request_id)
    if topic is Topic.COMMAND_RESULTS:
        tick = record.type is CommandType.EXPIRE_WINDOW
        return (None if tick else record.command_id, record.result, record.reason, record.type)
    return (record.phone, record.gateway, record.keyword, record.status, record.version,
            tuple(r.request_id for r in record.held), record.held_until)


def expected_records(decision: Decision) -> dict[Topic, list[Any]]:
    return {
        Topic.CONSENT_EVENTS: list(decision.events),
        Topic.CONSENT_STATE: list(decision.changed),
        Topic.OUTBOUND: list(decision.outbound),
        Topic.SEND_RESULTS: list(decision.results),
        Topic.NOTICES: list(decision.notices),
        Topic.COMMAND_RESULTS: [decision.command_result] if decision.command_result else [],
    }


async def play(stack: Stack, clock: ManualClock, gateways: Gateways, phone: str,
               steps: list[Step]) -> None:
    state = PhoneState(phone)
    expected: dict[Topic, list[Any]] = {topic: [] for topic in expected_records(Decision(""))}
    for number, step in enumerate(steps):
        decisions: list[Decision] = []
        if isinstance(step, Advance | AdvanceTo):
            if isinstance(step, Advance):
                clock.advance(step.ms)
            else:
                assert step.ms >= clock.now, "the clock only moves forward"
                clock.now = step.ms
            for sub in state.subscriptions.values():
                due = due_at(sub)
                if due is not None and due <= clock.now:
                    tick = command(CommandType.EXPIRE_WINDOW, sub.gateway, phone=phone,
                                   keyword=sub.keyword, until=due)
                    decisions.append(decide(state, tick, gateways, clock.now))
        else:
            # An inbound message is received when it is played.
            item = (replace(step, received_at=clock.now) if isinstance(step, InboundMessage)
                    else step)
            decisions.append(decide(state, item, gateways, clock.now))
            await _produce(stack, item)
        for decision in decisions:
            state = state.with_changes(decision.changed, decision.send_logs)
            for topic, records in expected_records(decision).items():
                expected[topic].extend(records)
        for topic, records in expected.items():
            mine = await stack.read(topic, len(records), key=phone.encode())
            assert in_order(topic, mine) == in_order(topic, records), (
                f"{phone} step {number} {topic}")


def in_order(topic: Topic, records: list[Any]) -> list[Any]:
    """The records as their topic orders them: the state topic is keyed per subscription, so
    only records of one subscription have an order there."""
    values = [comparable(topic, r) for r in records]
    if topic is Topic.CONSENT_STATE:
        return sorted(values, key=lambda v: (v[1], v[2] or "", v[4]))
    return values


async def _produce(stack: Stack, item: Input) -> None:
    if isinstance(item, InboundMessage):
        await stack.text(item)
    elif isinstance(item, Command):
        await stack.command(item)
    else:
        await stack.send(item)


async def test_every_consent_rule_through_the_topics(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    gateways = parse_gateways(copy.deepcopy(CONFIG))
    async with private_stack(tmp_path, CONFIG) as stack, \
            running_worker(stack.settings, clock) as running:
        for phone, scenario in SCENARIOS.items():
            await play(stack, clock, gateways, phone, scenario(phone))
        assert running.worker.ready == (True, [])
        # What the quiet-hours scenario proves, spelled out (the loop compared it all).
        results = [r for r in stack.seen_values(Topic.SEND_RESULTS)
                   if r.phone == "+12025550121"]
        assert [(r.request_id[-2:], r.status, r.debug) for r in results] == [
            ("r1", SendStatus.FORWARDED, None), ("r2", SendStatus.HELD, None),
            ("r3", SendStatus.HELD, None), ("r4", SendStatus.FORWARDED, None),
            ("r2", SendStatus.FORWARDED, None), ("r3", SendStatus.FORWARDED, None),
            ("r5", SendStatus.ERROR, SendDebug.FREQUENCY_CAP)]
        held = results[1]
        assert held.sendable_at == AdvanceTo("2027-01-16 08:00").ms
