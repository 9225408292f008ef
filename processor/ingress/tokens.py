"""API bearer tokens: configured only as SHA-256 hashes, each mapped to an actor and its
permissions. A presented token is hashed and compared with every configured hash in constant
time, so neither the comparison nor which entry matched leaks through timing.

The tokens file (``CG_INGRESS_TOKENS_FILE``, YAML)::

    tokens:
      - actor: crm@acme.example
        sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
        permissions: [api_opt_in_out, send, read_consent]

``python -m processor token`` prints a new random token and the line to put in the file.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processor.domain.gateways.config import API_PERMISSION, MANUAL_PERMISSION
from processor.settings import load_yaml_file


class Permission(enum.StrEnum):
    """What a token's actor may do through the API."""

    MANUAL_OPT_IN_OUT = MANUAL_PERMISSION  # an agent's manual opt-in/out (and number changes)
    API_OPT_IN_OUT = API_PERMISSION  # a system's API opt-in/out (and number changes)
    GLOBAL_OPT_OUT = "global_opt_out"  # set or clear a phone's global opt-out
    IMPORT = "import"  # import rows (Subscribe/Unsubscribe)
    SEND = "send"  # POST /v1/send-requests
    READ_CONSENT = "read_consent"  # GET /v1/consent/{phone}


class TokenConfigError(ValueError):
    """The tokens file cannot be used; the message names the entry and the problem."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who presented a valid token."""

    actor: str
    permissions: frozenset[Permission]


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class TokenRegistry:
    entries: Sequence[tuple[bytes, Caller]] = ()

    def authenticate(self, authorization: str | None) -> Caller | None:
        """The caller of an ``Authorization: Bearer <token>`` header; None when the header is
        missing, malformed or names no configured token. Every entry is compared."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        digest = hashlib.sha256(token.strip().encode()).digest()
        found: Caller | None = None
        for expected, caller in self.entries:
            if hmac.compare_digest(expected, digest):
                found = caller
        return found


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token, as the tokens file holds it."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def parse_tokens(data: Mapping[str, Any]) -> TokenRegistry:
    if not isinstance(data, Mapping) or set(data) - {"tokens"}:
        raise TokenConfigError("expected a mapping with one key, 'tokens'")
    raw_entries = data.get("tokens") or []
    if not isinstance(raw_entries, list):
        raise TokenConfigError("tokens: expected a list")
    entries: list[tuple[bytes, Caller]] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_entries):
        path = f"tokens[{i}]"
        if not isinstance(raw, Mapping):
            raise TokenConfigError(f"{path}: expected a mapping")
        unknown = set(raw) - {"actor", "sha256", "permissions"}
        if unknown:
            raise TokenConfigError(f"{path}: unknown keys {sorted(unknown)}")
        actor, digest, permissions = raw.get("actor"), raw.get("sha256"), raw.get("permissions")
        if not isinstance(actor, str) or not actor.strip() or len(actor) > 256:
            raise TokenConfigError(f"{path}.actor: expected a name (1-256 characters)")
        if not isinstance(digest, str) or not _HEX64.match(digest.lower()):
            raise TokenConfigError(f"{path}.sha256: expected 64 hex digits (the token's "
                                   "SHA-256; the token itself never goes in this file)")
        if digest.lower() in seen:
            raise TokenConfigError(f"{path}.sha256: the same token is configured twice")
        seen.add(digest.lower())
        if not isinstance(permissions, list):
            raise TokenConfigError(f"{path}.permissions: expected a list")
        try:
            granted = frozenset(Permission(p) for p in permissions)
        except ValueError:
            raise TokenConfigError(
                f"{path}.permissions: unknown permission in {permissions!r} "
                f"(known: {', '.join(p.value for p in Permission)})") from None
        entries.append((bytes.fromhex(digest), Caller(actor.strip(), granted)))
    return TokenRegistry(tuple(entries))


def load_tokens(path: Path | None) -> TokenRegistry:
    """The tokens in ``path``; no file means no token is valid (every API call gets 401)."""
    if path is None:
        return TokenRegistry()
    return load_yaml_file(path, parse_tokens, TokenConfigError)
