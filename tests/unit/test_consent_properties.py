"""Properties over random conversations: texts, commands, sends and clock moves on several
gateways in every mode.

* Nothing is forwarded to a phone on a gateway (or keyword) whose latest word to it was an
  opt-out, until the phone texts an opt-in keyword again; nothing under a global opt-out.
* Every send request gets exactly one final result; a held one stays held, never lost, and
  once the clock has moved on and the timer has ticked, nothing is held any more.
* No campaign send is forwarded inside the recipient's quiet hours, nor beyond a gateway's
  frequency cap; a STOP to a gateway of a brand-wide revocation scope stops every gateway of
  its brand.
* The state equals the fold of the emitted events.
* Replaying any prefix with stored outcomes (what the Redis store does) changes nothing and
  yields the same decisions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.domain.consent.state import Decision, PhoneState, due_at
from processor.domain.engine import Input, cause_id, decide
from processor.domain.gateways.config import API_PERMISSION, MANUAL_PERMISSION, Gateways
from processor.domain.models.enums import (
    CommandType,
    ConsentStatus,
    ImportStatus,
    SendKind,
    SendStatus,
)
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.domain.models.subscription import GLOBAL_GATEWAY
from processor.domain.quiet_hours import recipient_of
from processor.domain.quiet_hours_rules import DEFAULT_QUIET_HOURS
from tests.support.consent_helpers import HOUR, NOW, PHONE, command, gateways, inbound, send

CAP_SENDS, CAP_WINDOW = 2, 6 * HOUR
GATEWAYS: Gateways = gateways(
    d={"mode": "default", "frequency_cap": {"max": CAP_SENDS, "window": "6h"}},
    m={"mode": "mandatory", "create_opt_in_on_incoming": True},
    x={"mode": "double_opt_in", "pending_window": "1h"},
    c={"mode": "consent_request", "pending_window": "1h", "consent_request_to_new_numbers": True},
    s={"mode": "disclaimer", "keyword_scoped": True},
    # A brand whose STOP revokes every one of its gateways.
    b1={"mode": "default", "brand": "Both"}, b2={"mode": "mandatory", "brand": "Both"},
    brands={"Both": {"revocation_scope": "brand"}},
)
BRAND = {"b1": ("b1", "b2"), "b2": ("b1", "b2")}
GATEWAY_IDS = sorted(GATEWAYS.by_id)
OPT_OUT_WORDS = ["STOP", "stop", "Unsubscribe", "please stop texting me", "ARRET"]
OPT_IN_WORDS = ["START", "UNSTOP", "YES", "yes"]
OTHER_WORDS = ["HELP", "hello", "see you at 5", "I can't stop laughing"]
SCOPES = ["VOLUNTEER", "DONATE2026"]

WORDS = OPT_OUT_WORDS + OPT_IN_WORDS + OTHER_WORDS + SCOPES + [f"STOP {s}" for s in SCOPES]
COMMANDS = [
    (CommandType.MANUAL_OPT_IN, None), (CommandType.MANUAL_OPT_OUT, None),
    (CommandType.API_OPT_IN, "VOLUNTEER"), (CommandType.API_OPT_OUT, None),
    (CommandType.IMPORT, ImportStatus.ACTIVE), (CommandType.IMPORT, ImportStatus.UNSUBSCRIBE),
    (CommandType.GLOBAL_OPT_OUT_SET, None), (CommandType.GLOBAL_OPT_OUT_CLEAR, None),
    (CommandType.NUMBER_CHANGED, None),
    (CommandType.GLOBAL_OPT_OUT_SET, None),  # twice: it must interleave with held requests
]


@st.composite
def conversations(draw: st.DrawFn) -> list[tuple[object, ...]]:
    """A conversation on one or two gateways, so that steps interact often."""
    gws = st.sampled_from(draw(st.lists(st.sampled_from(GATEWAY_IDS), min_size=1, max_size=2,
                                        unique=True)))
    sends = st.tuples(st.just("send"), gws, st.sampled_from([None, *SCOPES, "NEWS"]),
                      st.sampled_from([SendKind.CAMPAIGN, *SendKind]))
    texts = st.tuples(st.just("text"), gws, st.sampled_from(WORDS))
    commands = st.tuples(st.just("command"), gws, st.sampled_from(COMMANDS))
    step = st.one_of(
        texts, texts, sends, sends, commands, commands,
        st.tuples(st.just("advance"), st.sampled_from([1, 30 * 60_000, HOUR + 1, 3 * HOUR,
                                                        9 * HOUR])),
    )
    # Conversations start at noon, 21:30 or 02:00 by the phone's clock (Washington, D.C.).
    start = st.tuples(st.just("advance"), st.sampled_from([0, 9 * HOUR + 1_800_000, 14 * HOUR]))
    return [draw(start), *draw(st.lists(step, max_size=40))]


def build(index: int, step: tuple[object, ...]) -> Input:
    """The input of one step; ids come from the step's position, so runs are repeatable."""
    kind, gw = step[0], str(step[1])
    if kind == "text":
        return inbound(str(step[2]), gw, message_id=f"m{index}")
    if kind == "send":
        return send(gw, keyword=step[2], request_id=f"r{index}",  # type: ignore[arg-type]
                    kind=step[3])  # type: ignore[arg-type]
    ctype, extra = step[2]  # type: ignore[misc]
    scoped = ctype in {CommandType.API_OPT_IN, CommandType.IMPORT}
    gateway = None if ctype.value.startswith(("global", "number")) else gw
    return command(ctype, gateway, keyword="VOLUNTEER" if scoped else None,
                   import_status=extra if ctype is CommandType.IMPORT else None,
                   permissions=[MANUAL_PERMISSION, API_PERMISSION], command_id=f"c{index}")


