"""A gateway's configuration (``GatewayConfig``) and all of them (``Gateways``): mode, keyword sets,
windows, templates, quiet hours, frequency cap, and each brand's revocation scope."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from processor.domain.classify.keyword_sets import DEFAULT_KEYWORDS, KeywordSet
from processor.domain.gateways.modes import MODE_RULES, GatewayMode, ModeRules, OptInFlow
from processor.domain.gateways.templates import DEFAULT_TEMPLATES, describe_duration
from processor.domain.models.enums import ReplyKind
from processor.domain.quiet_hours import QuietHours
from processor.domain.quiet_hours_rules import DEFAULT_QUIET_HOURS

# The permission a command's actor needs for manual/API opt-in and opt-out (Mogli's
# "Manual Opt-In/Opt-Out" permission set) and for clearing a global opt-out.
MANUAL_PERMISSION = "manual_opt_in_out"
API_PERMISSION = "api_opt_in_out"


class RevocationScope(enum.StrEnum):
    """What a phone's STOP revokes: the gateway it texted, or every gateway of the brand (the
    FCC's 2024 order: a revocation by any reasonable means covers the sender's messages)."""

    GATEWAY = "gateway"
    BRAND = "brand"


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """At most ``max_sends`` campaign sends to a phone in any rolling ``window_ms``, counted
    per gateway or, with ``per_keyword``, per campaign keyword (each keyword a subject; sends
    without one count for the gateway). Florida's FTSA: three on the same subject in 24 hours.
    """

    max_sends: int
    window_ms: int
    per_keyword: bool = False

    def describe(self) -> str:
        per = " per campaign keyword" if self.per_keyword else ""
        return f"{self.max_sends} campaign sends in {self.window}{per}"

    @property
    def window(self) -> str:
        """The window as the statutes say it ("24 hours"), in hours up to four days."""
        hours, rest = divmod(self.window_ms, 3_600_000)
        if not rest and 0 < hours <= 96:
            return f"{hours} hour{'s' if hours != 1 else ''}"
        return describe_duration(self.window_ms)


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    id: str
    mode: GatewayMode = GatewayMode.DEFAULT
    number: str | None = None  # the sending number or short code
    brand: str = "consent-gate"
    program: str = "text messages"
    help_contact: str = "the sender of these messages"
    # consent_request mode: the person customers are trying to reach, and who gets notices
    # when the customer texts first.
    sender_name: str = "our team"
    owner: str | None = None
    create_opt_in_on_incoming: bool = False
    # A keyword-scoped short code sends only to phones opted in to at least one keyword.
    keyword_scoped: bool = False
    pending_window_ms: int = 24 * 3600 * 1000
    # Texting a consent request to a number that never texted us is itself an unsolicited
    # text, so it is off unless the gateway's owner turns it on.
    consent_request_to_new_numbers: bool = False
    default_region: str | None = None
    keywords: KeywordSet = DEFAULT_KEYWORDS
    templates: Mapping[ReplyKind, str] = field(default_factory=lambda: DEFAULT_TEMPLATES)
    # Campaign sends inside the recipient's quiet hours are held (quiet_hours: enforce | off).
    quiet_hours: bool = True
    quiet_hours_rules: QuietHours = field(default=DEFAULT_QUIET_HOURS, repr=False)
    frequency_cap: FrequencyCap | None = None

    def render(self, kind: ReplyKind, *, keyword: str | None = None) -> str:
        """The text of a reply or notice, with the gateway's variables filled in."""
        return self.templates[kind].format_map({
            "brand": self.brand,
            "program": self.program,
            "help_contact": self.help_contact,
            "sender_name": self.sender_name,
            "keyword": keyword or "",
            "verification": self.keywords.verification,
            "opt_in_keyword": "START",
            "window": describe_duration(self.pending_window_ms),
        })

    @property
    def rules(self) -> ModeRules:
        """What the gateway's mode means (``modes.MODE_RULES``)."""
        return MODE_RULES[self.mode]

    @property
    def flow(self) -> OptInFlow:
        """How a phone opts in on this gateway: the inbound rule group of its mode."""
        return MODE_RULES[self.mode].opt_in_flow

    @property
    def requires_consent(self) -> bool:
        """Only an Opt-In subscription may be texted."""
        return MODE_RULES[self.mode].requires_consent


@dataclass(frozen=True, slots=True)
class Gateways:
    """All configured gateways; an unknown gateway id gets the defaults (an opt-out on a
    gateway nobody configured must still be honoured, never dropped)."""

    default: GatewayConfig = field(default_factory=lambda: GatewayConfig(id="*"))
    by_id: Mapping[str, GatewayConfig] = field(default_factory=dict)
    # Per brand (a gateway's `brand`): what a STOP to one of its gateways revokes.
    revocation_scopes: Mapping[str, RevocationScope] = field(default_factory=dict)

    def get(self, gateway_id: str) -> GatewayConfig:
        found = self.by_id.get(gateway_id)
        return found if found is not None else replace(self.default, id=gateway_id)

    def revocation_scope(self, gw: GatewayConfig) -> RevocationScope:
        return self.revocation_scopes.get(gw.brand, RevocationScope.GATEWAY)

    def brand_gateways(self, gw: GatewayConfig, touched: Iterable[str] = ()) -> tuple[
            GatewayConfig, ...]:
        """The other gateways a STOP to ``gw`` revokes: none with the gateway scope; with the
        brand scope every configured gateway of its brand and any gateway in ``touched`` (the
        phone's subscriptions) whose configuration names the brand, in id order."""
        if self.revocation_scope(gw) is not RevocationScope.BRAND:
            return ()
        ids = {*self.by_id, *touched} - {gw.id, "*"}
        return tuple(self.get(gid) for gid in sorted(ids) if self.get(gid).brand == gw.brand)

    @property
    def regions(self) -> Mapping[str, str]:
        """gateway id -> default region for national phone formats."""
        return {gid: g.default_region for gid, g in self.by_id.items() if g.default_region}
