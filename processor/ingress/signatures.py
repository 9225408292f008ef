"""Request signatures the ingress checks: Twilio's ``X-Twilio-Signature`` and the generic
webhook's HMAC-SHA256 over the body. Comparisons run in constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
# Twilio's SharedKey webhooks name their algorithm here; without it the signature is HMAC-SHA1
# with the account's auth token.
TWILIO_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
_TWILIO_ALGORITHMS = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}

BODY_SIGNATURE_HEADER = "X-Signature-SHA256"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def twilio_signature(secret: str, url: str, params: Iterable[tuple[str, str]],
                     algorithm: str = "HMAC_SHA1") -> str:
    """The signature Twilio sends for a form POST to ``url``: the URL followed by every
    parameter's name and value, parameters sorted by name (each value once, sorted), keyed with
    the secret, base64. Raises KeyError for an algorithm Twilio does not use."""
    hash_function = _TWILIO_ALGORITHMS[algorithm.upper()]
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(name + value for name in sorted(values)
                           for value in sorted(values[name]))
    digest = hmac.new(secret.encode(), signed.encode(), hash_function).digest()
    return base64.b64encode(digest).decode("ascii")


def twilio_algorithm(settings_header: str | None) -> str | None:
    """The algorithm named by X-Twilio-Webhooks-Signature-Settings (HMAC_SHA1 without one);
    None when it names one we do not know (the request is then refused)."""
    for part in (settings_header or "").split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "algorithm" and value.strip():
            algorithm = value.strip().upper()
            return algorithm if algorithm in _TWILIO_ALGORITHMS else None
    return "HMAC_SHA1"


def valid_twilio_signature(secret: str, url: str, params: Iterable[tuple[str, str]],
                           signature: str | None, settings_header: str | None = None) -> bool:
    """Whether ``signature`` is Twilio's for this request. Twilio signs the URL sometimes with
    and sometimes without the default port, so both spellings are accepted (as Twilio's own
    validator does)."""
    algorithm = twilio_algorithm(settings_header)
    if not secret or not signature or algorithm is None:
        return False
    pairs = list(params)
    presented = signature.encode()
    matches = [hmac.compare_digest(twilio_signature(secret, spelling, pairs, algorithm).encode(),
                                   presented)
               for spelling in _port_spellings(url)]
    return any(matches)


def _port_spellings(url: str) -> tuple[str, str]:
    """``url`` without its port, and with its port (the scheme's default when it has none)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, _, hostport = netloc.rpartition("@")
    prefix = f"{userinfo}@" if userinfo else ""
    host = hostport.rsplit(":", 1)[0] if parts.port is not None else hostport
    port = parts.port if parts.port is not None else _DEFAULT_PORTS.get(parts.scheme, 80)
    return (urlunsplit(parts._replace(netloc=f"{prefix}{host}")),
            urlunsplit(parts._replace(netloc=f"{prefix}{host}:{port}")))


def body_signature(secret: str, body: bytes) -> str:
    """The generic webhook's signature header value: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def valid_body_signature(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(body_signature(secret, body).encode(), header.strip().encode())
