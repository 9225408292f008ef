"""``make demo`` (``python deploy/demo/demo.py``): a scripted conversation through the real
stack, with the gateways of ``gateways.yaml`` beside it.

Starts the worker and the ingress on private topics (a fresh prefix), plays the conversation
one input at a time through the ingress (texts as Twilio-signed webhooks, sends and commands
through the HTTP API with bearer tokens), waiting for each input's committed outputs, prints
what happened, then the consent events and send results as tables, each phone's consent as
the API answers it and the evidence of Ana's STOP (as ``python -m processor evidence`` prints
it), and removes its topics and Redis keys.

Worker and ingress share an injected clock: it runs with the wall clock from 22:20 in
Washington, D.C. (the phones' area code) and jumps forward when the script says so, so a
campaign text at 22:30 is held for the night and released at 08:00 without waiting a night.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import redis.asyncio as aioredis
import yaml
from aiokafka import AIOKafkaConsumer
from msgspec import structs

from processor import codec
from processor.adapters.kafka.clients import kafka_client_options
from processor.adapters.kafka.topic_admin import delete_topics_with_prefix
from processor.adapters.redis_keys import delete_keys
from processor.app import start_worker
from processor.cli.evidence import read_history
from processor.cli.evidence import render as render_evidence
from processor.domain.gateways.config import MANUAL_PERMISSION, Gateways
from processor.domain.models.enums import CommandType, SendKind
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.outputs import ConsentEvent, SendResult
from processor.ingress.service import start_ingress
from processor.ingress.signatures import TWILIO_SIGNATURE_HEADER, twilio_signature
from processor.ingress.tokens import Permission, hash_token
from processor.logs import configure_logging
from processor.settings import Settings, load_gateways
from processor.topics import Topic

DEMO_GATEWAYS = Path(__file__).resolve().parent / "gateways.yaml"
ANA, BEN, CARA = "+12025550143", "+12025550178", "+12025550116"
WASHINGTON = ZoneInfo("America/New_York")


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class DemoClock:
    """The demo's injected clock (worker and ingress): the wall clock's pace from a chosen
    start, and jumps forward when the script lets a night pass."""

    def __init__(self, start_ms: int) -> None:
        self._offset = start_ms - _wall_ms()

    def now_ms(self) -> int:
        return _wall_ms() + self._offset

    def jump_to(self, ms: int) -> None:
        self._offset += max(0, ms - self.now_ms())  # never backwards


def washington(day: date, hour: int, minute: int = 0) -> int:
    """Epoch ms of a wall-clock time in Washington, D.C."""
    moment = datetime.combine(day, clock_time(hour, minute), WASHINGTON)
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Wait:
    """Lets the wall clock run (a confirmation window closes meanwhile)."""

    seconds: float


@dataclass(frozen=True)
class JumpTo:
    """Moves the injected clock forward to a time in Washington (the worker's timer then
    ticks for what became due)."""

    day_offset: int
    hour: int
    minute: int = 0


Step = tuple[str, InboundMessage | SendRequest | Command | Wait | JumpTo]


def script(now: Callable[[], int]) -> list[Step]:
    """The conversation; ``now`` stamps each input when it is played."""
    def text(phone: str, gateway: str, body: str) -> InboundMessage:
        return InboundMessage(message_id=f"mo-{uuid.uuid4().hex[:8]}", phone=phone,
                              to="+12025550100", gateway=gateway, body=body, received_at=now())

    def send(phone: str, gateway: str, body: str, by: str = "marketing-app",
             kind: SendKind = SendKind.ONE_TO_ONE) -> SendRequest:
        return SendRequest(request_id=f"req-{uuid.uuid4().hex[:8]}", phone=phone,
                           gateway=gateway, body=body, kind=kind, requested_by=by,
                           created_at=now())

    def campaign(body: str) -> SendRequest:
        return send(ANA, "acme-main", body, kind=SendKind.CAMPAIGN)

    def manual_opt_in(phone: str, gateway: str) -> Command:
        return Command(command_id=f"cmd-{uuid.uuid4().hex[:8]}", type=CommandType.MANUAL_OPT_IN,
                       phone=phone, actor="jo@acme.example", created_at=now(), gateway=gateway,
                       permissions=(MANUAL_PERMISSION,))

    return [
        ("Default mode: the app texts Ana", send(ANA, "acme-main", "Your order has shipped")),
        ("Ana texts STOP", text(ANA, "acme-main", "STOP")),
        ("The app texts Ana again", send(ANA, "acme-main", "20% off today only")),
        ("An agent tries to opt Ana back in", manual_opt_in(ANA, "acme-main")),
        ("Ana texts HELP (answered even while opted out)", text(ANA, "acme-main", "HELP")),
        ("Ana texts START", text(ANA, "acme-main", "START")),
        ("The app texts Ana again", send(ANA, "acme-main", "Welcome back!")),
        ("Double opt-in: Ben texts START to 22395", text(BEN, "acme-alerts", "START")),
        ("Ben answers YES inside the window", text(BEN, "acme-alerts", "YES")),
        ("Cara texts START to 22395", text(CARA, "acme-alerts", "START")),
        ("... and does not answer (the 4 s window closes)", Wait(5.0)),
        ("Cara's YES comes too late", text(CARA, "acme-alerts", "yes")),
        ("Consent request: Dana's app texts Cara", send(CARA, "acme-advisors",
                                                        "Hi Cara, about your portfolio",
                                                        by="dana@acme.example")),
        ("Dana sends a second message", send(CARA, "acme-advisors", "Call me when you can",
                                             by="dana@acme.example")),
        ("Cara replies YES: both held messages go out", text(CARA, "acme-advisors", "Yes")),
        ("Quiet hours: the clock reads 22:30 at Ana's (Washington, D.C.)", JumpTo(0, 22, 30)),
        ("The app sends Ana a campaign (marketing) text at 22:30: held for the night",
         campaign("Acme winter sale: 20% off all week. Reply STOP to cancel")),
        ("The night passes: the injected clock jumps to 08:00; the timer releases it",
         JumpTo(1, 8)),
        ("A second campaign text", campaign("Acme: new arrivals are in")),
        ("A third campaign text", campaign("Acme: last day of the sale")),
        ("A fourth campaign text the same day: over acme-main's cap of 3 in 24 hours",
         campaign("Acme: one more thing")),
    ]


OUTPUTS = (Topic.CONSENT_EVENTS, Topic.SEND_RESULTS, Topic.OUTBOUND, Topic.COMMAND_RESULTS,
           Topic.NOTICES)


class Outputs:
    """Committed output records (read_committed), gathered as they arrive."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.consumer = AIOKafkaConsumer(
            *(settings.topics(t) for t in OUTPUTS), **kafka_client_options(settings),
            auto_offset_reset="earliest", isolation_level="read_committed",
            enable_auto_commit=False)
        self.records: list[tuple[Topic, Any]] = []
        self._topics = {settings.topics(t): t for t in OUTPUTS}

    async def poll_until_quiet(self, quiet: float = 0.8, timeout: float = 30.0,
                               at_least: int = 0) -> list[tuple[Topic, Any]]:
        """The records that arrive until none has arrived for `quiet` seconds (and at least
        `at_least` have)."""
        fresh: list[tuple[Topic, Any]] = []
        start = last = time.monotonic()
        while ((time.monotonic() - last < quiet or len(fresh) < at_least)
               and time.monotonic() - start < timeout):
            batch = await self.consumer.getmany(timeout_ms=100)
            for tp, records in batch.items():
                topic = self._topics[tp.topic]
                for record in records:
                    fresh.append((topic, codec.RECORD_FOR_TOPIC[topic].decode(record.value)))
                    last = time.monotonic()
        self.records.extend(fresh)
        return fresh


