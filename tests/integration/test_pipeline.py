"""BatchProcessor against the ConsentStore port: batches decide once, replays answer the same.

Every test runs twice, against the in-memory store (tests/support; no broker, no Redis) and
against the real RedisConsentStore, so the two stores are held to one contract. Select the
in-memory run alone with ``-m "not integration"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec
import orjson
import pytest
import redis.asyncio as aioredis

from processor import codec
from processor.adapters.redis_store import RedisConsentStore
from processor.domain.models.enums import CommandType, ConsentStatus, SendStatus
from processor.pipeline import BatchProcessor, InputRecord, OutputRecord, batch, outcomes
from processor.pipeline.window_timer import WindowTimer
from processor.ports import ConsentStore, ManualClock, PhoneWrite, VersionConflictError
from processor.topics import Topic
from tests.support.consent_helpers import command, gateways, inbound, send
from tests.support.memory_store import MemoryConsentStore

PHONE = "+12025550123"


@dataclass
class Backend:
    """A store under test, and what the tests look at beneath the port."""

    store: ConsentStore
    redis: aioredis.Redis | None = None

    async def pending(self, partition: int) -> int:
        """Entries in the partition's window index, due or not."""
        if isinstance(self.store, MemoryConsentStore):
            return len(self.store.pending[partition])
        assert isinstance(self.store, RedisConsentStore) and self.redis is not None
        return int(await self.redis.zcard(self.store.pending_key(partition)))

    async def plant(self, partition: int, member: str, score: int) -> None:
        """A window entry left behind (say, a crash between a state write and its clean-up)."""
        if isinstance(self.store, MemoryConsentStore):
            self.store.pending[partition][member.encode()] = score
            return
        assert isinstance(self.store, RedisConsentStore) and self.redis is not None
        await self.redis.zadd(self.store.pending_key(partition), {member: score})


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Sync, so that the Redis fixtures are only set up (through getfixturevalue) for the
    Redis run: the in-memory run needs no server."""
    if request.param == "memory":
        return Backend(MemoryConsentStore())
    client: aioredis.Redis = request.getfixturevalue("redis_client")
    prefix: str = request.getfixturevalue("redis_prefix")
    return Backend(RedisConsentStore(client, prefix, retention_ms=3_600_000), client)


class Feed:
    """Encodes domain inputs into the records the worker would hand over."""

    def __init__(self) -> None:
        self.offsets: dict[Topic, int] = {}

    def record(self, topic: Topic, value: bytes | None, key: bytes | None = None) -> InputRecord:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        return InputRecord(topic, 0, offset, key or PHONE.encode(), value, timestamp=offset)

    def text(self, body: str, message_id: str, gw: str = "gw1") -> InputRecord:
        return self.record(Topic.INBOUND, codec.encode_inbound(
            inbound(body, gw, message_id=message_id)))

    def send(self, request_id: str, gw: str = "gw1", **kwargs: object) -> InputRecord:
        return self.record(Topic.SEND_REQUESTS, codec.encode_send_request(
            send(gw, request_id=request_id, **kwargs)))  # type: ignore[arg-type]


def by_topic(outputs: Sequence[OutputRecord], topic: Topic) -> list[bytes]:
    return [o.value for o in outputs if o.topic is topic and o.value is not None]


@pytest.fixture
def processor(backend: Backend) -> BatchProcessor:
    return BatchProcessor(backend.store, gateways(gw1={}), ManualClock())


Windows = tuple[ManualClock, ConsentStore, BatchProcessor]


@pytest.fixture
def double_opt_in(backend: Backend) -> Windows:
    """A processor on a double opt-in gateway with a 10-minute window and a manual clock."""
    clock = ManualClock()
    config = gateways(gw1={"mode": "double_opt_in", "pending_window": "10m"})
    return clock, backend.store, BatchProcessor(backend.store, config, clock)


async def test_a_batch_decides_in_order_and_a_replay_answers_the_same(
        processor: BatchProcessor) -> None:
    feed = Feed()
    batch = [feed.send("r-1", body="before"), feed.text("STOP", "m-1"),
             feed.send("r-2", body="after"), feed.text("START", "m-2"),
             feed.send("r-3", body="again")]
    first = await processor.process(batch, partition=0)
    results = [codec.decode_send_result(v) for v in by_topic(first.outputs, Topic.SEND_RESULTS)]
    assert [(r.request_id, r.status) for r in results] == [
        ("r-1", SendStatus.FORWARDED), ("r-2", SendStatus.ERROR), ("r-3", SendStatus.FORWARDED)]
    events = [codec.decode_consent_event(v) for v in by_topic(first.outputs,
                                                               Topic.CONSENT_EVENTS)]
    assert [e.status for e in events] == [ConsentStatus.OPT_OUT, ConsentStatus.OPT_IN]
    assert (first.decided, first.replayed, first.invalid) == (5, 0, 0)

    # The same records again (a crash before the Kafka commit): the same outputs, byte for
    # byte, and no second transition.
    again = await processor.process(batch, partition=0)
    assert again.outputs == first.outputs
    assert (again.decided, again.replayed) == (0, 5)


async def test_a_replayed_prefix_then_new_records_continue_from_the_stored_state(
        processor: BatchProcessor) -> None:
    feed = Feed()
    batch = [feed.text("STOP", "m-1"), feed.send("r-1")]
    await processor.process(batch, partition=0)
    later = [feed.send("r-2")]
    outcome = await processor.process([batch[0], *later], partition=0)
    (replayed_event,) = by_topic(outcome.outputs, Topic.CONSENT_EVENTS)
    assert codec.decode_consent_event(replayed_event).status is ConsentStatus.OPT_OUT
    (result,) = [codec.decode_send_result(v) for v in by_topic(outcome.outputs,
                                                                Topic.SEND_RESULTS)]
    assert (result.request_id, result.status) == ("r-2", SendStatus.ERROR)


async def test_forwarded_outbound_is_rebuilt_identically_without_storing_the_body(
        processor: BatchProcessor, backend: Backend) -> None:
    feed = Feed()
    body = "A long message body " * 20
    batch = [feed.send("r-1", body=body)]
    first = await processor.process(batch, partition=0)
    stored = (await backend.store.load({PHONE: ["r:r-1"]}))[PHONE].outcomes["r:r-1"]
    assert body.encode() not in stored
    again = await processor.process(batch, partition=0)
    assert again.outputs == first.outputs
    (message,) = by_topic(again.outputs, Topic.OUTBOUND)
    assert codec.decode_outbound(message).body == body


async def test_a_replay_rebuilds_the_forwarded_copy_without_decoding_a_stored_result(
        processor: BatchProcessor, monkeypatch: pytest.MonkeyPatch) -> None:
    feed = Feed()
    batch = [feed.send("r-1", body="hello there")]
    first = await processor.process(batch, partition=0)

    def refuse(value: bytes) -> None:
        raise AssertionError("a replay decoded a stored send result")

    monkeypatch.setattr(codec, "decode_send_result", refuse)
    again = await processor.process(batch, partition=0)
    assert (again.replayed, again.outputs) == (1, first.outputs)


def json_outcome(stored: outcomes.StoredOutcome) -> bytes:
    """The format of the releases before msgpack: JSON, the outputs' bytes as text."""
    return orjson.dumps({"d": stored.digest, "o": [
        e if isinstance(e, str) else [e[0], e[1].decode(), e[2].decode()]  # type: ignore[union-attr]
        for e in stored.entries]})


