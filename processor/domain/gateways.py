"""Gateway configuration: opt-in mode, keyword sets, windows and reply templates.

Parsed from a plain mapping (the YAML file is read by ``processor.config``), validated once at
start: every problem is reported with its path (``gateways.sc-12345.mode: ...``).
"""

from __future__ import annotations

import enum
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from processor.domain.classify.classification import KeywordConfigError
from processor.domain.classify.keyword_sets import DEFAULT_KEYWORDS, KeywordSet
from processor.domain.models.enums import ReplyKind
from processor.domain.quiet_hours import QuietHours
from processor.domain.quiet_hours_rules import DEFAULT_QUIET_HOURS

# The permission a command's actor needs for manual/API opt-in and opt-out (Mogli's
# "Manual Opt-In/Opt-Out" permission set) and for clearing a global opt-out.
MANUAL_PERMISSION = "manual_opt_in_out"
API_PERMISSION = "api_opt_in_out"


class GatewayMode(enum.StrEnum):
    DEFAULT = "default"  # everyone may be texted until they opt out (Mogli default)
    MANDATORY = "mandatory"  # only Opt-In may be texted (Mogli mandatory opt-in)
    DOUBLE_OPT_IN = "double_opt_in"  # opt-in keyword -> pending; verification keyword confirms
    CONSENT_REQUEST = "consent_request"  # Movius "Opt-In with Consent"
    DISCLAIMER = "disclaimer"  # Movius "Opt-In Disclaimer"


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


# Modes in which only an Opt-In subscription may be texted.
CONSENT_REQUIRED_MODES = frozenset(
    {GatewayMode.MANDATORY, GatewayMode.DOUBLE_OPT_IN, GatewayMode.CONSENT_REQUEST}
)

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


class GatewayConfigError(ValueError):
    """The gateway configuration cannot be used; the message names the path and the problem."""


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
    def requires_consent(self) -> bool:
        return self.mode in CONSENT_REQUIRED_MODES


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


def describe_duration(ms: int) -> str:
    seconds = ms // 1000
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit[:-1] if count == 1 else unit}"
    return f"{seconds} seconds"


def parse_duration_ms(value: object, path: str) -> int:
    """``90`` (seconds), ``"15m"``, ``"24h"``, ``"7d"``, ``"30s"`` -> milliseconds."""
    if isinstance(value, bool):
        raise GatewayConfigError(f"{path}: expected a duration, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif (isinstance(value, str) and value[-1:] in _UNITS
          and value[:-1].replace(".", "", 1).isdigit()):
        seconds = float(value[:-1]) * _UNITS[value[-1]]
    else:
        raise GatewayConfigError(
            f"{path}: expected a duration like 90, '30s', '15m', '24h' or '7d', got {value!r}")
    if seconds <= 0:
        raise GatewayConfigError(f"{path}: must be positive, got {value!r}")
    return int(seconds * 1000)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

_FIELDS: Mapping[str, type | tuple[type, ...]] = {
    "mode": str, "brand": str, "program": str, "help_contact": str, "sender_name": str,
    "owner": str, "create_opt_in_on_incoming": bool, "keyword_scoped": bool,
    "pending_window": (int, float, str), "consent_request_to_new_numbers": bool,
    "default_region": str, "keywords": dict, "templates": dict, "number": str,
    "quiet_hours": str, "frequency_cap": dict,
}
_CAP_FIELDS: Mapping[str, type | tuple[type, ...]] = {
    "max": int, "window": (int, float, str), "per_keyword": bool}


def parse_gateways(data: Mapping[str, Any]) -> Gateways:
    """Builds and validates the configuration from the parsed YAML mapping::

        defaults: {mode: default, brand: Acme, ...}      # optional, merged into every gateway
        gateways:
          sc-12345: {mode: double_opt_in, keywords: {campaign: [VOLUNTEER]}, ...}
    """
    if not isinstance(data, Mapping):
        raise GatewayConfigError("configuration: expected a mapping with 'gateways'")
    unknown = set(data) - {"defaults", "gateways", "brands"}
    if unknown:
        raise GatewayConfigError(f"configuration: unknown keys {sorted(unknown)} "
                                 "(expected 'defaults', 'gateways' and 'brands')")
    defaults = data.get("defaults") or {}
    gateways = data.get("gateways") or {}
    if not isinstance(defaults, Mapping):
        raise GatewayConfigError("defaults: expected a mapping")
    if not isinstance(gateways, Mapping):
        raise GatewayConfigError("gateways: expected a mapping of gateway id to settings")
    default = _parse_gateway("*", dict(defaults), "defaults")
    by_id = {}
    for key, raw in gateways.items():
        # A short code written bare in YAML (22395:) is read as a number; it is still an id.
        gid = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
        if not isinstance(gid, str) or not gid or gid == "*":
            raise GatewayConfigError(f"gateways: invalid gateway id {gid!r}")
        if raw is not None and not isinstance(raw, Mapping):
            raise GatewayConfigError(f"gateways.{gid}: expected a mapping")
        merged = _merge(defaults, raw or {})
        by_id[gid] = _parse_gateway(gid, merged, f"gateways.{gid}")
    scopes = _parse_brands(data.get("brands") or {}, {default.brand} | {
        g.brand for g in by_id.values()})
    return Gateways(default=default, by_id=MappingProxyType(by_id),
                    revocation_scopes=MappingProxyType(scopes))