def describe(topic: Topic, record: Any) -> str:
    if topic is Topic.CONSENT_EVENTS:
        scope = f" [{record.keyword}]" if record.keyword else ""
        return (f"consent  {record.gateway}{scope}: {record.previous_status} -> "
                f"{record.status} ({record.detail})")
    if topic is Topic.SEND_RESULTS:
        why = f" / {record.debug}" if record.debug else ""
        return f"result   {record.status}{why}" + (f": {record.detail}" if record.detail else "")
    if topic is Topic.COMMAND_RESULTS and record.type is CommandType.EXPIRE_WINDOW:
        return "command  expire_window (the timer's tick) applied"
    if topic is Topic.OUTBOUND:
        kind = f"auto reply ({record.reply_kind})" if record.auto_reply else "message"
        return f"outbound {kind}: {record.body!r}"
    if topic is Topic.NOTICES:
        return f"notice   to {record.recipient}: {record.body!r}"
    reason = f": {record.reason}" if record.reason else ""
    return f"command  {record.type} {record.result}{reason}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)


@dataclass
class Doors:
    """The demo's way in: the ingress's URL, its Twilio token and the callers' API tokens."""

    url: str
    twilio_token: str
    tokens: dict[str, str]  # actor -> bearer token
    gateways: Gateways
    http: aiohttp.ClientSession

    async def deliver(self, step: InboundMessage | SendRequest | Command) -> str:
        """Sends one input through the ingress; returns what the ingress answered."""
        if isinstance(step, InboundMessage):
            number = self.gateways.get(step.gateway).number or step.to
            form = {"MessageSid": step.message_id, "From": step.phone, "To": number,
                    "Body": step.body, "NumMedia": "0"}
            path = "/webhooks/twilio/sms"
            # Twilio's signature over the URL and the form, as Twilio sends it.
            signature = twilio_signature(self.twilio_token, self.url + path, form.items())
            async with self.http.post(self.url + path, data=form,
                                      headers={TWILIO_SIGNATURE_HEADER: signature}) as answer:
                await answer.read()
                return f"POST {path} (Twilio-signed) -> {answer.status}"
        if isinstance(step, SendRequest):
            path, actor = "/v1/send-requests", "marketing-app"
            body: dict[str, Any] = {"request_id": step.request_id, "to": step.phone,
                                    "gateway": step.gateway, "body": step.body,
                                    "kind": step.kind.value, "requested_by": step.requested_by}
        else:
            path, actor = "/v1/commands", step.actor
            body = {"command_id": step.command_id, "type": step.type.value,
                    "phone": step.phone, "gateway": step.gateway}
        async with self.http.post(self.url + path, json=body, headers={
                "Authorization": f"Bearer {self.tokens[actor]}"}) as answer:
            await answer.read()
            return f"POST {path} as {actor} -> {answer.status}"

    async def consent(self, phone: str) -> dict[str, Any]:
        async with self.http.get(f"{self.url}/v1/consent/{phone}", headers={
                "Authorization": f"Bearer {self.tokens['jo@acme.example']}"}) as answer:
            answer.raise_for_status()
            view: dict[str, Any] = await answer.json()
            return view


