"""The consent state of one subscription (phone, gateway, keyword scope), as stored and as
written on the compacted sms.consent-state."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from processor.domain.models.enums import ConsentSource, ConsentStatus
from processor.domain.models.inputs import SendRequest
from processor.domain.models.outputs import ConsentSnapshot
from processor.domain.models.wire import (
    ADDED,
    E164Phone,
    Keyword,
    Person,
    Record,
    StateDetail,
    SubscriptionGateway,
    Time,
    Version,
)

# A phone's record-level ("global") opt-out is kept as a subscription on this pseudo-gateway,
# so it is stored, versioned, evented and compacted exactly like any other subscription.
GLOBAL_GATEWAY = "*"

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
