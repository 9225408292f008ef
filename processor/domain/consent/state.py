"""A phone's consent state (``PhoneState``: subscriptions and campaign send logs), what one
decision produces (``Decision``), and ``Effects``, which collects it while the rules run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import msgspec
from msgspec.structs import replace

from processor.domain.consent.statuses import IN, OUT, PENDING
from processor.domain.gateways.config import GatewayConfig
from processor.domain.ids import derived_id
from processor.domain.models.enums import (
    ConsentSource,
    ConsentStatus,
    ReplyKind,
    SendDebug,
    SendStatus,
)
from processor.domain.models.inputs import SendRequest
from processor.domain.models.outputs import (
    CommandResult,
    ConsentEvent,
    Notice,
    OutboundMessage,
    SendResult,
)
from processor.domain.models.subscription import GLOBAL_GATEWAY, Subscription

if TYPE_CHECKING:
    from processor.domain.consent.send_rules import Release



SubKey = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class SendLog:
    """When campaign sends to the phone were forwarded from one gateway (or one of its
    campaign keywords), for the gateway's frequency cap: the times inside the cap's window,
    oldest first, and a version the store fences like a subscription's. Kept in the consent
    store only (not on a topic): the decision a replay repeats is in the stored outcome."""

    gateway: str
    keyword: str | None = None
    times: tuple[int, ...] = ()
    version: int = 0

    @property
    def key(self) -> SubKey:
        return self.gateway, self.keyword


class PhoneState(msgspec.Struct, frozen=True, gc=False):
    """Every subscription of one phone, keyed by (gateway, keyword scope), and its campaign
    send logs (frequency caps). A Struct: one is built per phone and batch, and per decision
    that changes it."""

    phone: str
    subscriptions: Mapping[SubKey, Subscription] = msgspec.field(default_factory=dict)
    send_logs: Mapping[SubKey, SendLog] = msgspec.field(default_factory=dict)

    def get(self, gateway: str, keyword: str | None = None) -> Subscription:
        found = self.subscriptions.get((gateway, keyword))
        return found if found is not None else Subscription(self.phone, gateway, keyword)

    def scopes(self, gateway: str) -> list[Subscription]:
        """The gateway-level subscription first, then its keyword scopes in name order."""
        scoped = sorted((s for (g, k), s in self.subscriptions.items() if g == gateway and k),
                        key=lambda s: s.keyword or "")
        return [self.get(gateway), *scoped]

    @property
    def global_opt_out(self) -> Subscription:
        return self.get(GLOBAL_GATEWAY)

    def send_log(self, gateway: str, keyword: str | None = None) -> SendLog:
        found = self.send_logs.get((gateway, keyword))
        return found if found is not None else SendLog(gateway, keyword)

    def with_changes(self, changed: Iterable[Subscription],
                     logs: Iterable[SendLog] = ()) -> PhoneState:
        subs = dict(self.subscriptions)
        for sub in changed:
            subs[(sub.gateway, sub.keyword)] = sub
        sends = self.send_logs
        if logs:
            sends = dict(sends)
            for log in logs:
                sends[log.key] = log
            sends = MappingProxyType(sends)
        return PhoneState(self.phone, MappingProxyType(subs), sends)


class Decision(msgspec.Struct, frozen=True, gc=False):
    """Everything one input (or one window expiry) produced (one per input: a Struct)."""

    cause_id: str
    changed: tuple[Subscription, ...] = ()
    events: tuple[ConsentEvent, ...] = ()
    outbound: tuple[OutboundMessage, ...] = ()
    results: tuple[SendResult, ...] = ()
    notices: tuple[Notice, ...] = ()
    command_result: CommandResult | None = None
    send_logs: tuple[SendLog, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """What made a change, as every consent event records it (ConsentEvent's evidence)."""

    message_id: str | None = None
    message_text: str | None = None
    gateway_number: str | None = None
    received_at: int | None = None
    command_id: str | None = None


NO_EVIDENCE = Evidence()


class Effects:
    """Collects the outputs of one decision while it is being made (never escapes a decision)."""

    __slots__ = ("cause_id", "changed", "events", "evidence", "notices", "now", "outbound",
                 "phone", "results", "send_logs")

    def __init__(self, cause_id: str, phone: str, now: int,
                 evidence: Evidence = NO_EVIDENCE) -> None:
        self.cause_id = cause_id
        self.phone = phone
        self.now = now
        self.evidence = evidence
        self.changed: dict[SubKey, Subscription] = {}
        self.send_logs: dict[SubKey, SendLog] = {}
        self.events: list[ConsentEvent] = []
        self.outbound: list[OutboundMessage] = []
        self.results: list[SendResult] = []
        self.notices: list[Notice] = []

    def current(self, sub: Subscription) -> Subscription:
        """`sub` as this decision has left it so far."""
        return self.changed.get((sub.gateway, sub.keyword), sub)

    def state(self, before: PhoneState) -> PhoneState:
        """The phone's state as this decision has left it so far."""
        if not self.changed and not self.send_logs:
            return before
        return before.with_changes(self.changed.values(), self.send_logs.values())

    def store(self, sub: Subscription) -> Subscription:
        self.changed[(sub.gateway, sub.keyword)] = sub
        return sub

    def log_send(self, log: SendLog) -> None:
        self.send_logs[log.key] = log

    def transition(self, sub: Subscription, to: ConsentStatus, source: ConsentSource,
                   detail: str, *, actor: str | None, window_ms: int | None = None,
                   requested_by: str | None = None) -> Subscription:
        """Moves `sub` to a status (or re-states it, for expiry) and records the event."""
        new = replace(
            sub, status=to, source=source, detail=detail, actor=actor,
            version=sub.version + 1, updated_at=self.now,
            pending_until=self.now + window_ms if window_ms is not None else None,
            window_closed=False,
            requested_by=requested_by if window_ms is not None else sub.requested_by,
        )
        self.events.append(ConsentEvent(
            event_id=derived_id(self.cause_id, sub.phone, sub.gateway, sub.keyword or "",
                                to.value, source.value),
            phone=sub.phone, gateway=sub.gateway, keyword=sub.keyword,
            previous_status=sub.status, status=to, source=source, detail=detail, actor=actor,
            cause_id=self.cause_id, version=new.version, occurred_at=self.now,
            message_id=self.evidence.message_id, message_text=self.evidence.message_text,
            gateway_number=self.evidence.gateway_number,
            received_at=self.evidence.received_at, command_id=self.evidence.command_id,
        ))
        return self.store(new)

    def reply(self, gw: GatewayConfig, sub: Subscription, kind: ReplyKind, *,
              in_reply_to: str | None, keyword: str | None = None) -> None:
        if any(o.reply_kind is kind for o in self.outbound):
            return  # one reply of a kind per input: e.g. one confirmation for a multi-scope STOP
        self.outbound.append(OutboundMessage(
            message_id=derived_id(self.cause_id, "reply", kind.value),
            phone=sub.phone, gateway=sub.gateway,
            body=gw.render(kind, keyword=keyword),
            auto_reply=True, consent=sub.snapshot, decided_at=self.now,
            in_reply_to=in_reply_to, reply_kind=kind,
        ))

    def notice(self, gw: GatewayConfig, sub: Subscription, kind: ReplyKind,
               request_id: str | None = None) -> None:
        recipient = sub.requested_by or gw.owner
        if recipient is None:
            return  # nobody to tell: the gateway has no owner and nobody asked
        self.notices.append(Notice(
            notice_id=derived_id(self.cause_id, "notice", kind.value, recipient),
            recipient=recipient, phone=sub.phone, gateway=sub.gateway, kind=kind,
            body=gw.render(kind), created_at=self.now, request_id=request_id,
        ))

    def result(self, request: SendRequest, status: SendStatus, sub: Subscription,
               debug: SendDebug | None, detail: str | None,
               message_id: str | None = None, sendable_at: int | None = None) -> None:
        self.results.append(SendResult(
            request_id=request.request_id, phone=request.phone, gateway=request.gateway,
            status=status, consent=sub.snapshot, decided_at=self.now, debug=debug,
            detail=detail, message_id=message_id, sendable_at=sendable_at,
        ))

    def forward(self, request: SendRequest, sub: Subscription) -> None:
        message_id = derived_id("outbound", request.request_id)
        self.outbound.append(OutboundMessage(
            message_id=message_id, phone=request.phone, gateway=request.gateway,
            body=request.body, auto_reply=False, consent=sub.snapshot, decided_at=self.now,
            request_id=request.request_id,
        ))
        self.result(request, SendStatus.FORWARDED, sub, None, None, message_id)

    def settle_held(self, state: PhoneState, sub: Subscription,
                    gw: GatewayConfig) -> Subscription:
        """Held requests leave with the subscription's change. Requests held for a consent
        answer are refused when the answer is no (or never comes); an Opt-In releases them,
        and requests held for quiet hours leave with any change: those are decided again by
        the send rules (a global opt-out, a frequency cap or quiet hours still apply).
        Nothing held is ever dropped."""
        if not sub.held or (sub.status is PENDING and not sub.window_closed):
            return sub
        if sub.held_until is None and sub.status is not IN:
            global_out = self.current(state.global_opt_out)
            for request in sub.held:
                if global_out.status is OUT:
                    # Like every result: the snapshot of the subscription the send targets.
                    self.result(request, SendStatus.ERROR, sub, SendDebug.GLOBAL_OPT_OUT,
                                global_out.detail or "Global opt-out")
                elif sub.status is OUT:
                    self.result(request, SendStatus.ERROR, sub, SendDebug.PREVIOUS_OPT_OUT,
                                "The phone declined the consent request")
                else:
                    self.result(request, SendStatus.ERROR, sub, SendDebug.NO_OPT_IN,
                                "The consent request was not answered")
            return self.store(replace(sub, held=()))
        return _release()(self, state, sub, gw)

    def decision(self, command_result: CommandResult | None = None) -> Decision:
        return Decision(
            cause_id=self.cause_id, changed=tuple(self.changed.values()),
            events=tuple(self.events), outbound=tuple(self.outbound),
            results=tuple(self.results), notices=tuple(self.notices),
            command_result=command_result, send_logs=tuple(self.send_logs.values()),
        )


def _release() -> Release:
    """The send rules' release of held requests. The send rules are built on this module, so
    they are looked up when a transition needs them rather than imported at the top."""
    from processor.domain.consent.send_rules import release_held

    return release_held


def has_open_window(sub: Subscription) -> bool:
    """The subscription waits for a confirmation and its window has not been closed yet (its
    close time may have passed: the timer has not expired it)."""
    return sub.status is PENDING and not sub.window_closed and sub.pending_until is not None


def window_open(sub: Subscription, now: int) -> bool:
    """The window is open at `now`: a confirmation counts."""
    return has_open_window(sub) and sub.pending_until is not None and now <= sub.pending_until


def due_at(sub: Subscription) -> int | None:
    """When the timer must tick for the subscription: its confirmation window closes, or the
    campaign sends it holds for quiet hours become sendable. None: nothing is due."""
    if has_open_window(sub):
        return sub.pending_until
    if sub.held and sub.held_until is not None:
        return sub.held_until
    return None
