"""The one workload generator (tests/support/workload.py): what the benchmark and the fault tests
rely on it for."""

from __future__ import annotations

from collections import Counter

from processor.domain.models.enums import SendKind
from processor.domain.models.inputs import Command, InboundMessage, SendRequest
from processor.topics import Topic
from tests.support.workload import CHURN, REALISTIC, build_workload


def test_the_same_seed_gives_the_same_bytes_and_another_seed_others() -> None:
    assert build_workload(500, 100, 7, CHURN) == build_workload(500, 100, 7, CHURN)
    assert build_workload(500, 100, 7) != build_workload(500, 100, 8)


def test_churn_keeps_texting_and_commanded_phones_apart() -> None:
    # The fault tests' reference folds each phone's history from one topic partition.
    workload = build_workload(5_000, 440, 3, CHURN)
    texters = {i.phone for i in workload.inputs if isinstance(i, InboundMessage)}
    commanded = {i.phone for i in workload.inputs if isinstance(i, Command)}
    sent_to = {i.phone for i in workload.inputs if isinstance(i, SendRequest)}
    assert texters and commanded
    assert not texters & commanded
    assert sent_to - texters - commanded  # phones that only get texts sent to them
    assert {i.kind for i in workload.inputs if isinstance(i, SendRequest)} == {
        SendKind.ONE_TO_ONE}
    assert {i.gateway for i in workload.inputs if isinstance(i, SendRequest)} == {
        "gw-a", "gw-b"}


def test_realistic_is_mostly_sends_and_chat_with_each_phone_on_one_gateway() -> None:
    workload = build_workload(20_000, 2_000, 5, REALISTIC)
    shares = Counter(r.topic for r in workload.records)
    assert 0.67 < shares[Topic.SEND_REQUESTS] / 20_000 < 0.73
    assert 0.22 < shares[Topic.INBOUND] / 20_000 < 0.28
    texts = shares[Topic.INBOUND]
    assert 0.03 < workload.keyword_texts / texts < 0.09
    gateways: dict[str, set[str | None]] = {}
    for item in workload.inputs:
        if not isinstance(item, Command) or item.gateway is not None:
            gateways.setdefault(item.phone, set()).add(item.gateway)
    assert all(len(g) == 1 for g in gateways.values())
    assert len(workload.request_ids) == shares[Topic.SEND_REQUESTS]
    assert len(workload.command_ids) == shares[Topic.COMMANDS]
    assert {i.kind for i in workload.inputs if isinstance(i, SendRequest)} == set(SendKind)
