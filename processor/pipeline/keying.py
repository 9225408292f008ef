"""How each output topic is keyed and partitioned: the one table to extend with an output topic.

Every record the worker produces stays on the partition number of the input it was decided
from, so one phone's records share a partition number on every topic whatever partitioner
the inputs' producers used. That includes the consent-state records, keyed per subscription:
partition N of that topic rebuilds the store of partition N alone
(processor.adapters.kafka.recovery). A topic created with another partition count than the
inputs gets the Java client's murmur2 of the key, as any client would (the sink applies it).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from processor import codec
from processor.topics import Topic


class Key(enum.Enum):
    PHONE = "the subscriber's E.164 phone (codec.encode_key)"
    SUBSCRIPTION = "phone|gateway|keyword, the compaction key (codec.encode_state_key)"
    INPUT_KEY = "the key of the input record, as it came"


class Partition(enum.Enum):
    INPUT_NUMBER = ("the input's partition number; murmur2 of the key when the topic has "
                    "another partition count than the inputs")


@dataclass(frozen=True, slots=True)
class Keying:
    key: Key
    partition: Partition = Partition.INPUT_NUMBER


OUTPUT_KEYING: Mapping[Topic, Keying] = MappingProxyType({
    Topic.OUTBOUND: Keying(Key.PHONE),
    Topic.SEND_RESULTS: Keying(Key.PHONE),
    Topic.CONSENT_EVENTS: Keying(Key.PHONE),
    Topic.CONSENT_STATE: Keying(Key.SUBSCRIPTION),
    Topic.COMMAND_RESULTS: Keying(Key.PHONE),
    Topic.NOTICES: Keying(Key.PHONE),
    Topic.DEAD_LETTER: Keying(Key.INPUT_KEY),
    # The window timer's expiry ticks: an input topic the worker also writes to.
    Topic.COMMANDS: Keying(Key.PHONE),
})


def phone_key(phone: str) -> bytes:
    """The key of a record under Key.PHONE."""
    return codec.encode_key(phone)


def subscription_key(phone: str, gateway: str, keyword: str | None) -> bytes:
    """The key of a record under Key.SUBSCRIPTION."""
    return codec.encode_state_key(phone, gateway, keyword)


def keeps_input_number(topic: Topic, count: int, co_partitions: int) -> bool:
    """Whether every record of `topic` (with `count` partitions) goes to the partition number
    of its input; otherwise the key's murmur2 hash picks the partition."""
    rule = OUTPUT_KEYING[topic].partition
    return rule is Partition.INPUT_NUMBER and count == co_partitions
