"""Reads the gateway configuration file (YAML) once at start; the parsing rules live in
``processor.domain.gateways``."""

from __future__ import annotations

from pathlib import Path

import yaml

from processor.domain.gateways.config import Gateways
from processor.domain.gateways.parsing import GatewayConfigError, parse_gateways


def load_gateways(path: Path | None) -> Gateways:
    """The gateways in `path`, or the defaults (Mogli's default opt-in mode) without a file."""
    if path is None:
        return Gateways()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GatewayConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise GatewayConfigError(f"{path}: not valid YAML ({exc})") from None
    try:
        return parse_gateways(data)
    except GatewayConfigError as exc:
        raise GatewayConfigError(f"{path}: {exc}") from None
