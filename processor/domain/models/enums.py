"""The statuses, sources, kinds and reasons the records carry (their wire values)."""

from __future__ import annotations

import enum


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
