"""Domain records: frozen, typed, free of I/O. The codec maps them to and from topic records.

Times are integer milliseconds since the Unix epoch (UTC) inside the domain; the codec turns
them into RFC 3339 strings on the wire. Phones are E.164 strings (``+15551234567``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

SCHEMA_VERSION = 1

# A phone's record-level ("global") opt-out is kept as a subscription on this pseudo-gateway,
# so it is stored, versioned, evented and compacted exactly like any other subscription.
GLOBAL_GATEWAY = "*"


class ConsentStatus(enum.StrEnum):
    NO_OPT_IN = "No Opt-In"
    OPT_IN_PENDING = "Opt-In Pending"
    OPT_IN = "Opt-In"
    OPT_OUT = "Opt-Out"


class ConsentSource(enum.StrEnum):
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


class CommandType(enum.StrEnum):
    MANUAL_OPT_IN = "manual_opt_in"
    MANUAL_OPT_OUT = "manual_opt_out"
    API_OPT_IN = "api_opt_in"
    API_OPT_OUT = "api_opt_out"
    IMPORT = "import"
    GLOBAL_OPT_OUT_SET = "global_opt_out_set"
    GLOBAL_OPT_OUT_CLEAR = "global_opt_out_clear"
    NUMBER_CHANGED = "number_changed"
    # Internal: the worker's timer asks for a closed confirmation window to be expired. It
    # travels through sms.commands so its outputs are decided exactly once, like any input.
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


# Inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A mobile-originated SMS (topic sms.inbound). ``phone`` is the sender (wire: ``from``)."""

    message_id: str
    phone: str
    to: str
    gateway: str
    body: str
    received_at: int
    carrier: str | None = None
    provider: str | None = None
    media_count: int | None = None


@dataclass(frozen=True, slots=True)
class SendRequest:
    """An upstream app asks to text ``phone`` (wire: ``to``) from ``gateway``."""

    request_id: str
    phone: str
    gateway: str
    body: str
    kind: SendKind
    requested_by: str
    created_at: int
    campaign: str | None = None
    keyword: str | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """Manual/API opt-in or out, an import row, global opt-out, or a number change."""

    command_id: str
    type: CommandType
    phone: str
    actor: str
    created_at: int
    gateway: str | None = None
    keyword: str | None = None
    permissions: tuple[str, ...] = ()
    import_status: ImportStatus | None = None
    new_phone: str | None = None
    reason: str | None = None
    until: int | None = None  # expire_window: the close time of the window to expire


# Outputs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentSnapshot:
    status: ConsentStatus
    source: ConsentSource
    version: int


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """What may be sent (topic sms.outbound): a forwarded request or an automatic reply."""

    message_id: str
    phone: str
    gateway: str
    body: str
    auto_reply: bool
    consent: ConsentSnapshot
    decided_at: int
    request_id: str | None = None
    in_reply_to: str | None = None
    reply_kind: ReplyKind | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """Exactly one per send request (topic sms.send-results)."""

    request_id: str
    phone: str
    gateway: str
    status: SendStatus
    consent: ConsentSnapshot
    decided_at: int
    debug: SendDebug | None = None
    detail: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One subscription change (topic sms.consent-events)."""

    event_id: str
    phone: str
    gateway: str
    keyword: str | None
    previous_status: ConsentStatus
    status: ConsentStatus
    source: ConsentSource
    detail: str
    actor: str | None
    cause_id: str
    version: int
    occurred_at: int


@dataclass(frozen=True, slots=True)
class CommandResult:
    command_id: str
    type: CommandType
    phone: str
    result: CommandOutcome
    decided_at: int
    gateway: str | None = None
    keyword: str | None = None
    reason: str | None = None
    event_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification to the user who sends (consent-request flow; topic sms.notices)."""

    notice_id: str
    recipient: str
    phone: str
    gateway: str
    kind: ReplyKind
    body: str
    created_at: int
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    """The consent of one phone on one gateway, for one keyword scope (None: the gateway).

    This is also the value of the compacted sms.consent-state topic.
    """

    phone: str
    gateway: str
    keyword: str | None
    status: ConsentStatus = ConsentStatus.NO_OPT_IN
    source: ConsentSource = ConsentSource.NONE
    detail: str = ""
    actor: str | None = None
    version: int = 0
    updated_at: int = 0
    # Opt-In Pending: when the confirmation window closes (ms), and whether it has closed.
    pending_until: int | None = None
    window_closed: bool = False
    # consent_request mode: requests held until the phone answers, in arrival order.
    held: tuple[SendRequest, ...] = field(default=())
    # disclaimer mode: the disclaimer went out before the first forwarded message.
    disclaimer_sent: bool = False
    # Who asked for the pending consent request (receives the notices).
    requested_by: str | None = None

    @property
    def snapshot(self) -> ConsentSnapshot:
        return ConsentSnapshot(self.status, self.source, self.version)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that could not be decided, with the reason (topic sms.dead-letter)."""

    reason: str
    error_type: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    failed_at: int