def _parse_brands(raw: object, named: set[str]) -> dict[str, RevocationScope]:
    """``brands: {Acme: {revocation_scope: brand}}``: per brand, what a STOP revokes."""
    if not isinstance(raw, Mapping):
        raise GatewayConfigError("brands: expected a mapping of brand to settings")
    scopes = {}
    for brand, settings in raw.items():
        path = f"brands.{brand}"
        if brand not in named:
            raise GatewayConfigError(
                f"{path}: no gateway names this brand (a gateway names its brand with "
                f"'brand:'; named: {', '.join(sorted(named))})")
        if not isinstance(settings, Mapping):
            raise GatewayConfigError(f"{path}: expected a mapping")
        for key in settings:
            if key != "revocation_scope":
                raise GatewayConfigError(f"{path}.{key}: unknown setting (known: "
                                         "revocation_scope)")
        value = settings.get("revocation_scope", RevocationScope.GATEWAY.value)
        try:
            scopes[brand] = RevocationScope(value)
        except ValueError:
            raise GatewayConfigError(
                f"{path}.revocation_scope: unknown scope {value!r} (expected one of "
                f"{', '.join(s.value for s in RevocationScope)})") from None
    return scopes


def _quiet_hours(value: object, path: str) -> bool:
    if value not in ("enforce", "off"):
        raise GatewayConfigError(f"{path}: expected 'enforce' or 'off', got {value!r}")
    return value == "enforce"


def _frequency_cap(raw: object, path: str) -> FrequencyCap | None:
    """``frequency_cap: {max: 3, window: 24h, per_keyword: false}``."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise GatewayConfigError(f"{path}: expected a mapping like {{max: 3, window: 24h}}")
    for key, value in raw.items():
        expected = _CAP_FIELDS.get(key)
        if expected is None:
            raise GatewayConfigError(f"{path}.{key}: unknown setting "
                                     f"(known: {', '.join(sorted(_CAP_FIELDS))})")
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise GatewayConfigError(f"{path}.{key}: wrong type {type(value).__name__}")
    for key in ("max", "window"):
        if key not in raw:
            raise GatewayConfigError(f"{path}.{key}: required")
    if raw["max"] < 1:
        raise GatewayConfigError(f"{path}.max: must be at least 1, got {raw['max']!r}")
    return FrequencyCap(raw["max"], parse_duration_ms(raw["window"], f"{path}.window"),
                        bool(raw.get("per_keyword", False)))


def _merge(defaults: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in own.items():
        if key in {"keywords", "templates"} and isinstance(value, Mapping):
            base = defaults.get(key) or {}
            merged[key] = {**base, **value}
        else:
            merged[key] = value
    return merged


def _parse_gateway(gid: str, raw: dict[str, Any], path: str) -> GatewayConfig:
    for key, value in raw.items():
        expected = _FIELDS.get(key)
        if expected is None:
            raise GatewayConfigError(f"{path}.{key}: unknown setting "
                                     f"(known: {', '.join(sorted(_FIELDS))})")
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise GatewayConfigError(f"{path}.{key}: wrong type {type(value).__name__}")
    try:
        mode = GatewayMode(raw.get("mode", "default"))
    except ValueError:
        raise GatewayConfigError(
            f"{path}.mode: unknown mode {raw['mode']!r} "
            f"(expected one of {', '.join(m.value for m in GatewayMode)})") from None
    try:
        keywords = KeywordSet.from_mapping(raw.get("keywords") or {})
    except KeywordConfigError as exc:
        raise GatewayConfigError(f"{path}.keywords: {exc}") from None
    templates = dict(DEFAULT_TEMPLATES)
    for name, text in (raw.get("templates") or {}).items():
        try:
            kind = ReplyKind(name)
        except ValueError:
            raise GatewayConfigError(
                f"{path}.templates.{name}: unknown template "
                f"(known: {', '.join(k.value for k in ReplyKind)})") from None
        if not isinstance(text, str) or not text.strip():
            raise GatewayConfigError(f"{path}.templates.{name}: expected non-empty text")
        _check_template(text, f"{path}.templates.{name}")
        templates[kind] = text
    create_opt_in = bool(raw.get("create_opt_in_on_incoming", False))
    if create_opt_in and mode in {GatewayMode.DOUBLE_OPT_IN, GatewayMode.CONSENT_REQUEST}:
        raise GatewayConfigError(
            f"{path}.create_opt_in_on_incoming: not allowed in mode {mode.value}, where consent "
            "must be confirmed explicitly")
    fallback = GatewayConfig(id=gid)
    return GatewayConfig(
        id=gid,
        mode=mode,
        number=raw.get("number"),
        brand=raw.get("brand", fallback.brand),
        program=raw.get("program", fallback.program),
        help_contact=raw.get("help_contact", fallback.help_contact),
        sender_name=raw.get("sender_name", fallback.sender_name),
        owner=raw.get("owner"),
        create_opt_in_on_incoming=create_opt_in,
        keyword_scoped=bool(raw.get("keyword_scoped", False)),
        pending_window_ms=parse_duration_ms(raw.get("pending_window", "24h"),
                                            f"{path}.pending_window"),
        consent_request_to_new_numbers=bool(raw.get("consent_request_to_new_numbers", False)),
        default_region=_region(raw.get("default_region"), f"{path}.default_region"),
        keywords=keywords,
        templates=MappingProxyType(templates),
        quiet_hours=_quiet_hours(raw.get("quiet_hours", "enforce"), f"{path}.quiet_hours"),
        frequency_cap=_frequency_cap(raw.get("frequency_cap"), f"{path}.frequency_cap"),
    )


def _region(value: object, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 2 or not value.isalpha():
        raise GatewayConfigError(f"{path}: expected a two-letter region code like 'US'")
    return value.upper()


def _check_template(text: str, path: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise GatewayConfigError(f"{path}: {exc}") from None
    unknown = names - TEMPLATE_VARIABLES
    if unknown:
        raise GatewayConfigError(
            f"{path}: unknown variable(s) {sorted(unknown)} "
            f"(known: {', '.join(sorted(TEMPLATE_VARIABLES))})")
