"""Output records: what consent-gate writes on sms.outbound, sms.send-results,
sms.consent-events, sms.command-results, sms.notices and sms.dead-letter."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from processor.domain.models.enums import (
    CommandOutcome,
    CommandType,
    ConsentSource,
    ConsentStatus,
    ErrorType,
    SendDebug,
    SendStatus,
)
from processor.domain.models.wire import (
    ADDED,
    SEND_RESULT_VERSION,
    AutoReplyKind,
    Base64,
    Body,
    Detail,
    Dialable,
    E164Phone,
    EventVersion,
    Gateway,
    Id,
    InboundBody,
    Keyword,
    NoticeKind,
    Offset,
    PartitionNumber,
    Person,
    Reason,
    Record,
    SubscriptionGateway,
    Time,
    TopicName,
    Version,
)


class ConsentSnapshot(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """The consent a decision was made under."""

    status: Annotated[ConsentStatus, Meta(description="Consent status at the decision.")]
    source: Annotated[ConsentSource, Meta(description="What caused that status.")]
    version: Annotated[Version, Meta(
        description="Subscription version at the decision (0: untouched).")]


class OutboundMessage(Record, kw_only=True, frozen=True):
    """A message that may be sent, on topic sms.outbound, keyed by the recipient's E.164 phone: a
    forwarded send request, or an automatic reply consent-gate composed (opt-out/opt-in
    confirmation, HELP, consent request, disclaimer). Nothing else may reach a phone.
    """

    message_id: Annotated[Id, Meta(description=(
        'Id of this outbound message; the send-result of a forwarded request carries it'
        ' as message_id.'))]
    request_id: Annotated[Id | None, Meta(description=(
        'The send request forwarded; null for automatic replies.'))] = None
    phone: Annotated[E164Phone, Meta(description=(
        'The recipient, E.164 (domain: OutboundMessage.phone).'))] = msgspec.field(name="to")
    gateway: Annotated[Gateway, Meta(description=(
        'The gateway to send from.'))]
    body: Annotated[Body, Meta(description=(
        "The text to send: the request's body, or the rendered reply template."))]
    auto_reply: Annotated[bool, Meta(description=(
        'true for a reply consent-gate composed, false for a forwarded send request.'))]
    in_reply_to: Annotated[Id | None, Meta(description=(
        'The inbound message_id this replies to; null when not a reply to an inbound '
        'message.'))] = None
    reply_kind: Annotated[AutoReplyKind | None, Meta(description=(
        'The template of an automatic reply; null for forwarded requests.'))] = None
    consent: Annotated[ConsentSnapshot, Meta(description=(
        "The recipient's consent the decision was made under."))]
    decided_at: Annotated[Time, Meta(description=(
        'When consent-gate decided to send.'))]


class SendResult(Record, kw_only=True, frozen=True, tag=SEND_RESULT_VERSION):
    """The decision on one send request, on topic sms.send-results, keyed by the recipient's E.164
    phone: exactly one final result per request_id (Forwarded or Error), possibly preceded by a
    Held one. This is the rewritten record the upstream app reads: Forwarded (the message is on
    sms.outbound), Error (consent or a frequency cap forbids it; debug says why), or Held
    (waiting for the phone to answer a consent request, or for the end of the phone's quiet
    hours). Version 2: version 1 had no sendable_at, no Frequency Cap and no quiet-hours holds.
    """

    request_id: Annotated[Id, Meta(description=(
        'The send request decided.'))]
    phone: Annotated[E164Phone, Meta(description=(
        'The recipient, E.164 (domain: SendResult.phone).'))] = msgspec.field(name="to")
    gateway: Annotated[Gateway, Meta(description=(
        "The request's gateway."))]
    status: Annotated[SendStatus, Meta(description=(
        'Forwarded: sent on to sms.outbound. Error: not sent, see debug and detail. '
        'Held: kept in the subscription (consent-state held) until the phone answers a '
        'consent request (the requesting user is told on sms.notices), or, for a '
        'campaign send inside the phone\'s quiet hours, until sendable_at, when it is '
        'decided again (a STOP meanwhile wins). A Held result is followed by exactly one '
        'Forwarded or Error result.'))]
    debug: Annotated[SendDebug | None, Meta(description=(
        'Why a request was not forwarded: Previous Opt-out (the phone opted out), No '
        'Opt-In (a campaign needs an opt-in the phone never gave), Opt-In Pending '
        '(waiting for a confirmation), Global Opt-out (the phone opted out of every '
        'gateway), Frequency Cap (the gateway\'s cap of campaign sends to the phone in '
        'its rolling window is reached; detail says which); null when forwarded or held.'))] = None
    detail: Annotated[Detail | None, Meta(description=(
        "Human text for the upstream app's user, e.g. which keyword has no opt-in; null"
        ' when there is nothing to add.'))] = None
    message_id: Annotated[Id | None, Meta(description=(
        "The outbound message's id when Forwarded; null otherwise."))] = None
    sendable_at: Annotated[Time | None, Meta(extra={"since": 2}, description=(
        'Held for quiet hours: when the send becomes sendable in every time zone of the '
        "recipient's number under every quiet-hours rule that applies to it; the timer "
        'decides it again then. Null otherwise.'))] = None
    consent: Annotated[ConsentSnapshot, Meta(description=(
        "The recipient's consent the decision was made under."))]
    decided_at: Annotated[Time, Meta(description=(
        'When consent-gate decided.'))]


class ConsentEvent(Record, kw_only=True, frozen=True):
    """One change of one subscription (phone, gateway, keyword scope), on topic sms.consent-events,
    keyed by the phone's E.164 number. The audit trail: every opt-in, opt-out, pending and
    expiry, with what caused it.
    """

    event_id: Annotated[Id, Meta(description=(
        'Deterministic id: the same input (cause and subscription) always yields the '
        'same id, so consumers can deduplicate replays.'))]
    phone: Annotated[E164Phone, Meta(description=(
        'The subscriber, E.164.'))]
    gateway: Annotated[SubscriptionGateway, Meta(description=(
        "The subscription's gateway; '*' for the phone's global opt-out."))]
    keyword: Annotated[Keyword | None, Meta(description=(
        "The subscription's keyword scope; null for the whole gateway."))]
    previous_status: Annotated[ConsentStatus, Meta(description=(
        'Status before the change.'))]
    status: Annotated[ConsentStatus, Meta(description=(
        'Status after the change.'))]
    source: Annotated[ConsentSource, Meta(description=(
        'What caused the change.'))]
    detail: Annotated[Detail, Meta(description=(
        "The text users know, exactly: 'Opt-out keyword: STOP', 'Opt-in keyword: "
        "START', 'Manual opt-out by <actor>', 'Opt-in from incoming SMS', ..."))]
    actor: Annotated[Person | None, Meta(description=(
        'The user or system that made the change; null when the phone itself did '
        '(keywords, replies) or a timer did (expiry).'))]
    cause_id: Annotated[Id, Meta(description=(
        'The inbound message_id, command_id or request_id that caused the change.'))]
    version: Annotated[EventVersion, Meta(description=(
        "The subscription's version after the change: strictly increasing per "
        'subscription, 1 for the first change of an untouched subscription.'))]
    occurred_at: Annotated[Time, Meta(description=(
        'When the change took effect.'))]
    # The evidence (added within version 1: absent on events written before it).
    message_id: Annotated[Id | None, Meta(extra=ADDED, description=(
        'Evidence: the inbound message (carrier message id) that made the change; null '
        'when the change did not come from a text. Absent on events written by earlier '
        'releases.'))] = None
    message_text: Annotated[InboundBody | None, Meta(extra=ADDED, description=(
        'Evidence: the exact text the phone sent, kept only when it was an opt-in or '
        'opt-out (a keyword such as STOP or START, or a revocation in plain words); null '
        'for every other text and for changes that did not come from a text. Absent on '
        'events written by earlier releases.'))] = None
    gateway_number: Annotated[Dialable | None, Meta(extra=ADDED, description=(
        'Evidence: our number or short code the phone texted, as the carrier spelled it; '
        'null when the change did not come from a text. Absent on events written by '
        'earlier releases.'))] = None
    received_at: Annotated[Time | None, Meta(extra=ADDED, description=(
        'Evidence: when the carrier received the text; null when the change did not come '
        'from a text. Absent on events written by earlier releases.'))] = None
    command_id: Annotated[Id | None, Meta(extra=ADDED, description=(
        'Evidence: the command (manual, API, import, global opt-out, number change) that '
        'made the change, whose actor is in actor; null otherwise. Absent on events '
        'written by earlier releases.'))] = None


class CommandResult(Record, kw_only=True, frozen=True):
    """The outcome of one command, on topic sms.command-results, keyed by the phone's E.164 number:
    exactly one per command_id.
    """

    command_id: Annotated[Id, Meta(description=(
        'The command decided.'))]
    type: Annotated[CommandType, Meta(description=(
        "The command's type."))]
    phone: Annotated[E164Phone, Meta(description=(
        "The command's phone, normalised to E.164."))]
    gateway: Annotated[SubscriptionGateway | None, Meta(description=(
        "The subscription's gateway ('*' for the global opt-out); null when the command"
        ' named none.'))] = None
    keyword: Annotated[Keyword | None, Meta(description=(
        "The subscription's keyword scope; null for the whole gateway."))] = None
    result: Annotated[CommandOutcome, Meta(description=(
        'applied: the change was made (or was already in effect); rejected: see reason.'))]
    reason: Annotated[Detail | None, Meta(description=(
        'Why the command was rejected (e.g. an opt-out from another source needs a '
        'permission the actor lacks); null when applied.'))] = None
    event_ids: Annotated[tuple[Id, ...], Meta(description=(
        'The consent-events the command caused, in order; empty when nothing changed.'))] = ()
    decided_at: Annotated[Time, Meta(description=(
        'When consent-gate decided.'))]


class Notice(Record, kw_only=True, frozen=True):
    """A notification to the user who asked to text a phone, in the consent-request flow, on topic
    sms.notices, keyed by the phone's E.164 number: a consent request went out, the phone opted
    in or out, or the request expired.
    """

    notice_id: Annotated[Id, Meta(description=(
        'Id of this notice.'))]
    recipient: Annotated[Person, Meta(description=(
        'The user to notify: the requested_by of the held send request.'))]
    phone: Annotated[E164Phone, Meta(description=(
        'The subscriber the notice is about, E.164.'))]
    gateway: Annotated[Gateway, Meta(description=(
        'The gateway of the subscription.'))]
    kind: Annotated[NoticeKind, Meta(description=(
        "What happened; also the name of the notice's template."))]
    body: Annotated[Body, Meta(description=(
        'The rendered notice text.'))]
    created_at: Annotated[Time, Meta(description=(
        'When consent-gate wrote the notice.'))]
    request_id: Annotated[Id | None, Meta(description=(
        'The held send request the notice is about; null when it concerns no single '
        'request.'))] = None


class Header(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """A Kafka header on the wire (a dead letter keeps the failed record's headers)."""

    key: Annotated[str, Meta(description="Header name.")]
    value: Annotated[Base64, Meta(description="Header value bytes, base64.")]


# Kafka headers: (name, bytes) pairs inside, Header objects on the wire.
Headers = Annotated[tuple[tuple[str, bytes], ...], Meta(extra={"wire": Header})]

class DeadLetter(Record, kw_only=True, frozen=True):
    """A record consent-gate could not decide, on topic sms.dead-letter, keyed like the original
    record (its original key is also kept below): why, where it came from, and its original
    bytes, so it can be fixed and replayed.
    """

    reason: Annotated[Reason, Meta(description=(
        "What is wrong, for people: the field's path and the problem, quoting the "
        'offending value (cut to 60 characters), e.g. "from: not a valid phone number '
        '(\'+1555\')" or "received_at: not an RFC 3339 time with offset (\'2026-01-01 '
        '10:00\')".'))]
    error_type: Annotated[ErrorType, Meta(description=(
        'What kind of problem, for machines: not_utf8, not_json, not_object (the bytes '
        'are not a JSON object); no_value (a tombstone on an input topic); '
        'missing_field, wrong_type, invalid_value (enum, length, pattern or range), '
        'invalid_phone (not a phone, or not valid in its numbering plan), '
        'invalid_keyword (a keyword longer than 64 characters once normalised), '
        'invalid_time (not an RFC 3339 time with offset, or no such day), unknown_field'
        ' (a closed record has an extra field); unsupported_schema_version; '
        'unknown_topic (not an input topic); reused_id (a message/request/command id '
        'that was already decided arrives again with different content: an id is '
        'decided once); internal (a bug in consent-gate: the reason is the exception).'))]
    topic: Annotated[TopicName, Meta(description=(
        'The topic the record was read from, as named on the broker (with the '
        'configured prefix).'))]
    partition: Annotated[PartitionNumber, Meta(description=(
        'The partition the record was read from.'))]
    offset: Annotated[Offset, Meta(description=(
        "The record's offset in that partition."))]
    key: Annotated[Base64 | None, Meta(description=(
        'The original key bytes, base64; null when the record had no key.'))]
    value: Annotated[Base64 | None, Meta(description=(
        'The original value bytes, base64; null for a tombstone.'))]
    headers: Annotated[Headers, Meta(description=(
        'The original Kafka headers, in order (a header without a value has an empty '
        'one).'))]
    failed_at: Annotated[Time, Meta(description=(
        'When the record failed.'))]
