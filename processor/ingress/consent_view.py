"""``GET /v1/consent/{phone}``: a phone's subscriptions as the worker stored them.

Read through the store's own ``load`` (the same call the worker's batches use), never written
here: the worker stays the only writer of consent.
"""

from __future__ import annotations

import msgspec

from processor import codec
from processor.domain.consent.state import PhoneState
from processor.domain.models.enums import ConsentSource, ConsentStatus
from processor.domain.models.subscription import GLOBAL_GATEWAY, Subscription
from processor.ports import ConsentStore


class SubscriptionView(msgspec.Struct, kw_only=True):
    gateway: str
    keyword: str | None
    status: ConsentStatus
    source: ConsentSource
    detail: str
    actor: str | None
    version: int
    changed_at: str | None  # None: never changed (version 0)
    pending_until: str | None = None


class ConsentView(msgspec.Struct, kw_only=True):
    phone: str
    global_opt_out: bool
    # The global opt-out subscription (pseudo-gateway '*'), when it was ever changed.
    global_subscription: SubscriptionView | None
    subscriptions: list[SubscriptionView]


def subscription_view(sub: Subscription) -> SubscriptionView:
    return SubscriptionView(
        gateway=sub.gateway, keyword=sub.keyword, status=sub.status, source=sub.source,
        detail=sub.detail, actor=sub.actor, version=sub.version,
        changed_at=codec.format_time(sub.updated_at) if sub.version else None,
        pending_until=(codec.format_time(sub.pending_until)
                       if sub.pending_until is not None else None))


def consent_view(state: PhoneState) -> ConsentView:
    """Every subscription of the phone (gateway scopes and keyword scopes), in name order, and
    its global opt-out."""
    subs = sorted(state.subscriptions.values(), key=lambda s: (s.gateway, s.keyword or ""))
    glob = state.subscriptions.get((GLOBAL_GATEWAY, None))
    return ConsentView(
        phone=state.phone,
        global_opt_out=glob is not None and glob.status is ConsentStatus.OPT_OUT,
        global_subscription=subscription_view(glob) if glob is not None else None,
        subscriptions=[subscription_view(s) for s in subs if s.gateway != GLOBAL_GATEWAY],
    )


async def read_consent(store: ConsentStore, phone: str) -> ConsentView:
    loaded = await store.load({phone: ()})
    return consent_view(loaded[phone].state)
