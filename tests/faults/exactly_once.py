"""The expected outcome of a ``CHURN`` workload (``tests/support/workload.py``), the committed
outputs of a run, and the checks that the run decided it exactly once.

Why the expected outcome is deterministic although the worker interleaves its three input topics
by broker append time (so the cross-topic interleaving differs per run):

* every gateway is in "default" mode (no gateways file), where a send never changes consent;
* a phone gets either inbound texts or commands, never both, so its consent history is a fold
  of one topic partition's records in their (always kept) order;
* sends go to every phone; which state a send sees depends on the interleaving, so sends are
  checked against the phone's history instead of against one expected answer.

The reference for "an uninterrupted run" is the pure domain (``processor.domain.engine.decide``)
folded per phone over the decoded inputs in topic order. That is exactly what an uninterrupted
worker computes for such a workload, it costs no second 50k run on a 2-core machine, and it
shares none of the machinery under test (batching, Redis, transactions, rebalances), where a
second worker run could share a bug with the one it is compared with. (The consent rules
themselves are the unit tests' business.)
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from msgspec.structs import replace

from processor import codec
from processor.adapters.kafka.clients import kafka_client_options
from processor.domain.consent.state import PhoneState
from processor.domain.engine import decide
from processor.domain.gateways.config import Gateways
from processor.domain.models.enums import ConsentSource, ConsentStatus, SendDebug, SendStatus
from processor.domain.models.inputs import Command, SendRequest
from processor.domain.models.outputs import CommandResult, ConsentEvent, OutboundMessage, SendResult
from processor.settings import Settings
from processor.topics import INPUT_TOPICS, Topic
from tests.support.workload import Workload

# The reference decides at this time (after every record of a workload).
DECIDED_AT = 1_800_000_000_000


# The expected outcome ------------------------------------------------------------------------


@dataclass
class Reference:
    """What an uninterrupted run decides for the consent side of the workload."""

    events: dict[str, list[ConsentEvent]] = field(default_factory=lambda: defaultdict(list))
    command_results: dict[str, CommandResult] = field(default_factory=dict)
    auto_replies: Counter[OutboundMessage] = field(default_factory=Counter)
    # Every state each phone passes through, in order (index 0: before any change).
    histories: dict[str, list[PhoneState]] = field(default_factory=dict)


def reference_run(workload: Workload, gateways: Gateways) -> Reference:
    ref = Reference()
    states: dict[str, PhoneState] = {}
    for item in workload.inputs:
        if isinstance(item, SendRequest):
            continue  # sends never change consent in default mode (checked in verify)
        state = states.get(item.phone, PhoneState(item.phone))
        decision = decide(state, item, gateways, DECIDED_AT)
        ref.events[item.phone].extend(_timeless(e) for e in decision.events)
        ref.auto_replies.update(_timeless(o) for o in decision.outbound if o.auto_reply)
        if decision.command_result is not None:
            done = decision.command_result
            ref.command_results[done.command_id] = _timeless(done)
        history = ref.histories.setdefault(item.phone, [state])
        if decision.changed:
            states[item.phone] = state.with_changes(decision.changed)
            history.append(states[item.phone])
    return ref


def _timeless(record: Any) -> Any:
    """The record without its decision time (the one field that differs between runs)."""
    if isinstance(record, ConsentEvent):
        return replace(record, occurred_at=0)
    return replace(record, decided_at=0)


# Reading -------------------------------------------------------------------------------------

OUTPUT_TOPICS = tuple(t for t in Topic if t not in INPUT_TOPICS)


async def wait_until_consumed(settings: Settings, timeout: float,
                              check: Callable[[], None] = lambda: None) -> None:
    """Returns once the group's committed offsets reach the end of every input partition;
    `check` runs on every poll (e.g. to fail fast when a worker died)."""
    names = [settings.topics(t) for t in INPUT_TOPICS]
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    reader = AIOKafkaConsumer(**kafka_client_options(settings), enable_auto_commit=False)
    await admin.start()
    await reader.start()
    try:
        partitions = [TopicPartition(n, p) for n in names for p in range(settings.partitions)]
        ends = await reader.end_offsets(partitions)
        deadline = time.monotonic() + timeout
        while True:
            check()
            committed = await admin.list_consumer_group_offsets(settings.group_id)
            behind = {tp: end - (committed[tp].offset if tp in committed else 0)
                      for tp, end in ends.items()}
            if not any(behind.values()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the group did not consume everything in {timeout}s; "
                                     f"records behind: {sum(behind.values())}")
            await asyncio.sleep(0.25)
    finally:
        await reader.stop()
        await admin.close()


@dataclass
class Outputs:
    """Every committed output record, decoded, in partition order per topic."""

    records: dict[Topic, list[Any]]

    def __getitem__(self, topic: Topic) -> list[Any]:
        return self.records[topic]


async def read_committed_outputs(settings: Settings, timeout: float = 60.0) -> Outputs:
    """Reads every output topic up to its last stable offset with a read_committed consumer.
    Call it once no transaction is open (every worker stopped or idle): then the last
    stable offset is the end and nothing committed later can be missed."""
    reader = AIOKafkaConsumer(**kafka_client_options(settings),
                              enable_auto_commit=False, isolation_level="read_committed",
                              max_partition_fetch_bytes=4 * 1024 * 1024)
    await reader.start()
    try:
        partitions = [TopicPartition(settings.topics(t), p)
                      for t in OUTPUT_TOPICS for p in range(settings.partitions)]
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        ends = await reader.end_offsets(partitions)
        by_partition: dict[TopicPartition, list[Any]] = defaultdict(list)
        deadline = time.monotonic() + timeout
        while [tp for tp, end in ends.items() if await reader.position(tp) < end]:
            if time.monotonic() > deadline:
                raise AssertionError(f"outputs not read to their end within {timeout}s")
            batch = await reader.getmany(timeout_ms=200, max_records=10_000)
            for tp, records in batch.items():
                by_partition[tp].extend(records)
    finally:
        await reader.stop()
    logical = {settings.topics(t): t for t in OUTPUT_TOPICS}
    decoded: dict[Topic, list[Any]] = {t: [] for t in OUTPUT_TOPICS}
    for tp in partitions:
        topic = logical[tp.topic]
        decoded[topic].extend(codec.RECORD_FOR_TOPIC[topic].decode(r.value)
                              for r in by_partition[tp])
    return Outputs(decoded)


# Verifying -----------------------------------------------------------------------------------


@dataclass
class Problems:
    """Every broken promise, grouped, with a few examples each (one assert shows them all)."""

    found: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, promise: str, example: str) -> None:
        self.found[promise].append(example)

    def report(self) -> str:
        return "\n".join(f"{promise}: {len(examples)} cases, e.g. {examples[:5]}"
                         for promise, examples in self.found.items())


def verify_exactly_once(workload: Workload, reference: Reference, outputs: Outputs,
                        gateways: Gateways) -> Problems:
    problems = Problems()
    inputs = workload.inputs
    requests = [i for i in inputs if isinstance(i, SendRequest)]
    commands = [i for i in inputs if isinstance(i, Command)]
    results = _check_one_result_per_request(requests, outputs, problems)
    _check_outbound(requests, results, reference, outputs, problems)
    _check_consent_events(reference, outputs, problems)
    _check_snapshots(results, outputs, problems)
    _check_sends_saw_real_history(requests, results, reference, gateways, problems)
    _check_command_results(commands, reference, outputs, problems)
    for topic in (Topic.DEAD_LETTER, Topic.NOTICES):
        for record in outputs[topic]:
            problems.add(f"nothing on {topic}", repr(record)[:200])
    return problems


def _check_one_result_per_request(requests: Sequence[SendRequest], outputs: Outputs,
                                  problems: Problems) -> dict[str, SendResult]:
    counts = Counter(r.request_id for r in outputs[Topic.SEND_RESULTS])
    for request in requests:
        if counts[request.request_id] != 1:
            problems.add("every send request has exactly one send-result",
                         f"{request.request_id}: {counts[request.request_id]} results")
    known = {r.request_id for r in requests}
    for request_id in counts.keys() - known:
        problems.add("no send-result for a request nobody sent", request_id)
    return {r.request_id: r for r in outputs[Topic.SEND_RESULTS]}


def _check_outbound(requests: Sequence[SendRequest], results: Mapping[str, SendResult],
                    reference: Reference, outputs: Outputs, problems: Problems) -> None:
    outbound: list[OutboundMessage] = outputs[Topic.OUTBOUND]
    for message_id, count in Counter(o.message_id for o in outbound).items():
        if count > 1:
            problems.add("no outbound message twice", f"{message_id}: {count} copies")
    forwarded = Counter(o.request_id for o in outbound if not o.auto_reply)
    for request_id, result in results.items():
        expected = 1 if result.status is SendStatus.FORWARDED else 0
        if forwarded[request_id] != expected:
            problems.add("a request is on sms.outbound once if Forwarded, else never",
                         f"{request_id} ({result.status}): {forwarded[request_id]} copies")
    for unknown in forwarded.keys() - results.keys():
        problems.add("no outbound record without a Forwarded result", str(unknown))
    # A replayed forward is rebuilt from the request and its stored result: it must be the
    # very message the result announced.
    bodies = {r.request_id: r.body for r in requests}
    for message in outbound:
        said = results.get(message.request_id or "")
        if message.auto_reply or said is None:
            continue
        announced = (said.message_id, said.phone, said.gateway, said.consent, said.decided_at,
                     bodies.get(said.request_id))
        sent = (message.message_id, message.phone, message.gateway, message.consent,
                message.decided_at, message.body)
        if sent != announced:
            problems.add("a forwarded message is the one its result announced",
                         f"{message.request_id}: {sent} != {announced}")
    replies = Counter(_timeless(o) for o in outbound if o.auto_reply)
    for reply in (replies - reference.auto_replies) + (reference.auto_replies - replies):
        problems.add("automatic replies equal those of an uninterrupted run",
                     f"{reply.message_id} {reply.reply_kind} to {reply.phone}: "
                     f"{replies[reply]} sent, {reference.auto_replies[reply]} expected")


def _check_consent_events(reference: Reference, outputs: Outputs, problems: Problems) -> None:
    events: list[ConsentEvent] = outputs[Topic.CONSENT_EVENTS]
    for event_id, count in Counter(e.event_id for e in events).items():
        if count > 1:
            problems.add("no consent event twice", f"{event_id}: {count} copies")
    by_phone: dict[str, list[ConsentEvent]] = defaultdict(list)
    for event in events:  # one phone's events share a partition: read in decision order
        by_phone[event.phone].append(_timeless(event))
    for phone in by_phone.keys() | reference.events.keys():
        actual, expected = by_phone.get(phone, []), reference.events.get(phone, [])
        if actual != expected:
            problems.add("consent events equal those of an uninterrupted run",
                         f"{phone}: {len(actual)} events, {len(expected)} expected; first "
                         f"difference at #{_first_difference(actual, expected)}")
    # Default mode: every subscription change is one event and one consent-state record.
    states = Counter((s.phone, s.gateway, s.keyword, s.version)
                     for s in outputs[Topic.CONSENT_STATE])
    changes = Counter((e.phone, e.gateway, e.keyword, e.version) for e in events)
    for change in (states - changes) + (changes - states):
        problems.add("one consent-state record per consent event",
                     f"{change}: {states[change]} states, {changes[change]} events")


def _first_difference(actual: Sequence[Any], expected: Sequence[Any]) -> int:
    return next((n for n, (a, e) in enumerate(zip(actual, expected, strict=False)) if a != e),
                min(len(actual), len(expected)))


def _check_snapshots(results: Mapping[str, SendResult], outputs: Outputs,
                     problems: Problems) -> None:
    """Each result's snapshot of the request's gateway subscription agrees with its status and
    is a state that subscription really passed through per the committed consent events
    (version 0: never touched). A global opt-out error carries the gateway subscription too,
    which may be anything: the global opt-out itself is checked against the phone's history."""
    reached = {(e.phone, e.gateway, e.keyword, e.version, e.status, e.source)
               for e in outputs[Topic.CONSENT_EVENTS]}
    for result in results.values():
        snap = result.consent
        untouched = (snap.version == 0 and snap.status is ConsentStatus.NO_OPT_IN
                     and snap.source is ConsentSource.NONE)
        if not untouched and (result.phone, result.gateway, None, snap.version, snap.status,
                              snap.source) not in reached:
            problems.add("a result's consent snapshot is a state the phone passed through",
                         f"{result.request_id}: {snap}")
        if result.status is SendStatus.FORWARDED:
            consistent = snap.status is not ConsentStatus.OPT_OUT and result.debug is None
        elif result.debug is SendDebug.PREVIOUS_OPT_OUT:
            consistent = result.status is SendStatus.ERROR and snap.status is ConsentStatus.OPT_OUT
        else:
            consistent = (result.status is SendStatus.ERROR
                          and result.debug is SendDebug.GLOBAL_OPT_OUT)
        if not consistent:
            problems.add("Forwarded only when not opted out; errors only for opt-outs",
                         f"{result.request_id}: {result.status} {result.debug} {snap}")


