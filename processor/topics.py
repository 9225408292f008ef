"""Topic names: the one place they are spelled. Tests and adapters import from here."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Topic(enum.StrEnum):
    """Logical topics. The value is the default name; a prefix from settings may precede it."""

    INBOUND = "sms.inbound"
    SEND_REQUESTS = "sms.send-requests"
    COMMANDS = "sms.commands"
    OUTBOUND = "sms.outbound"
    SEND_RESULTS = "sms.send-results"
    CONSENT_EVENTS = "sms.consent-events"
    CONSENT_STATE = "sms.consent-state"
    COMMAND_RESULTS = "sms.command-results"
    NOTICES = "sms.notices"
    DEAD_LETTER = "sms.dead-letter"


# The worker consumes these; they are co-partitioned by subscriber phone number.
INPUT_TOPICS: tuple[Topic, ...] = (Topic.INBOUND, Topic.SEND_REQUESTS, Topic.COMMANDS)
# At equal broker times, inputs are decided in this order: consent changes before sends.
INPUT_ORDER: tuple[Topic, ...] = (Topic.INBOUND, Topic.COMMANDS, Topic.SEND_REQUESTS)
# Compacted: the latest value per key is what matters.
COMPACTED_TOPICS: frozenset[Topic] = frozenset({Topic.CONSENT_STATE})


@dataclass(frozen=True, slots=True)
class TopicNames:
    """Resolves logical topics to the names used on the broker (with the configured prefix)."""

    prefix: str = ""

    def __call__(self, topic: Topic) -> str:
        return f"{self.prefix}{topic.value}"

    def logical(self, name: str) -> Topic:
        """The logical topic for a broker topic name; ValueError when it is not one of ours."""
        if self.prefix and not name.startswith(self.prefix):
            raise ValueError(f"topic {name!r} does not carry the prefix {self.prefix!r}")
        return Topic(name[len(self.prefix):])
