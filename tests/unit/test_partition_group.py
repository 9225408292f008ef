"""PartitionGroup: records of one partition number leave in broker-time order across topics."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.adapters.kafka.partition_group import PartitionGroup

INBOUND, COMMANDS, SENDS = "inbound", "commands", "sends"


@dataclass(frozen=True)
class Rec:
    name: str
    timestamp: int


def group() -> PartitionGroup[str, Rec]:
    return PartitionGroup([INBOUND, COMMANDS, SENDS])


def names(released: list[tuple[str, Rec]]) -> list[str]:
    return [r.name for _, r in released]


def test_records_leave_in_time_order_across_partitions() -> None:
    g = group()
    g.add(INBOUND, [Rec("stop", 5), Rec("chat", 9)], 1)
    g.add(COMMANDS, [Rec("cmd", 7)], 1)
    g.add(SENDS, [Rec("send", 6), Rec("send2", 10)], 1)
    released, waiting = g.release(3)
    assert names(released) == ["stop", "send", "cmd"]
    assert waiting == []
    # The next candidate, chat at 9, needs the commands partition: it is empty and unproven.
    released, waiting = g.release(10)
    assert released == []
    assert waiting == [COMMANDS]


def test_a_send_waits_for_the_other_partitions_until_they_are_proven_drained() -> None:
    g = group()
    g.add(SENDS, [Rec("send", 6)], 1)
    assert g.release(10) == ([], [INBOUND, COMMANDS])
    g.drained(INBOUND, 1)
    assert g.release(10) == ([], [COMMANDS])
    g.drained(COMMANDS, 1)
    released, waiting = g.release(10)
    assert (names(released), waiting) == (["send"], [])


def test_a_drained_check_made_before_a_record_arrived_does_not_release_it() -> None:
    g = group()
    g.drained(INBOUND, 1)
    g.drained(COMMANDS, 1)
    g.add(SENDS, [Rec("send", 6)], 2)  # fetched after the checks: a STOP may be behind it
    assert g.release(10) == ([], [INBOUND, COMMANDS])
    g.drained(INBOUND, 2)
    g.drained(COMMANDS, 2)
    assert names(g.release(10)[0]) == ["send"]


def test_a_stop_that_arrives_while_a_send_waits_goes_first() -> None:
    g = group()
    g.add(SENDS, [Rec("send", 6)], 1)
    g.drained(COMMANDS, 1)
    assert g.release(10)[1] == [INBOUND]
    g.add(INBOUND, [Rec("stop", 5)], 2)
    # The STOP arrived in a later round: the commands partition must be proven drained again.
    assert g.release(10) == ([], [COMMANDS])
    g.drained(COMMANDS, 2)
    g.drained(INBOUND, 2)
    assert names(g.release(10)[0]) == ["stop", "send"]


def test_at_equal_times_consent_changes_go_before_sends() -> None:
    g = group()
    g.add(SENDS, [Rec("send", 5)], 1)
    g.add(COMMANDS, [Rec("cmd", 5)], 1)
    g.add(INBOUND, [Rec("stop", 5)], 1)
    assert g.release(10) == ([(INBOUND, Rec("stop", 5))], [INBOUND])
    g.drained(INBOUND, 1)
    assert g.release(10) == ([(COMMANDS, Rec("cmd", 5))], [COMMANDS])
    g.drained(COMMANDS, 1)
    assert g.release(10) == ([(SENDS, Rec("send", 5))], [])


def test_one_partitions_order_is_kept_even_when_its_times_go_back() -> None:
    g = group()
    for tp in (INBOUND, COMMANDS):
        g.drained(tp, 1)
    g.add(SENDS, [Rec("a", 9), Rec("b", 3), Rec("c", 4)], 1)
    assert names(g.release(10)[0]) == ["a", "b", "c"]


def test_the_limit_and_clear() -> None:
    g = group()
    g.add(INBOUND, [Rec(f"m{i}", i) for i in range(5)], 1)
    g.add(COMMANDS, [Rec("late", 100)], 1)
    g.add(SENDS, [Rec("later", 101)], 1)
    released, waiting = g.release(2)
    assert (names(released), waiting) == (["m0", "m1"], [])
    assert (len(g), g.buffered(INBOUND)) == (5, 3)
    g.clear(INBOUND)
    assert (len(g), g.buffered(INBOUND)) == (2, 0)
    g.clear()
    assert len(g) == 0
    assert g.release(10) == ([], [])


# A broker that appends to three partitions at increasing times, and a consumer that fetches,
# checks end offsets and releases in any interleaving: nothing ever leaves before a record
# with an earlier time, and once everything is fetched and checked, everything leaves.
Step = tuple[str, int]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["append", "fetch", "check", "release"]),
                          st.integers(0, 2)), max_size=80))
def test_nothing_leaves_before_an_earlier_record_of_another_partition(steps: list[Step]) -> None:
    partitions = [INBOUND, COMMANDS, SENDS]
    log: dict[str, list[Rec]] = {tp: [] for tp in partitions}
    fetched = dict.fromkeys(partitions, 0)
    g = group()
    clock, fetch_round = 0, 0
    out: list[Rec] = []

    def fetch(tp: str) -> None:
        nonlocal fetch_round
        fetch_round += 1
        g.add(tp, log[tp][fetched[tp]:], fetch_round)
        fetched[tp] = len(log[tp])

    def check(tp: str) -> None:
        if fetched[tp] == len(log[tp]):  # position at the end offset
            g.drained(tp, fetch_round)

    for action, index in steps:
        tp = partitions[index]
        if action == "append":
            clock += 1
            log[tp].append(Rec(f"{tp}{clock}", clock))
        elif action == "fetch":
            fetch(tp)
        elif action == "check":
            check(tp)
        else:
            out += [r for _, r in g.release(3)[0]]
    assert [r.timestamp for r in out] == sorted(r.timestamp for r in out)
    released = {r.timestamp for r in out}
    # Whatever was appended before the last released record has left as well.
    if out:
        assert all(r.timestamp in released for rs in log.values() for r in rs
                   if r.timestamp < out[-1].timestamp)
    for tp in partitions:
        fetch(tp)
    for tp in partitions:
        check(tp)
    out += [r for _, r in g.release(10_000)[0]]
    assert [r.timestamp for r in out] == list(range(1, clock + 1))
