"""Gateway configuration from the parsed YAML mapping, validated once at start: every problem is
reported with its path (``gateways.sc-12345.mode: ...``)."""

from __future__ import annotations

import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from processor.domain.classify.classification import KeywordConfigError
from processor.domain.classify.keyword_sets import KeywordSet
from processor.domain.gateways.config import FrequencyCap, GatewayConfig, Gateways, RevocationScope
from processor.domain.gateways.modes import MODE_RULES, GatewayMode
from processor.domain.gateways.templates import DEFAULT_TEMPLATES, TEMPLATE_VARIABLES
from processor.domain.models.enums import ReplyKind


class GatewayConfigError(ValueError):
    """The gateway configuration cannot be used; the message names the path and the problem."""


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


def _check_fields(raw: Mapping[str, Any], fields: Mapping[str, Any], path: str) -> None:
    """Every key of ``raw`` is one of ``fields`` and holds its type (a bool is not an int)."""
    for key, value in raw.items():
        expected = fields.get(key)
        if expected is None:
            raise GatewayConfigError(f"{path}.{key}: unknown setting "
                                     f"(known: {', '.join(sorted(fields))})")
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise GatewayConfigError(f"{path}.{key}: wrong type {type(value).__name__}")


def _frequency_cap(raw: object, path: str) -> FrequencyCap | None:
    """``frequency_cap: {max: 3, window: 24h, per_keyword: false}``."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise GatewayConfigError(f"{path}: expected a mapping like {{max: 3, window: 24h}}")
    _check_fields(raw, _CAP_FIELDS, path)
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
    _check_fields(raw, _FIELDS, path)
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
    if create_opt_in and MODE_RULES[mode].confirms_consent:
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