def msgpack_outcome_without_forwarded(stored: outcomes.StoredOutcome) -> bytes:
    """The msgpack format before the forwarded copy's fields were stored: [digest, entries]."""
    return msgspec.msgpack.encode((stored.digest, stored.entries))


@pytest.mark.parametrize("legacy_format", [json_outcome, msgpack_outcome_without_forwarded])
async def test_outcomes_stored_by_earlier_releases_are_replayed_identically(
        processor: BatchProcessor, backend: Backend,
        legacy_format: Callable[[outcomes.StoredOutcome], bytes]) -> None:
    """Outcomes live for the retention period, so those an earlier release stored must still
    answer a redelivered input with the same bytes."""
    feed = Feed()
    batch = [feed.text("STOP", "m-1"), feed.send("r-1"), feed.send("r-2", gw="gw2")]
    first = await processor.process(batch, partition=0)
    causes = ["m:m-1", "r:r-1", "r:r-2"]
    loaded = (await backend.store.load({PHONE: causes}))[PHONE].outcomes
    legacy = {cause: legacy_format(outcomes.unpack_outcome(loaded[cause])) for cause in causes}
    await backend.store.commit([PhoneWrite(PHONE, outcomes=legacy)], partition=0)
    again = await processor.process(batch, partition=0)
    assert (again.decided, again.replayed) == (0, 3)
    assert again.outputs == first.outputs


