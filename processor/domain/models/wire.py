"""What every record shares on the wire: the schema versions, the patterns, the field types with
their limits (msgspec ``Meta``), and the ``Record`` base."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from processor.domain.models.enums import ReplyKind

SCHEMA_VERSION = 1
# send-result is at version 2: a debug value consumers act on (Frequency Cap) and Held for
# quiet hours (with sendable_at) came after version 1 (schemas/README.md, "Versioning").
SEND_RESULT_VERSION = 2

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