@dataclass
class Ledger:
    """The store's semantics in memory: state plus the outcome of every decided cause id."""

    now: int = NOW
    state: PhoneState = field(default_factory=lambda: PhoneState(PHONE))
    outcomes: dict[str, Decision] = field(default_factory=dict)
    log: list[tuple[Input, Decision]] = field(default_factory=list)

    def apply(self, item: Input) -> Decision:
        stored = self.outcomes.get(cause_id(item))
        if stored is not None:
            return stored
        decision = decide(self.state, item, GATEWAYS, self.now)
        self.state = self.state.with_changes(decision.changed, decision.send_logs)
        self.outcomes[cause_id(item)] = decision
        self.log.append((item, decision))
        return decision

    def timer(self) -> None:
        """A tick for every subscription whose time has come (a window closes, sends held for
        quiet hours become sendable), as the worker's timer asks for them."""
        for s in list(self.state.subscriptions.values()):
            due = due_at(s)
            if due is not None and due <= self.now:
                tick_id = f"tick-{s.gateway}-{s.keyword}-{due}"
                self.apply(command(CommandType.EXPIRE_WINDOW, s.gateway, keyword=s.keyword,
                                   until=due, actor="timer", command_id=tick_id))


def run(plan: list[tuple[object, ...]]) -> Ledger:
    ledger = Ledger()
    for index, step in enumerate(plan):
        if step[0] == "advance":
            ledger.now += int(step[1])  # type: ignore[call-overload]
            ledger.timer()
        else:
            ledger.apply(build(index, step))
    return ledger


@st.composite
def campaigns(draw: st.DrawFn) -> list[tuple[object, ...]]:
    """An opted-in phone on the capped gateway, many campaign sends, the clock moving through
    nights, and now and then a STOP or START."""
    step = st.one_of(
        st.just(("send", "d", None, SendKind.CAMPAIGN)),
        st.just(("send", "d", None, SendKind.CAMPAIGN)),
        st.just(("send", "d", None, SendKind.TRANSACTIONAL)),
        st.tuples(st.just("advance"), st.sampled_from([10 * 60_000, HOUR, 3 * HOUR, 9 * HOUR])),
        st.tuples(st.just("text"), st.just("d"), st.sampled_from(["STOP", "START"])),
    )
    start = st.tuples(st.just("advance"), st.integers(0, 24 * HOUR))
    return [draw(start), ("text", "d", "START"), *draw(st.lists(step, max_size=40))]


steps = conversations()
RELAXED = settings(max_examples=500, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])


@settings(RELAXED, max_examples=1500)
@given(steps)
def test_nothing_reaches_a_phone_whose_latest_word_was_stop(plan: list[tuple[object, ...]]) -> None:
    ledger = run(plan)
    seq = 0
    stop_all: dict[str, int] = defaultdict(lambda: -1)
    opt_in: dict[str, int] = defaultdict(lambda: -1)
    scope_stop: dict[tuple[str, str], int] = defaultdict(lambda: -1)
    scope_in: dict[tuple[str, str], int] = defaultdict(lambda: -1)
    global_out = False
    requests: dict[str, SendRequest] = {}
    for item, decision in ledger.log:
        seq += 1
        if isinstance(item, InboundMessage):
            body, gw = item.body.upper(), item.gateway
            for scope in SCOPES:
                if body == f"STOP {scope}":
                    scope_stop[(gw, scope)] = seq
                elif body == scope:
                    scope_in[(gw, scope)] = seq
            if body in {w.upper() for w in OPT_OUT_WORDS}:
                for revoked in BRAND.get(gw, (gw,)):
                    stop_all[revoked] = seq
            if body in {w.upper() for w in OPT_IN_WORDS}:
                opt_in[gw] = seq
        elif isinstance(item, Command) and item.type is CommandType.NUMBER_CHANGED:
            # A new person may have the number now: the old words no longer apply.
            for model in (stop_all, opt_in, scope_stop, scope_in):
                model.clear()
        elif isinstance(item, SendRequest):
            requests[item.request_id] = item
        global_out = ledger_global_out(decision, global_out)
        for result in decision.results:
            if result.status is not SendStatus.FORWARDED:
                continue
            request = requests[result.request_id]
            gw = request.gateway
            assert not global_out, "forwarded under a global opt-out"
            if request.keyword is None:
                assert stop_all[gw] < opt_in[gw] or stop_all[gw] == -1, (
                    f"forwarded on {gw} after STOP without a new opt-in keyword")
            else:
                # The latest word that concerns this keyword: STOP, STOP <kw>, START or <kw>.
                last_out = max(stop_all[gw], scope_stop[(gw, request.keyword)])
                last_in = max(opt_in[gw], scope_in[(gw, request.keyword)])
                assert last_out == -1 or last_out < last_in, (
                    f"forwarded for {request.keyword} on {gw} after STOP")