async def test_duplicates_inside_one_batch_are_decided_once(processor: BatchProcessor) -> None:
    feed = Feed()
    stop = feed.text("STOP", "m-1")
    outcome = await processor.process([stop, feed.text("STOP", "m-1")], partition=0)
    assert (outcome.decided, outcome.replayed) == (1, 1)
    events = by_topic(outcome.outputs, Topic.CONSENT_EVENTS)
    assert len(events) == 2 and events[0] == events[1]  # the same event, same id, twice


async def test_bad_records_become_dead_letters_and_good_ones_are_decided(
        processor: BatchProcessor) -> None:
    feed = Feed()
    batch = [feed.send("r-1"), feed.record(Topic.INBOUND, b"{not json"),
             feed.record(Topic.SEND_REQUESTS, b'{"schema_version": 1}'),
             feed.record(Topic.INBOUND, None), feed.send("r-2")]
    outcome = await processor.process(batch, partition=0)
    assert (outcome.decided, outcome.invalid) == (2, 3)
    letters = [codec.decode_dead_letter(v) for v in by_topic(outcome.outputs, Topic.DEAD_LETTER)]
    assert [(d.topic, d.offset) for d in letters] == [
        ("sms.inbound", 0), ("sms.send-requests", 1), ("sms.inbound", 1)]
    assert all(d.reason for d in letters)
    assert letters[0].value == b"{not json"


async def test_a_conflicting_writer_is_fenced(processor: BatchProcessor,
                                              backend: Backend) -> None:
    feed = Feed()
    await processor.process([feed.text("STOP", "m-1")], partition=0)
    zombie = backend.store  # another worker's view of the same store
    loaded = await zombie.load({PHONE: []})
    stale = loaded[PHONE].state.get("gw1")
    await processor.process([feed.text("START", "m-2")], partition=0)
    with pytest.raises(VersionConflictError):
        await zombie.commit([PhoneWrite(PHONE, [(stale, stale.version)])], partition=0)


async def test_expiry_ticks_flow_through_the_commands_topic(double_opt_in: Windows) -> None:
    clock, store, processor = double_opt_in
    feed = Feed()
    await processor.process([feed.text("START", "m-1")], partition=2)
    assert await store.due_windows(2, clock.now, 10) == []
    clock.advance(10 * 60_000)
    (due,) = await store.due_windows(2, clock.now, 10)
    tick = command(CommandType.EXPIRE_WINDOW, due.gateway, keyword=due.keyword,
                   until=due.due_at, actor="timer", command_id="tick-1")
    outcome = await processor.process(
        [feed.record(Topic.COMMANDS, codec.encode_command(tick))], partition=2)
    (event,) = [codec.decode_consent_event(v) for v in by_topic(outcome.outputs,
                                                                 Topic.CONSENT_EVENTS)]
    assert (event.status, event.source.value) == (ConsentStatus.OPT_IN_PENDING, "expiry")


async def test_a_window_that_closes_early_leaves_no_timer_entry(
        double_opt_in: Windows, backend: Backend) -> None:
    clock, store, processor = double_opt_in
    feed = Feed()
    await processor.process([feed.text("START", "m-1")], partition=1)
    assert await backend.pending(1) == 1
    await processor.process([feed.text("YES", "m-2")], partition=1)
    # Confirmed: the timer has nothing to tick at close time.
    assert await backend.pending(1) == 0
    await processor.process([feed.text("STOP", "m-3"), feed.text("START", "m-4")], partition=1)
    clock.advance(10 * 60_000)
    (due,) = await store.due_windows(1, clock.now, 10)  # the new window, not a stale one
    assert due.due_at == clock.now


async def test_a_reused_request_id_with_other_content_is_refused_not_replayed(
        processor: BatchProcessor) -> None:
    """Found in review: the stored outcome was replayed for a new body on another gateway,
    where the phone had opted out; the rebuilt message went out there."""
    feed = Feed()
    await processor.process([feed.text("STOP", "m-1", gw="gw2"), feed.send("r-1", gw="gw1")],
                            partition=0)
    reused = await processor.process([feed.send("r-1", gw="gw2", body="PROMO on gw2")],
                                     partition=0)
    assert by_topic(reused.outputs, Topic.OUTBOUND) == []
    assert by_topic(reused.outputs, Topic.SEND_RESULTS) == []
    (letter,) = [codec.decode_dead_letter(v) for v in by_topic(reused.outputs,
                                                               Topic.DEAD_LETTER)]
    assert letter.error_type == "reused_id"
    assert "'r-1' was already decided" in letter.reason
    assert reused.invalid_flags == [True]
    # The same request again (a redelivery) is still answered with its stored outputs.
    again = await processor.process([feed.send("r-1", gw="gw1")], partition=0)
    (result,) = by_topic(again.outputs, Topic.SEND_RESULTS)
    assert codec.decode_send_result(result).gateway == "gw1"


