"""Input records: what arrives on sms.inbound, sms.send-requests and sms.commands."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from processor.domain.models.enums import CommandType, ImportStatus, SendKind
from processor.domain.models.wire import (
    MAX_PERMISSIONS,
    Body,
    Campaign,
    Detail,
    Dialable,
    Gateway,
    Id,
    InboundBody,
    InputPhone,
    InputTime,
    Keyword,
    MediaCount,
    Permission,
    Person,
    ProviderText,
    Record,
)


class InboundMessage(Record, kw_only=True, frozen=True):
    """A mobile-originated (MO) SMS from a carrier webhook, on topic sms.inbound, keyed by the
    sender's E.164 phone. consent-gate classifies it (STOP/START/HELP/free text) and updates the
    sender's consent.
    """

    message_id: Annotated[Id, Meta(description=(
        "The carrier's id of the message. Redelivered messages keep their id: "
        'consent-gate decides each id once.'))]
    gateway: Annotated[Gateway, Meta(description=(
        'The gateway that received the message; selects keyword sets, consent mode and '
        'default phone region.'))]
    phone: Annotated[InputPhone, Meta(description=(
        'The subscriber who sent the message. International (+...) or national spelling'
        " (read with the gateway's default region); normalised to E.164 and checked "
        'against the numbering plan (domain: InboundMessage.phone).'))] = msgspec.field(name="from")
    to: Annotated[Dialable, Meta(description=(
        "Our number the message was sent to: the gateway's long number or short code "
        '(usually 5 to 6 digits). Kept as the carrier spelled it, not normalised.'))]
    body: Annotated[InboundBody, Meta(description=(
        'The message text; may be empty (an MMS with media only). At most 65536 '
        'characters: more than any carrier sends, because a long message that says STOP'
        ' must be decided, never dead-lettered for its length.'))]
    received_at: Annotated[InputTime, Meta(description=(
        'When the carrier received the message.'))]
    carrier: Annotated[ProviderText | None, Meta(description=(
        "Optional: the subscriber's mobile carrier as reported by the provider; "
        'informational.'))] = None
    provider: Annotated[ProviderText | None, Meta(description=(
        'Optional: the SMS provider (aggregator) that delivered the webhook; '
        'informational.'))] = None
    media_count: Annotated[MediaCount | None, Meta(description=(
        'Optional: number of MMS media attachments (0 or absent for plain SMS).'))] = None


class SendRequest(Record, kw_only=True, frozen=True):
    """An upstream app asks to text a subscriber, on topic sms.send-requests, keyed by the
    recipient's E.164 phone. consent-gate answers every request with exactly one send-result and
    forwards it to sms.outbound only when consent allows.
    """

    request_id: Annotated[Id, Meta(description=(
        "The upstream app's id of the request; the send-result carries it back. A "
        'redelivered id is decided once.'))]
    gateway: Annotated[Gateway, Meta(description=(
        'The gateway to send from; consent is kept per gateway.'))]
    phone: Annotated[InputPhone, Meta(description=(
        'The subscriber to text. International (+...) or national spelling (read with '
        "the gateway's default region); normalised to E.164 and checked against the "
        'numbering plan (domain: SendRequest.phone).'))] = msgspec.field(name="to")
    body: Annotated[Body, Meta(description=(
        'The text to send, 1 to 4096 characters.'))]
    campaign: Annotated[Campaign | None, Meta(description=(
        'Optional: the campaign this send belongs to; informational (carried into '
        'reports).'))] = None
    keyword: Annotated[Keyword | None, Meta(description=(
        "Optional: a keyword-scoped send. Consent is then checked for this keyword's "
        "subscription (and the gateway's); the send-result's detail names the keyword "
        'that lacks consent.'))] = None
    kind: Annotated[SendKind, Meta(description=(
        'What kind of send: one_to_one (a person texting a person), campaign '
        '(marketing, needs opt-in), transactional (account notifications).'))]
    requested_by: Annotated[Person, Meta(description=(
        'The user or system asking; receives the notices of a consent request.'))]
    created_at: Annotated[InputTime, Meta(description=(
        'When the upstream app created the request.'))]


class Command(Record, kw_only=True, frozen=True):
    """A consent change asked for by a person or system, on topic sms.commands, keyed by the
    phone's E.164 number: manual or API opt-in/out, an import row, the phone's global opt-out
    set or cleared, or a number that changed hands. Every command gets exactly one command-
    result.
    """

    command_id: Annotated[Id, Meta(description=(
        'Id of the command; consent events it causes carry it as cause_id. A '
        'redelivered id is applied once.'))]
    type: Annotated[CommandType, Meta(description=(
        'What the command asks for.'))]
    gateway: Annotated[Gateway | None, Meta(description=(
        'The gateway whose subscription changes. Required, except for '
        'global_opt_out_set, global_opt_out_clear and number_changed, which concern the'
        ' phone on every gateway. Also selects the default region for national phone '
        'spellings.'))] = None
    phone: Annotated[InputPhone, Meta(description=(
        'The subscriber. International (+...) or national spelling (read with the '
        "gateway's default region); normalised to E.164 and checked against the "
        'numbering plan.'))]
    actor: Annotated[Person, Meta(description=(
        'Who asked (user login or system); appears in consent-event details such as '
        "'Manual opt-out by <actor>'."))]
    created_at: Annotated[InputTime, Meta(description=(
        'When the command was issued.'))]
    keyword: Annotated[Keyword | None, Meta(description=(
        'Optional: the keyword scope of the subscription; absent or null means the '
        'whole gateway.'))] = None
    permissions: Annotated[tuple[Permission, ...], Meta(max_length=MAX_PERMISSIONS, description=(
        "Optional: the actor's permissions (e.g. to override another source's opt-out);"
        ' absent or null means none; at most 64.'))] = ()
    import_status: Annotated[ImportStatus | None, Meta(description=(
        "The row's status in an import (MobileConnect): Active or Subscribe opt in, "
        'Unsubscribe opts out. Required for type import, not allowed (absent or null) '
        'otherwise.'))] = None
    new_phone: Annotated[InputPhone | None, Meta(description=(
        "Only for number_changed, optional there: the subscriber's new number, "
        'normalised like phone. Without it the command only says that phone changed '
        'hands.'))] = None
    reason: Annotated[Detail | None, Meta(description=(
        "Optional: why, in the actor's words; kept with the command result."))] = None
    until: Annotated[InputTime | None, Meta(description=(
        "Only for expire_window, required there: the subscription's due time, the close "
        'time of its confirmation window or the time its quiet-hours holds become '
        'sendable. The command acts only if the subscription is still pending with '
        'exactly this close time, or still holds sends due at exactly this time, so a '
        'stale or duplicated timer tick changes nothing.'))] = None