def ledger_global_out(decision: Decision, current: bool) -> bool:
    for event in decision.events:
        if event.gateway == GLOBAL_GATEWAY:
            current = event.status is ConsentStatus.OPT_OUT
    return current


@RELAXED
@given(st.one_of(steps, campaigns()))
def test_every_request_gets_exactly_one_final_result(plan: list[tuple[object, ...]]) -> None:
    ledger = run(plan)
    final: dict[str, int] = defaultdict(int)
    held: set[str] = set()
    asked: set[str] = set()
    for item, decision in ledger.log:
        if isinstance(item, SendRequest):
            asked.add(item.request_id)
        for result in decision.results:
            if result.status is SendStatus.HELD:
                held.add(result.request_id)
            else:
                final[result.request_id] += 1
    still_held = {r.request_id for s in ledger.state.subscriptions.values() for r in s.held}
    assert all(n == 1 for n in final.values())
    assert set(final) | still_held == asked
    assert not set(final) & still_held
    assert still_held <= held
    # Two days on, every window has closed and every night has ended: nothing is held.
    for _ in range(4):
        ledger.now += 12 * HOUR
        ledger.timer()
    assert not [r for s in ledger.state.subscriptions.values() for r in s.held]
    released: dict[str, int] = defaultdict(int)
    for _, decision in ledger.log:
        for result in decision.results:
            if result.status is not SendStatus.HELD:
                released[result.request_id] += 1
    assert released == dict.fromkeys(asked, 1)


@RELAXED
@given(st.one_of(steps, campaigns()))
def test_campaign_sends_go_only_inside_quiet_hours_and_under_the_cap(
        plan: list[tuple[object, ...]]) -> None:
    ledger = run(plan)
    ledger.now += 2 * 24 * HOUR
    ledger.timer()
    requests = {item.request_id: item for item, _ in ledger.log if isinstance(item, SendRequest)}
    capped: list[int] = []
    for _, decision in ledger.log:
        for result in decision.results:
            request = requests[result.request_id]
            if result.status is not SendStatus.FORWARDED or request.kind is not SendKind.CAMPAIGN:
                continue
            assert DEFAULT_QUIET_HOURS.blocked(recipient_of(request.phone),
                                               result.decided_at) is None
            if request.gateway == "d":
                capped.append(result.decided_at)
    for at in capped:
        assert sum(1 for other in capped if at - CAP_WINDOW < other <= at) <= CAP_SENDS


@RELAXED
@given(steps)
def test_state_is_the_fold_of_the_events(plan: list[tuple[object, ...]]) -> None:
    ledger = run(plan)
    folded: dict[tuple[str, str | None], tuple[ConsentStatus, int]] = {}
    for _, decision in ledger.log:
        for event in decision.events:
            key = (event.gateway, event.keyword)
            assert event.version == folded.get(key, (None, 0))[1] + 1, "versions skip or repeat"
            folded[key] = (event.status, event.version)
    actual = {k: (s.status, s.version) for k, s in ledger.state.subscriptions.items()
              if s.version > 0}
    assert actual == folded


@RELAXED
@given(st.one_of(steps, campaigns()), st.data())
def test_replaying_any_prefix_is_idempotent(plan: list[tuple[object, ...]],
                                            data: st.DataObject) -> None:
    ledger = run(plan)
    if not ledger.log:
        return
    cut = data.draw(st.integers(0, len(ledger.log)))
    before = ledger.state
    for item, decision in ledger.log[:cut]:
        assert ledger.apply(item) == decision
    assert ledger.state == before


@RELAXED
@given(steps)
def test_decisions_are_deterministic(plan: list[tuple[object, ...]]) -> None:
    first, second = run(plan), run(plan)
    assert [d for _, d in first.log] == [d for _, d in second.log]
