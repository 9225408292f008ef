"""The keying table: every topic the worker writes has a row, and the outputs follow it."""

from __future__ import annotations

from processor import codec
from processor.domain.consent.state import PhoneState
from processor.domain.engine import decide
from processor.pipeline.batch import encode_decision
from processor.pipeline.keying import OUTPUT_KEYING, Key, keeps_input_number
from processor.topics import INPUT_TOPICS, Topic
from tests.support.consent_helpers import gateways, inbound, send

PHONE = "+12025550123"


def test_every_topic_the_worker_writes_has_a_keying_row() -> None:
    # Outputs, and the timer's ticks on sms.commands.
    written = (set(Topic) - set(INPUT_TOPICS)) | {Topic.COMMANDS}
    assert set(OUTPUT_KEYING) == written


def test_outputs_keep_the_input_partition_number_unless_the_topic_is_laid_out_otherwise() -> None:
    assert keeps_input_number(Topic.SEND_RESULTS, count=6, co_partitions=6)
    assert not keeps_input_number(Topic.SEND_RESULTS, count=3, co_partitions=6)


def test_encoded_outputs_are_keyed_as_the_table_says() -> None:
    config = gateways(gw1={})
    state = PhoneState(PHONE)
    seen = set()
    for item in (send("gw1", request_id="r-1", phone=PHONE),
                 inbound("STOP", "gw1", message_id="m-1", phone=PHONE)):
        decision = decide(state, item, config, 1_800_000_000_000)
        state = state.with_changes(decision.changed, decision.send_logs)
        for output, _ in encode_decision(decision):
            seen.add(output.topic)
            rule = OUTPUT_KEYING[output.topic].key
            if rule is Key.PHONE:
                assert output.key == codec.encode_key(PHONE)
            else:
                assert rule is Key.SUBSCRIPTION
                assert output.key == codec.encode_state_key(PHONE, "gw1", None)
    assert {Topic.SEND_RESULTS, Topic.OUTBOUND, Topic.CONSENT_EVENTS,
            Topic.CONSENT_STATE} <= seen
