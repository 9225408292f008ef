"""Domain records: frozen msgspec Structs, free of I/O, and the one definition of each topic record.

Each record is declared once, here: its fields in wire order, their wire names (``from``,
``to``), their limits as msgspec ``Meta`` constraints and their descriptions. The codec decodes
and encodes the records with msgspec from these declarations, and ``schemas/*.schema.json`` are
generated from them (``python -m processor schemas``). Only what JSON cannot say is left to the
codec: phones read in the gateway's region, keywords normalised like the classifier spells them,
and the command's cross-field rules.

Times are integer milliseconds since the Unix epoch (UTC) inside the domain; on the wire they
are RFC 3339 strings (the codec converts). Phones are E.164 strings (``+15551234567``).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

SCHEMA_VERSION = 1
# send-result is at version 2: a debug value consumers act on (Frequency Cap) and Held for
# quiet hours (with sendable_at) came after version 1 (schemas/README.md, "Versioning").
SEND_RESULT_VERSION = 2

# A phone's record-level ("global") opt-out is kept as a subscription on this pseudo-gateway,
# so it is stored, versioned, evented and compacted exactly like any other subscription.
GLOBAL_GATEWAY = "*"


class ConsentStatus(enum.StrEnum):
    """Consent of a phone for a subscription. 'No Opt-In': never opted in; 'Opt-In Pending': asked
    to confirm (double opt-in / consent request); 'Opt-In': may be texted; 'Opt-Out': must not
    be texted.
    """

    NO_OPT_IN = "No Opt-In"
    OPT_IN_PENDING = "Opt-In Pending"
    OPT_IN = "Opt-In"
    OPT_OUT = "Opt-Out"


class ConsentSource(enum.StrEnum):
    """What caused the consent: 'none' (untouched), 'keyword' (STOP/START... texted by the phone),
    'confirmation' (a double opt-in confirmed), 'incoming_sms' (the phone texted first),
    'consent_request' (the phone answered a consent request), 'manual' (a user in the UI),
    'import' (an import row), 'api' (an upstream system), 'expiry' (a pending window closed),
    'number_change' (the number changed hands), 'global' (the phone's global opt-out).
    """

    NONE = "none"  # a subscription nobody has touched yet
    KEYWORD = "keyword"
    CONFIRMATION = "confirmation"
    INCOMING_SMS = "incoming_sms"
    CONSENT_REQUEST = "consent_request"
    MANUAL = "manual"
    IMPORT = "import"
    API = "api"
    EXPIRY = "expiry"
    NUMBER_CHANGE = "number_change"
    GLOBAL = "global"


class Intent(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    NONE = "none"


class SendKind(enum.StrEnum):
    ONE_TO_ONE = "one_to_one"
    CAMPAIGN = "campaign"
    TRANSACTIONAL = "transactional"


class SendStatus(enum.StrEnum):
    FORWARDED = "Forwarded"
    ERROR = "Error"
    HELD = "Held"


class SendDebug(enum.StrEnum):
    PREVIOUS_OPT_OUT = "Previous Opt-out"
    NO_OPT_IN = "No Opt-In"
    OPT_IN_PENDING = "Opt-In Pending"
    GLOBAL_OPT_OUT = "Global Opt-out"
    FREQUENCY_CAP = "Frequency Cap"


class CommandType(enum.StrEnum):
    """What a command asks for: manual or API opt-in/out of one subscription, an import row,
    setting or clearing the phone's global opt-out, a number that changed hands, or
    (expire_window, internal: written only by consent-gate's own timer) the timer's tick for a
    subscription whose time has come: its confirmation window closes, or the campaign sends
    held for the phone's quiet hours become sendable.
    """

    MANUAL_OPT_IN = "manual_opt_in"
    MANUAL_OPT_OUT = "manual_opt_out"
    API_OPT_IN = "api_opt_in"
    API_OPT_OUT = "api_opt_out"
    IMPORT = "import"
    GLOBAL_OPT_OUT_SET = "global_opt_out_set"
    GLOBAL_OPT_OUT_CLEAR = "global_opt_out_clear"
    NUMBER_CHANGED = "number_changed"
    # Internal: the worker's timer asks for a closed confirmation window to be expired, or for
    # sends held for quiet hours to be decided again. It travels through sms.commands so its
    # outputs are decided exactly once, like any input.
    EXPIRE_WINDOW = "expire_window"


class ImportStatus(enum.StrEnum):
    """MobileConnect import rows: Active/Subscribe opt in, Unsubscribe opts out."""

    ACTIVE = "Active"
    SUBSCRIBE = "Subscribe"
    UNSUBSCRIBE = "Unsubscribe"


class CommandOutcome(enum.StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"


class ReplyKind(enum.StrEnum):
    """Why an automatic reply or notice was sent; the name of its template."""

    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    OPT_IN_CONFIRMATION = "opt_in_confirmation"
    HELP = "help"
    DOUBLE_OPT_IN_REQUEST = "double_opt_in_request"
    LATE_CONFIRMATION = "late_confirmation"
    CONSENT_REQUEST_MO = "consent_request_mo"  # our user texted first
    CONSENT_REQUEST_MT = "consent_request_mt"  # the customer texted first
    CONSENT_CONFIRMED = "consent_confirmed"
    CONSENT_DECLINED = "consent_declined"
    DISCLAIMER = "disclaimer"
    NOTICE_CONSENT_REQUESTED_MO = "notice_consent_requested_mo"
    NOTICE_CONSENT_REQUESTED_MT = "notice_consent_requested_mt"
    NOTICE_OPTED_IN = "notice_opted_in"
    NOTICE_OPTED_OUT = "notice_opted_out"
    NOTICE_EXPIRED = "notice_expired"


class ErrorType(enum.StrEnum):
    """The ``error_type`` of a dead letter: what kind of problem the record has."""

    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    NO_VALUE = "no_value"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    INVALID_PHONE = "invalid_phone"
    INVALID_KEYWORD = "invalid_keyword"
    INVALID_TIME = "invalid_time"
    UNKNOWN_FIELD = "unknown_field"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    UNKNOWN_TOPIC = "unknown_topic"
    REUSED_ID = "reused_id"
    TOO_LARGE = "too_large"
    INTERNAL = "internal"


# Field types: the limits of the wire, as msgspec Meta ------------------------------------
#
# ``extra`` carries what the codec and the schema generator need beyond the constraints:
# ``def``, the shared definition in schemas/common.schema.json the type is written as; ``what``,
# how a reason names a value that misses the pattern; ``phone``, how a phone is checked.

# Patterns in JSON Schema (ECMA-262) spelling, as schemas/common.schema.json writes them.
# Gateway ids and keywords never contain "|": it separates the parts of the consent-state key.
GATEWAY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
SUBSCRIPTION_GATEWAY_PATTERN = r"^(?:\*|[A-Za-z0-9][A-Za-z0-9._:-]*)$"
KEYWORD_PATTERN = r"^[^|]+$"
TOPIC_PATTERN = r"^[A-Za-z0-9._-]+$"
# What an input phone may look like: digits with the usual punctuation, at most one leading +.
DIALABLE_PATTERN = r"^\+?[0-9 ().-]{2,31}$"
# The one spelling of a phone on output records (ITU-T E.164: at most 15 digits).
E164_PATTERN = r"^\+[1-9][0-9]{5,14}$"
# Standard alphabet with padding.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
# The first and last calendar days are excluded so that every accepted local time, whatever its
# offset, is an instant inside 0001-01-01..9999-12-31 UTC, which outputs can spell again.
INPUT_TIME_PATTERN = (
    r"^(?!0000-|0001-01-01|9999-12-31)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
OUTPUT_TIME_PATTERN = (
    r"^(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z$"
)
MAX_SAFE_INTEGER = 2**53 - 1
MAX_BODY = 4096
# Inbound bodies get far more room: a long message that says STOP must be decided, never
# dead-lettered for its length (Kafka's record size is the real bound).
MAX_INBOUND_BODY = 65536
MAX_REASON = 2048


def python_pattern(pattern: str) -> str:
    """``pattern`` for Python's re, which msgspec uses: ECMA's final ``$`` is the end of the
    string, Python's also matches before a final newline (``"gw1\\n"`` would pass)."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern


if TYPE_CHECKING:
    # The domain computes with times as ints; only msgspec needs to tell the two kinds apart.
    InputTime = int
    Time = int
else:

    class InputTime(int):
        """An RFC 3339 time with an offset ('Z' or +hh:mm / -hh:mm; 'T' and 'Z' may be lower case)
        and 0 to 9 fraction digits, e.g. 2026-11-24T17:48:01.403-05:00. Times without an offset
        are rejected: their instant is unknown. Digits past the millisecond are cut (rounded
        toward the past). No leap seconds (:60). The first and last calendar days (0001-01-01,
        9999-12-31) and year 0000 are excluded so that every accepted instant can be written
        back in UTC.
        """

    class Time(int):
        """A time written by consent-gate: RFC 3339 in UTC with exactly three fraction digits and
        'Z', e.g. 2026-11-24T22:48:01.403Z. One instant has exactly one spelling.
        """

Id = Annotated[str, Meta(
    min_length=1, max_length=128, extra={"def": "id"},
    description="An identifier chosen by its producer (carrier message id, request id, UUID, "
                "...). Opaque, non-empty, at most 128 characters.")]
Gateway = Annotated[str, Meta(
    max_length=64, pattern=python_pattern(GATEWAY_PATTERN),
    extra={"def": "gateway", "what": "a gateway id (letters, digits, '.', '_', ':', '-')"},
    description="Gateway id as configured in gateways.yaml: letters, digits, '.', '_', ':', '-', "
                "starting with a letter or digit (never '|', which separates the parts of the "
                "consent-state key), at most 64 characters.")]
SubscriptionGateway = Annotated[str, Meta(
    max_length=64, pattern=python_pattern(SUBSCRIPTION_GATEWAY_PATTERN),
    extra={"def": "subscription_gateway", "what": "a gateway id or '*'"},
    description="The gateway of a subscription: a gateway id, or '*' for the phone's global "
                "(all-gateway) opt-out.")]
Keyword = Annotated[str, Meta(
    max_length=64, pattern=python_pattern(KEYWORD_PATTERN),
    extra={"def": "keyword", "what": "a keyword (no '|')"},
    description="Keyword scope of a subscription or send (e.g. a campaign keyword); any text "
                "without '|', 1 to 64 characters. Absent or null means the whole gateway. On "
                "send requests and commands consent-gate normalises it the way the classifier "
                "spells keywords (accents folded, upper case, single spaces: 'volunteer' names "
                "the scope 'VOLUNTEER'); output records carry that form. What this schema cannot "
                "express: a keyword longer than 64 characters once normalised ('ß' becomes 'SS') "
                "is rejected (error_type invalid_keyword).")]
Person = Annotated[str, Meta(
    min_length=1, max_length=256, extra={"def": "person"},
    description="A user or system name (login, e-mail, service id), 1 to 256 characters.")]
Detail = Annotated[str, Meta(
    min_length=1, max_length=1024, extra={"def": "detail"},
    description="Human-readable text, 1 to 1024 characters.")]
Body = Annotated[str, Meta(
    min_length=1, max_length=MAX_BODY, extra={"def": "body"},
    description="Message text, 1 to 4096 characters (Unicode code points). Carriers concatenate "
                "at most about 1600 characters; 4096 leaves room without letting a single record "
                "grow unbounded.")]
Dialable = Annotated[str, Meta(
    max_length=32, pattern=python_pattern(DIALABLE_PATTERN),
    extra={"def": "dialable", "what": "a phone number or short code"},
    description="A phone number or short code as an upstream spelled it: digits with spaces, "
                "'(', ')', '.', '-' and at most one leading '+', at most 32 characters.")]
InputPhone = Annotated[str, Meta(
    pattern=python_pattern(DIALABLE_PATTERN), extra={"def": "input_phone", "phone": "input"},
    description="A subscriber's phone on an input record, international (+...) or national; "
                "consent-gate normalises it to E.164. A national spelling is read with the "
                "default region configured for the record's gateway. What this schema cannot "
                "express: whether the number is valid in its country's numbering plan. The codec "
                "checks that with libphonenumber and dead-letters invalid numbers (error_type "
                "invalid_phone), so a record can pass this schema and still be rejected for its "
                "phone.")]
E164Phone = Annotated[str, Meta(
    pattern=python_pattern(E164_PATTERN), extra={"def": "e164", "phone": "e164"},
    description="A phone number in E.164: '+', country code and national number, 6 to 15 "
                "digits, no spaces (e.g. +12015550123). Every phone on a record consent-gate "
                "writes has this form.")]
Version = Annotated[int, Meta(
    ge=0, le=MAX_SAFE_INTEGER, extra={"def": "version"},
    description="Version of a subscription: 0 while untouched, then increased by one with every "
                "change. At most 2^53 - 1 so JavaScript consumers read it exactly.")]
# An event is a change; the first change of an untouched subscription (version 0) is 1.
EventVersion = Annotated[int, Meta(ge=1, le=MAX_SAFE_INTEGER)]
Base64 = Annotated[bytes, Meta(
    extra={"def": "base64"}, extra_json_schema={"pattern": BASE64_PATTERN},
    description="Bytes in standard base64 (RFC 4648 section 4, with padding). No length limit: "
                "a Kafka record may be up to the broker's message size.")]
InboundBody = Annotated[str, Meta(max_length=MAX_INBOUND_BODY)]
ProviderText = Annotated[str, Meta(max_length=128)]
MediaCount = Annotated[int, Meta(ge=0, le=1000)]
Campaign = Annotated[str, Meta(min_length=1, max_length=128)]
Permission = Annotated[str, Meta(min_length=1, max_length=128)]
# A command names a handful of permissions; a list of millions is an attack, not a command.
MAX_PERMISSIONS = 64
StateDetail = Annotated[str, Meta(max_length=1024)]
Reason = Annotated[str, Meta(min_length=1, max_length=MAX_REASON)]
# An output field added within its record's version: records written before it lack it, so
# readers (consent-gate's codec too) take it as optional; the schema does not require it.
ADDED = {"added": True}
# Kafka topic names: at most 249 of these characters.
TopicName = Annotated[str, Meta(max_length=249, pattern=python_pattern(TOPIC_PATTERN),
                                extra={"what": "a Kafka topic name"})]
PartitionNumber = Annotated[int, Meta(ge=0, le=2**31 - 1)]
Offset = Annotated[int, Meta(ge=0, le=2**63 - 1)]
NOTICE_KINDS = tuple(kind for kind in ReplyKind if kind.startswith("notice_"))
REPLY_KINDS = tuple(kind for kind in ReplyKind if kind not in NOTICE_KINDS)
# Replies and notices share ReplyKind (their templates); each record allows its own part.
AutoReplyKind = Annotated[ReplyKind, Meta(
    extra={"def": "reply_kind", "members": REPLY_KINDS},
    description=(
        'Template of an automatic reply to the phone: opt_out_confirmation, '
        'opt_in_confirmation, help, double_opt_in_request, late_confirmation (a confirmation '
        'after the window closed), consent_request_mo (our user texted first), '
        'consent_request_mt (the customer texted first), consent_confirmed, consent_declined,'
        ' disclaimer.'))]
NoticeKind = Annotated[ReplyKind, Meta(
    extra={"def": "notice_kind", "members": NOTICE_KINDS},
    description=(
        'Template of a notice to the sending user: consent requested (our user texted first: '
        '_mo; the customer did: _mt), the phone opted in, opted out, or the request expired.'))]


class Header(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """A Kafka header on the wire (a dead letter keeps the failed record's headers)."""

    key: Annotated[str, Meta(description="Header name.")]
    value: Annotated[Base64, Meta(description="Header value bytes, base64.")]


# Kafka headers: (name, bytes) pairs inside, Header objects on the wire.
Headers = Annotated[tuple[tuple[str, bytes], ...], Meta(extra={"wire": Header})]


class ConsentSnapshot(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """The consent a decision was made under."""

    status: Annotated[ConsentStatus, Meta(description="Consent status at the decision.")]
    source: Annotated[ConsentSource, Meta(description="What caused that status.")]
    version: Annotated[Version, Meta(
        description="Subscription version at the decision (0: untouched).")]


# Records --------------------------------------------------------------------------------
#
# Every record starts with ``schema_version`` on the wire (msgspec writes the tag first). Input
# records accept fields they do not know; the codec decodes outputs as closed records.



class Record(msgspec.Struct, frozen=True, gc=False, tag_field="schema_version",
             tag=SCHEMA_VERSION):
    """A topic record (or a send request held in consent state): versioned on the wire.

    ``gc=False``: records hold only strings, numbers, enums and tuples of records, so they can
    never be part of a reference cycle, and the collector need not track them.
    """


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


class Subscription(Record, frozen=True):
    """The latest state of one subscription, on the compacted topic sms.consent-state. Key:
    'phone|gateway|keyword' (UTF-8; keyword empty for the whole gateway, gateway '*' for the
    global opt-out), e.g. '+12015550123|acme-us|' or '+12015550123|acme-us|PROMO'. A null value
    (tombstone) deletes the key: the subscription is untouched again. Analytics joins against
    this topic, and it rebuilds the consent store after a loss.
    """

    phone: Annotated[E164Phone, Meta(description=(
        "The subscriber, E.164; the key's first part."))]
    gateway: Annotated[SubscriptionGateway, Meta(description=(
        "The subscription's gateway, or '*' for the phone's global opt-out; the key's "
        'second part.'))]
    keyword: Annotated[Keyword | None, Meta(description=(
        'The keyword scope; null for the whole gateway (empty in the key).'))]
    status: Annotated[ConsentStatus, Meta(description=(
        'Current consent.'))] = ConsentStatus.NO_OPT_IN
    source: Annotated[ConsentSource, Meta(description=(
        "What caused the current status ('none' while untouched)."))] = ConsentSource.NONE
    detail: Annotated[StateDetail, Meta(description=(
        "The detail of the last change, as in consent-event ('Opt-out keyword: STOP', "
        '...); empty while untouched.'))] = ""
    actor: Annotated[Person | None, Meta(description=(
        'Who made the last change; null when the phone or a timer did.'))] = None
    version: Annotated[Version, Meta(description=(
        'Number of changes so far; equals the version of the last consent-event.'))] = 0
    updated_at: Annotated[Time, Meta(description=(
        'When the last change took effect (1970-01-01T00:00:00.000Z while untouched).'))] = 0
    pending_until: Annotated[Time | None, Meta(description=(
        'Opt-In Pending: when the confirmation window closes; null otherwise.'))] = None
    window_closed: Annotated[bool, Meta(description=(
        'Opt-In Pending: whether the confirmation window has closed (a late '
        'confirmation gets a late_confirmation reply).'))] = False
    held: Annotated[tuple[SendRequest, ...], Meta(description=(
        'Send requests held, in arrival order: in consent_request mode until the phone '
        'answers (status Opt-In Pending), or campaign sends held for the phone\'s quiet '
        'hours until held_until (status Opt-In). Each is a send-request record in full '
        'wire form, with the phone already normalised to E.164.'))] = ()
    disclaimer_sent: Annotated[bool, Meta(description=(
        'disclaimer mode: the disclaimer has gone out before the first forwarded '
        'message.'))] = False
    requested_by: Annotated[Person | None, Meta(description=(
        'Who asked for the pending consent request (receives the notices); null when '
        'none is pending.'))] = None
    held_until: Annotated[Time | None, Meta(extra=ADDED, description=(
        'Quiet hours: when the campaign sends in held become sendable (the timer decides '
        'them again then); null when nothing is held for quiet hours. Absent on records '
        'written by earlier releases.'))] = None

    @property
    def snapshot(self) -> ConsentSnapshot:
        return ConsentSnapshot(self.status, self.source, self.version)


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