async def test_ids_of_different_input_kinds_never_answer_for_each_other(
        processor: BatchProcessor) -> None:
    """Found in review: an inbound message and a send request sharing an id shared one stored
    outcome, so the send got no result (or the worker stopped on an assertion)."""
    feed = Feed()
    outcome = await processor.process([feed.text("hello", "x-1"), feed.send("x-1")],
                                      partition=0)
    (result,) = by_topic(outcome.outputs, Topic.SEND_RESULTS)
    assert codec.decode_send_result(result).request_id == "x-1"
    forwarded_first = await processor.process([feed.send("x-9"), feed.text("hi", "x-9")],
                                              partition=0)
    assert (forwarded_first.decided, forwarded_first.invalid) == (2, 0)


async def test_a_bug_deciding_one_record_dead_letters_it_and_the_batch_goes_on(
        processor: BatchProcessor, monkeypatch: pytest.MonkeyPatch) -> None:
    real_decide = batch.decide

    def decide_or_fail(state, item, gateways, now):  # type: ignore[no-untyped-def]
        if getattr(item, "request_id", None) == "r-bug":
            raise ZeroDivisionError("a bug in a rule")
        return real_decide(state, item, gateways, now)

    monkeypatch.setattr(batch, "decide", decide_or_fail)
    feed = Feed()
    outcome = await processor.process([feed.send("r-1"), feed.send("r-bug"), feed.send("r-2")],
                                      partition=0)
    assert [codec.decode_send_result(v).request_id
            for v in by_topic(outcome.outputs, Topic.SEND_RESULTS)] == ["r-1", "r-2"]
    (letter,) = [codec.decode_dead_letter(v) for v in by_topic(outcome.outputs,
                                                               Topic.DEAD_LETTER)]
    assert (letter.error_type, letter.offset) == ("internal", 1)
    assert "a bug in a rule" in letter.reason
    assert outcome.invalid_flags == [False, True, False]


async def test_the_timer_leases_a_window_until_its_expiry_is_decided(
        double_opt_in: Windows) -> None:
    """Found in review: the timer dropped a window's entry as soon as its tick was sent, so a
    tick that was lost or decided 'early' (a lagging clock) left the window open for ever."""
    clock, store, processor = double_opt_in
    timer = WindowTimer(store, lease_ms=30_000)
    feed = Feed()
    await processor.process([feed.text("START", "m-1")], partition=0)
    clock.advance(10 * 60_000)
    (tick,), settlement = await timer.due(0, clock.now)
    await timer.settle(0, settlement)
    assert (await timer.due(0, clock.now + 29_999))[0] == []  # leased: the tick is in flight
    # The tick is lost (or decided too early: nothing happens); the window is ticked again.
    (again,), settlement = await timer.due(0, clock.now + 30_000)
    assert again.until == tick.until
    await timer.settle(0, settlement)
    clock.advance(30_000)
    outcome = await processor.process(
        [feed.record(Topic.COMMANDS, codec.encode_command(again))], partition=0)
    assert [codec.decode_consent_event(v).source.value
            for v in by_topic(outcome.outputs, Topic.CONSENT_EVENTS)] == ["expiry"]
    assert await store.due_windows(0, clock.now + 10**9, 10) == []  # closed: entry removed


async def test_the_timer_drops_entries_with_no_open_window_behind_them(
        double_opt_in: Windows, backend: Backend) -> None:
    clock, store, processor = double_opt_in
    feed = Feed()
    await processor.process([feed.text("START", "m-1")], partition=0)
    # An entry left behind (say, a crash between the state write and its clean-up).
    await backend.plant(0, f"{PHONE}|gw1|", clock.now)
    await processor.process([feed.text("YES", "m-2")], partition=0)
    await backend.plant(0, f"{PHONE}|gw1|", clock.now)
    timer = WindowTimer(store)
    ticks, settlement = await timer.due(0, clock.now)
    assert ticks == []
    await timer.settle(0, settlement)
    assert await backend.pending(0) == 0