def _write_tokens(path: Path) -> dict[str, str]:
    grants = {"marketing-app": [Permission.SEND],
              "jo@acme.example": [Permission.MANUAL_OPT_IN_OUT, Permission.READ_CONSENT]}
    tokens = {actor: secrets.token_urlsafe(24) for actor in grants}
    path.write_text(yaml.safe_dump({"tokens": [
        {"actor": actor, "sha256": hash_token(tokens[actor]),
         "permissions": [p.value for p in grants[actor]]} for actor in grants]}))
    return tokens


async def play(settings: Settings) -> int:
    with tempfile.TemporaryDirectory(prefix="cg-demo-") as tmp:
        tokens_file = Path(tmp) / "tokens.yaml"
        tokens = _write_tokens(tokens_file)
        twilio_token = secrets.token_hex(16)
        settings = replace(settings, ingress_port=0, ingress_tokens_file=tokens_file,
                           twilio_auth_token=twilio_token)
        clock = DemoClock(washington(datetime.now(WASHINGTON).date(), 22, 20))
        running = await start_worker(settings, clock, with_web=False)
        ingress = await start_ingress(settings, clock)
        outputs = Outputs(settings)
        await outputs.consumer.start()
        try:
            async with aiohttp.ClientSession() as http:
                doors = Doors(ingress.url, twilio_token, tokens,
                              load_gateways(settings.gateways_file), http)
                await running.wait_serving(60)
                await _converse(settings, doors, outputs, clock)
            return 0
        finally:
            await outputs.consumer.stop()
            await ingress.stop()
            await running.stop()