def _check_sends_saw_real_history(requests: Iterable[SendRequest],
                                  results: Mapping[str, SendResult], reference: Reference,
                                  gateways: Gateways, problems: Problems) -> None:
    """Each result is what the policy decides in some state of the phone's history, and a
    phone's later requests never see an older state: no forward after an opt-out took
    effect (global opt-outs included, which the snapshot alone cannot show)."""
    earliest: dict[str, int] = {}
    for request in requests:  # topic order: one phone's requests share a partition
        result = results.get(request.request_id)
        if result is None:
            continue  # reported as a missing result
        history = reference.histories.get(request.phone, [PhoneState(request.phone)])
        start = earliest.get(request.phone, 0)
        match = next((n for n in range(start, len(history))
                      if _decided(history[n], request, gateways, result) == result), None)
        if match is None:
            problems.add("every send is decided against a current state of its phone",
                         f"{request.request_id}: {result.status} {result.consent} matches no "
                         f"state from #{start} of {len(history)}")
        else:
            earliest[request.phone] = match


def _decided(state: PhoneState, request: SendRequest, gateways: Gateways,
             actual: SendResult) -> SendResult:
    decision = decide(state, request, gateways, actual.decided_at)
    assert not decision.changed, "a send changed consent: the workload is not default-mode"
    (result,) = decision.results
    return result


def _check_command_results(commands: Sequence[Command], reference: Reference, outputs: Outputs,
                           problems: Problems) -> None:
    actual: dict[str, list[CommandResult]] = defaultdict(list)
    for result in outputs[Topic.COMMAND_RESULTS]:
        actual[result.command_id].append(_timeless(result))
    for command in commands:
        got = actual.get(command.command_id, [])
        if len(got) != 1:
            problems.add("every command has exactly one command-result",
                         f"{command.command_id}: {len(got)} results")
        elif got[0] != reference.command_results[command.command_id]:
            problems.add("command results equal those of an uninterrupted run",
                         f"{command.command_id}: {got[0]}")
    for command_id in actual.keys() - {c.command_id for c in commands}:
        problems.add("no command-result for a command nobody sent", command_id)
