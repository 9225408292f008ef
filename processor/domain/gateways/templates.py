"""Reply and notice templates: the defaults (CTIA), the variables a template may use."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from processor.domain.models.enums import ReplyKind

# Variables a template may use; a template naming another is rejected at load.
TEMPLATE_VARIABLES = frozenset(
    {"brand", "program", "help_contact", "sender_name", "keyword", "verification",
     "opt_in_keyword", "window"}
)

# Defaults follow CTIA's Messaging Principles: HELP names the program and a contact, says
# "Msg&data rates may apply" and how to stop; an opt-out is confirmed once, with no marketing.
DEFAULT_TEMPLATES: Mapping[ReplyKind, str] = MappingProxyType({
    ReplyKind.OPT_OUT_CONFIRMATION:
        "{brand}: You are unsubscribed and will receive no more messages. "
        "Reply {opt_in_keyword} to resubscribe.",
    ReplyKind.OPT_IN_CONFIRMATION:
        "{brand}: You are subscribed to {program}. Msg frequency varies. "
        "Msg&data rates may apply. Reply HELP for help, STOP to cancel.",
    ReplyKind.HELP:
        "{brand} {program}: for help contact {help_contact}. "
        "Msg&data rates may apply. Reply STOP to cancel.",
    ReplyKind.DOUBLE_OPT_IN_REQUEST:
        "{brand}: Reply {verification} within {window} to confirm your subscription to "
        "{program}. Msg&data rates may apply. Reply STOP to cancel.",
    ReplyKind.LATE_CONFIRMATION:
        "{brand}: Your confirmation window has closed. Text {opt_in_keyword} to subscribe "
        "again. Reply STOP to cancel.",
    # Movius "Opt-In with Consent" texts.
    ReplyKind.CONSENT_REQUEST_MO:
        "[Auto Message] {sender_name} is trying to reach you. As per company policy, you must "
        "provide your consent to continue messaging. To opt in, reply {verification}. "
        "To opt out, reply STOP.",
    ReplyKind.CONSENT_REQUEST_MT:
        "[Auto Message] You are trying to reach {sender_name}. As per company policy, you must "
        "provide your consent in order for your message to be delivered. To opt in, reply "
        "{verification}. To opt out, reply STOP.",
    ReplyKind.CONSENT_CONFIRMED:
        "[Auto Message] Opt in confirmed. If you wish to opt out at any time, reply STOP.",
    ReplyKind.CONSENT_DECLINED:
        "[Auto Message] Opt out confirmed. If you change your mind, reply {opt_in_keyword}.",
    ReplyKind.DISCLAIMER:
        "[Auto Message] You are receiving text messages from {brand}. "
        "Msg&data rates may apply. Reply STOP to opt out.",
    ReplyKind.NOTICE_CONSENT_REQUESTED_MO:
        "[Auto Message] Your contact has been sent a request to opt in. Once they accept, you "
        "will be able to message with your contact.",
    ReplyKind.NOTICE_CONSENT_REQUESTED_MT:
        "[Auto Message] A contact has attempted to send you a message. As per company policy, "
        "they have been sent a request to opt in. Once confirmed, you will be able to "
        "send/receive messages.",
    ReplyKind.NOTICE_OPTED_IN:
        "[Auto Message] Your contact has opted in. You may continue to send/receive messages.",
    ReplyKind.NOTICE_OPTED_OUT:
        "[Auto Message] Your contact has opted out. No further messages can be sent to this "
        "contact until they have provided their consent again.",
    ReplyKind.NOTICE_EXPIRED:
        "[Auto Message] Your contact did not answer the request to opt in within {window}. "
        "Messages held for them were not sent.",
})


def describe_duration(ms: int) -> str:
    seconds = ms // 1000
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit[:-1] if count == 1 else unit}"
    return f"{seconds} seconds"