async def _converse(settings: Settings, doors: Doors, outputs: Outputs,
                    clock: DemoClock) -> None:
    print(f"\nconsent-gate demo (topics {settings.topic_prefix}*, ingress {doors.url})\n")
    today = datetime.fromtimestamp(clock.now_ms() / 1000, WASHINGTON).date()
    for caption, step in script(clock.now_ms):
        print(f"> {caption}")
        expected = 0
        if isinstance(step, Wait):
            await asyncio.sleep(step.seconds)
        elif isinstance(step, JumpTo):
            clock.jump_to(washington(today + timedelta(days=step.day_offset), step.hour,
                                     step.minute))
            local = datetime.fromtimestamp(clock.now_ms() / 1000, WASHINGTON)
            print(f"    the injected clock: {local:%Y-%m-%d %H:%M} in Washington")
            # Whatever became due is ticked by the worker's timer: wait for it to be decided.
            expected = 1 if step.hour == 8 else 0
        else:
            print(f"    {await doors.deliver(_stamped(step, clock.now_ms()))}")
        for topic, record in await outputs.poll_until_quiet(at_least=expected):
            print(f"    {describe(topic, record)}")
    _print_tables(outputs.records)
    print("Consent as the API answers it (GET /v1/consent/{phone})\n")
    rows = []
    for phone in (ANA, BEN, CARA):
        view = await doors.consent(phone)
        rows += [[phone, s["gateway"], s["keyword"] or "", s["status"], s["source"],
                  str(s["version"]), s["changed_at"] or ""] for s in view["subscriptions"]]
        if view["global_opt_out"]:
            rows.append([phone, "*", "", "Opt-Out", "global", "", ""])
    print(table(["phone", "gateway", "keyword", "status", "source", "v", "changed at"], rows))
    print("\nThe evidence of Ana's STOP (python -m processor evidence "
          f"{ANA} --gateway acme-main)\n")
    print(render_evidence(ANA, await read_history(settings, ANA, "acme-main"), "table"))
    print()


def _stamped(step: InboundMessage | SendRequest | Command,
             ms: int) -> InboundMessage | SendRequest | Command:
    """The input stamped with the time it is played (the script is written ahead)."""
    if isinstance(step, InboundMessage):
        return structs.replace(step, received_at=ms)
    return structs.replace(step, created_at=ms)


def _print_tables(records: list[tuple[Topic, Any]]) -> None:
    events: list[ConsentEvent] = [r for t, r in records if t is Topic.CONSENT_EVENTS]
    results: list[SendResult] = [r for t, r in records if t is Topic.SEND_RESULTS]
    print("\nConsent events (sms.consent-events)\n")
    print(table(["phone", "gateway", "keyword", "from", "to", "source", "detail", "v"],
                [[e.phone, e.gateway, e.keyword or "", e.previous_status, e.status,
                  e.source, e.detail, str(e.version)] for e in events]))
    print("\nSend results (sms.send-results)\n")
    print(table(["request", "phone", "gateway", "status", "debug", "detail"],
                [[r.request_id, r.phone, r.gateway, r.status, r.debug or "", r.detail or ""]
                 for r in results]))
    print()


async def cleanup(settings: Settings) -> None:
    await delete_topics_with_prefix(settings, settings.topic_prefix)
    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        await delete_keys(client, f"{settings.redis_prefix}:*")
    finally:
        await client.aclose()


async def demo() -> int:
    run_id = uuid.uuid4().hex[:6]
    settings = Settings.from_env(
        topic_prefix=f"demo{run_id}.", group_id=f"demo{run_id}", redis_prefix=f"demo{run_id}",
        gateways_file=DEMO_GATEWAYS, timer_interval_s=0.2, batch_timeout_ms=20,
        log_level="warning")
    configure_logging(settings)
    # Fresh topics make aiokafka log transient leader elections as errors; not news here.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        return await play(settings)
    finally:
        await cleanup(settings)


def main() -> int:
    return asyncio.run(demo())


if __name__ == "__main__":
    sys.exit(main())
