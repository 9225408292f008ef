"""Builders shared by the consent, policy and property tests (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import count
from types import MappingProxyType
from typing import Any

from msgspec.structs import replace

from processor.domain.consent.state import Decision, PhoneState, due_at
from processor.domain.engine import decide
from processor.domain.gateways.config import GatewayConfig, Gateways
from processor.domain.gateways.parsing import parse_gateways
from processor.domain.models.enums import (
    CommandType,
    ConsentSource,
    ConsentStatus,
    ImportStatus,
    SendKind,
)
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.subscription import Subscription

MINUTE = 60_000
HOUR = 60 * MINUTE
# 2027-01-15 (a Friday) 17:00 UTC: noon in Washington, D.C., where PHONE's area code is, so
# campaign sends are inside every quiet-hours window unless a test moves the clock.
NOW = 1_800_000_000_000 + 9 * HOUR
NIGHT = NOW - 9 * HOUR  # 03:00 in Washington: quiet hours
PHONE = "+12025550123"
OWNER = "owner@acme.example"

_ids = count(1)


def gateways(brands: dict[str, Any] | None = None, **per_gateway: dict[str, Any]) -> Gateways:
    """Gateways from keyword arguments: ``gateways(gw1={"mode": "mandatory"})``; every one is
    of the brand Acme unless it says otherwise."""
    return parse_gateways({
        "defaults": {"brand": "Acme", "program": "Acme Alerts",
                     "help_contact": "help@acme.example", "owner": OWNER,
                     "keywords": {"campaign": ["VOLUNTEER", "DONATE2026"]}},
        "gateways": per_gateway,
        "brands": brands or {},
    })


def gateway(mode: str = "default", **settings: Any) -> GatewayConfig:
    return gateways(gw1={"mode": mode, **settings}).get("gw1")


def inbound(body: str, gw: str = "gw1", *, message_id: str | None = None,
            phone: str = PHONE, received_at: int = NOW) -> InboundMessage:
    return InboundMessage(message_id=message_id or f"m{next(_ids)}", phone=phone, to="12345",
                          gateway=gw, body=body, received_at=received_at)


def send(gw: str = "gw1", *, keyword: str | None = None, request_id: str | None = None,
         requested_by: str = "alice@acme.example", body: str = "Hello from Acme",
         kind: SendKind = SendKind.ONE_TO_ONE, phone: str = PHONE) -> SendRequest:
    return SendRequest(request_id=request_id or f"r{next(_ids)}", phone=phone, gateway=gw,
                       body=body, kind=kind, requested_by=requested_by, created_at=NOW,
                       keyword=keyword, campaign="Spring" if keyword else None)


def command(kind: CommandType, gw: str | None = "gw1", *, keyword: str | None = None,
            actor: str = "bob@acme.example", permissions: Iterable[str] = (),
            import_status: ImportStatus | None = None, until: int | None = None,
            command_id: str | None = None, phone: str = PHONE) -> Command:
    return Command(command_id=command_id or f"c{next(_ids)}", type=kind, phone=phone,
                   actor=actor, created_at=NOW, gateway=gw, keyword=keyword,
                   permissions=tuple(permissions), import_status=import_status, until=until)


def sub(status: ConsentStatus, gw: str = "gw1", keyword: str | None = None, *,
        source: ConsentSource = ConsentSource.KEYWORD, version: int = 1,
        **fields: Any) -> Subscription:
    return Subscription(PHONE, gw, keyword, status=status, source=source, version=version,
                        detail=fields.pop("detail", f"set by test ({source.value})"), **fields)


def state(*subs: Subscription) -> PhoneState:
    return PhoneState(PHONE, MappingProxyType({(s.gateway, s.keyword): s for s in subs}))


class Conversation:
    """Feeds inputs through the pure domain, keeping the phone's state like the store does."""

    def __init__(self, config: Gateways, now: int = NOW) -> None:
        self.gateways = config
        self.now = now
        self.state = PhoneState(PHONE)
        self.decisions: list[Decision] = []

    def __call__(self, item: InboundMessage | SendRequest | Command) -> Decision:
        decision = decide(self.state, item, self.gateways, self.now)
        self.state = self.state.with_changes(decision.changed, decision.send_logs)
        self.decisions.append(decision)
        return decision

    def text(self, body: str, gw: str = "gw1") -> Decision:
        """The phone texts now (the carrier receives it at the conversation's clock)."""
        return self(inbound(body, gw, received_at=self.now))

    def text_from(self, phone: str, body: str, gw: str = "gw1") -> Decision:
        """Another phone texts now; the conversation's state becomes that phone's."""
        if self.state.phone != phone:
            assert not self.state.subscriptions, "one phone per conversation"
            self.state = PhoneState(phone)
        return self(inbound(body, gw, received_at=self.now, phone=phone))

    def send(self, gw: str = "gw1", **kwargs: Any) -> Decision:
        return self(send(gw, **kwargs))

    def expire_due(self) -> list[Decision]:
        """What the timer does: an expire_window tick for every subscription whose time has
        come (a confirmation window closed, sends held for quiet hours became sendable)."""
        ticks = [command(CommandType.EXPIRE_WINDOW, s.gateway, keyword=s.keyword,
                         until=due, actor="timer")
                 for s in self.state.subscriptions.values()
                 if (due := due_at(s)) is not None and due <= self.now]
        return [self(t) for t in ticks]

    def status(self, gw: str = "gw1", keyword: str | None = None) -> ConsentStatus:
        return self.state.get(gw, keyword).status


def with_version(subscription: Subscription, version: int) -> Subscription:
    return replace(subscription, version=version)
