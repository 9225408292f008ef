"""One frozen settings object, read once from the environment (prefix ``CG_``), and the
gateway configuration file (YAML) it names.

Every field has a default that works against the local stack (`make up`). The local scripts
export ``KAFKA_BOOTSTRAP`` and ``REDIS_URL``; those are honoured too so that tests, the demo and
the worker all point at the same stack without extra configuration.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import yaml

from processor.domain.gateways.config import Gateways
from processor.domain.gateways.parsing import GatewayConfigError, parse_gateways
from processor.topics import TopicNames

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:19092"
    # How every Kafka client authenticates (processor.adapters.kafka.clients builds them).
    kafka_security_protocol: str = "PLAINTEXT"  # PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    kafka_sasl_mechanism: str = ""  # PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 (with SASL_*)
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    # TLS (with SSL and SASL_SSL): the CA that signed the brokers' certificates (the system's
    # CAs when unset) and, for brokers that ask for one, the client certificate and its key.
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_key_password: str = ""
    redis_url: str = "redis://127.0.0.1:16379/0"
    # A Redis Cluster: one script call per hash slot group instead of one per batch.
    redis_cluster: bool = False
    # A Redis that hangs must fail the batch (and /readyz), not block the worker forever.
    redis_timeout_s: float = 5.0
    # Prepended to every Redis key; tests use a fresh prefix each so they never collide.
    redis_prefix: str = "cg"
    topic_prefix: str = ""
    # All keyed topics get this many partitions: inputs are co-partitioned by phone number.
    partitions: int = 4
    # Production defaults for the topics the product creates: a write is acknowledged once
    # two of three replicas have it. A single-broker stack sets both to 1 explicitly.
    replication_factor: int = 3
    min_insync_replicas: int = 2
    group_id: str = "consent-gate"
    gateways_file: Path | None = None
    # Worker batching: records decided per partition batch, and the wait for records to come.
    batch_max_records: int = 1000
    batch_timeout_ms: int = 50
    # Records taken from the consumer per poll (all partitions), and the most fetched but
    # undecided records one input topic partition may buffer before it is paused (it waits
    # there while another input topic of its partition number catches up: decisions follow
    # broker time across the three input topics).
    fetch_max_records: int = 10_000
    buffer_max_records: int = 10_000
    # A partition number that has waited this long for another input topic partition to catch
    # up is reported on /readyz (it keeps waiting: deciding out of order is never the answer).
    order_wait_alert_s: float = 30.0
    transaction_timeout_ms: int = 60_000
    # How long the group waits for a silent (crashed) member before moving its partitions.
    session_timeout_ms: int = 10_000
    # Outcomes of processed message/request/command ids are kept this long (idempotency).
    idempotency_retention_s: int = 7 * 24 * 3600
    # Consent evidence (sms.consent-events) is kept this many days; -1: forever. Five years:
    # longer than the TCPA's four-year limitation period (28 U.S.C. 1658(a)) for a claim.
    evidence_retention_days: int = 5 * 365 + 1
    # Dead-letter limit: stop a partition when more than this share of the last `window`
    # records on it were invalid (and at least `min_invalid` of them).
    dlq_max_invalid_ratio: float = 0.5
    dlq_window: int = 200
    dlq_min_invalid: int = 20
    timer_interval_s: float = 1.0
    web_port: int = 6066
    web_host: str = "127.0.0.1"
    log_format: str = "auto"  # auto | json | console
    log_level: str = "info"
    # Ingress (`python -m processor ingress`): carrier webhooks, send requests and the consent
    # API over HTTP. Secrets are read from the environment (a Kubernetes Secret) and never
    # shown (repr, logs: see _SECRET_FIELDS); an empty secret disables the door it guards (503).
    ingress_host: str = "127.0.0.1"
    ingress_port: int = 8080
    # The public base URL carriers call (https://sms.example.com): Twilio signs the URL it
    # called, which a proxy in front of the ingress rewrites. Empty: the URL as received.
    ingress_public_url: str = ""
    # YAML list of API tokens as sha256 hashes with their actor and permissions.
    ingress_tokens_file: Path | None = None
    twilio_auth_token: str = ""
    # Shared secret of the generic JSON webhook (HMAC-SHA256 over the body).
    ingress_hmac_secret: str = ""
    ingress_max_body_bytes: int = 256 * 1024
    # Live consent reports (`python -m processor reports-service`): /v1/reports and /metrics.
    reports_host: str = "127.0.0.1"
    reports_port: int = 6067

    @property
    def topics(self) -> TopicNames:
        """The broker's names of the logical topics (``topic_prefix`` first)."""
        return TopicNames(self.topic_prefix)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Reads ``CG_<FIELD>`` variables (e.g. ``CG_PARTITIONS=6``); unknown ones are an error."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if "KAFKA_BOOTSTRAP" in env:
            values["kafka_bootstrap"] = env["KAFKA_BOOTSTRAP"]
        if "REDIS_URL" in env:
            values["redis_url"] = env["REDIS_URL"]
        known = {f.name: f for f in dataclasses.fields(cls)}
        for key, raw in env.items():
            if not key.startswith("CG_") or key in _NOT_SETTINGS:
                continue
            name = key[3:].lower()
            if name not in known:
                raise SettingsError(f"{key}: unknown setting (known: {', '.join(sorted(known))})")
            values[name] = _convert(key, raw, known[name].default)
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.partitions < 1:
            raise SettingsError("CG_PARTITIONS must be at least 1")
        if not 0 < self.dlq_max_invalid_ratio <= 1:
            raise SettingsError("CG_DLQ_MAX_INVALID_RATIO must be in (0, 1]")
        if min(self.batch_max_records, self.fetch_max_records, self.buffer_max_records) < 1:
            raise SettingsError("CG_BATCH_MAX_RECORDS, CG_FETCH_MAX_RECORDS and "
                                "CG_BUFFER_MAX_RECORDS must be at least 1")
        if self.log_format not in {"auto", "json", "console"}:
            raise SettingsError("CG_LOG_FORMAT must be auto, json or console")
        if not 0 <= self.ingress_port < 65536:
            raise SettingsError("CG_INGRESS_PORT must be a TCP port (0: any free one)")
        if self.ingress_public_url and not self.ingress_public_url.startswith(
                ("http://", "https://")):
            raise SettingsError("CG_INGRESS_PUBLIC_URL must start with http:// or https://")
        if self.evidence_retention_days != -1 and self.evidence_retention_days < 1:
            raise SettingsError("CG_EVIDENCE_RETENTION_DAYS must be at least 1, or -1 to keep "
                                "the evidence forever")
        if self.replication_factor < 1:
            raise SettingsError("CG_REPLICATION_FACTOR must be at least 1")
        if not 1 <= self.min_insync_replicas <= self.replication_factor:
            raise SettingsError(
                f"CG_MIN_INSYNC_REPLICAS={self.min_insync_replicas} must be between 1 and "
                f"CG_REPLICATION_FACTOR={self.replication_factor}")
        self._check_kafka_security()

    def _check_kafka_security(self) -> None:
        protocol = self.kafka_security_protocol
        if protocol not in SECURITY_PROTOCOLS:
            raise SettingsError(f"CG_KAFKA_SECURITY_PROTOCOL={protocol!r}: one of "
                                f"{', '.join(SECURITY_PROTOCOLS)}")
        sasl = {"CG_KAFKA_SASL_MECHANISM": self.kafka_sasl_mechanism,
                "CG_KAFKA_SASL_USERNAME": self.kafka_sasl_username,
                "CG_KAFKA_SASL_PASSWORD": self.kafka_sasl_password}
        if protocol.startswith("SASL_"):
            if self.kafka_sasl_mechanism not in SASL_MECHANISMS:
                raise SettingsError(
                    f"CG_KAFKA_SASL_MECHANISM={self.kafka_sasl_mechanism!r}: one of "
                    f"{', '.join(SASL_MECHANISMS)} (CG_KAFKA_SECURITY_PROTOCOL={protocol})")
            missing = [name for name, value in sasl.items() if not value]
            if missing:
                raise SettingsError(f"CG_KAFKA_SECURITY_PROTOCOL={protocol} needs "
                                    f"{' and '.join(missing)}")
        elif stray := [name for name, value in sasl.items() if value]:
            raise SettingsError(f"{', '.join(stray)} set, but CG_KAFKA_SECURITY_PROTOCOL="
                                f"{protocol} does not use SASL (SASL_PLAINTEXT or SASL_SSL does)")
        files = {"CG_KAFKA_SSL_CAFILE": self.kafka_ssl_cafile,
                 "CG_KAFKA_SSL_CERTFILE": self.kafka_ssl_certfile,
                 "CG_KAFKA_SSL_KEYFILE": self.kafka_ssl_keyfile}
        tls = {**files, "CG_KAFKA_SSL_KEY_PASSWORD": self.kafka_ssl_key_password}
        if protocol not in {"SSL", "SASL_SSL"}:
            if stray := [name for name, value in tls.items() if value]:
                raise SettingsError(f"{', '.join(stray)} set, but CG_KAFKA_SECURITY_PROTOCOL="
                                    f"{protocol} does not use TLS (SSL or SASL_SSL does)")
            return
        for name, path in files.items():
            if path is not None and not path.is_file():
                raise SettingsError(f"{name}={path}: no such file")
        if self.kafka_ssl_keyfile is not None and self.kafka_ssl_certfile is None:
            raise SettingsError("CG_KAFKA_SSL_KEYFILE needs CG_KAFKA_SSL_CERTFILE (the client "
                                "certificate the key belongs to)")
        if self.kafka_ssl_key_password and self.kafka_ssl_certfile is None:
            raise SettingsError("CG_KAFKA_SSL_KEY_PASSWORD set without a client key "
                                "(CG_KAFKA_SSL_CERTFILE / CG_KAFKA_SSL_KEYFILE)")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed, checked again."""
        settings = dataclasses.replace(self, **changes)
        settings.check()
        return settings

    def cluster_settings(self) -> dict[str, Any]:
        """Where and how Kafka and Redis are reached, and the replication their cluster
        allows: what a tool deriving its own settings (the benchmark) must keep."""
        return {name: getattr(self, name) for name in _CLUSTER_FIELDS}

    def to_env(self) -> dict[str, str]:
        """The environment that makes ``Settings.from_env`` (in a worker process, say) give
        these settings back; it holds the secrets."""
        env: dict[str, str] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            name = _ENV_NAMES.get(f.name, f"CG_{f.name.upper()}")
            if isinstance(value, bool):
                env[name] = "true" if value else "false"
            else:
                env[name] = "" if value is None else str(value)
        return env

    def secrets(self) -> tuple[str, ...]:
        """Every secret the settings hold (passwords, also inside REDIS_URL), to be redacted."""
        found = {*(getattr(self, name) for name in _SECRET_FIELDS),
                 *_url_secrets(self.redis_url)}
        return tuple(sorted((s for s in found if s), key=len, reverse=True))

    def redact(self, text: str) -> str:
        """`text` with every secret of these settings replaced by ``***``."""
        for secret in self.secrets():
            text = text.replace(secret, REDACTED)
        return text

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS and value:
                value = REDACTED
            elif f.name == "redis_url":
                value = redact_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
REDACTED = "***"
_SECRET_FIELDS = frozenset({"kafka_sasl_password", "kafka_ssl_key_password",
                            "twilio_auth_token", "ingress_hmac_secret"})
_CLUSTER_FIELDS = ("kafka_bootstrap", "kafka_security_protocol", "kafka_sasl_mechanism",
                   "kafka_sasl_username", "kafka_sasl_password", "kafka_ssl_cafile",
                   "kafka_ssl_certfile", "kafka_ssl_keyfile", "kafka_ssl_key_password",
                   "redis_url", "redis_cluster", "redis_timeout_s", "replication_factor",
                   "min_insync_replicas")
_ENV_NAMES = {"kafka_bootstrap": "KAFKA_BOOTSTRAP", "redis_url": "REDIS_URL"}


def _query(query: str) -> list[tuple[str, str]]:
    """``a=1&b=2`` as written (not decoded), so a secret is found in the spelling used."""
    return [(name, value) for name, _, value in (p.partition("=") for p in query.split("&") if p)]


def _url_secrets(url: str) -> set[str]:
    """The password of a URL and any ``...password=`` query value, as written and decoded."""
    parts = urlsplit(url)
    written = [parts.password or ""]
    written += [value for name, value in _query(parts.query) if "password" in name.lower()]
    return {form for value in written if value for form in (value, unquote(value))}


def redact_url(url: str) -> str:
    """``redis://user:secret@host:6379/0`` -> ``redis://user:***@host:6379/0`` (and the
    same for a ``...password=`` query value)."""
    parts = urlsplit(url)
    if parts.password:
        userinfo, _, host = parts.netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        parts = parts._replace(netloc=f"{user}:{REDACTED}@{host}")
    query = _query(parts.query)
    if any("password" in name.lower() for name, _ in query):
        parts = parts._replace(query="&".join(
            f"{name}={REDACTED if 'password' in name.lower() else value}"
            for name, value in query))
    return parts.geturl()


# Environment variables with the CG_ prefix that are not settings fields.
_NOT_SETTINGS = frozenset({"CG_STACK_DIR"})


def _convert(key: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(raw)
            return raw.lower() in {"1", "true", "yes"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if default is None or isinstance(default, Path):
            return Path(raw) if raw else None
    except ValueError as exc:
        raise SettingsError(f"{key}={raw!r}: expected {type(default).__name__}") from exc
    return raw


def load_gateways(path: Path | None) -> Gateways:
    """The gateways in the YAML file `path` (read once at start, and again on SIGHUP), or the
    defaults (Mogli's default opt-in mode) without a file. The parsing rules live in
    ``processor.domain.gateways``."""
    if path is None:
        return Gateways()
    return load_yaml_file(path, parse_gateways, GatewayConfigError)


def load_yaml_file(path: Path, parse: Callable[[Any], T], error: type[Exception]) -> T:
    """``parse`` of the YAML mapping in ``path``; every problem (unreadable file, invalid
    YAML, what ``parse`` refuses by raising ``error``) is raised as ``error`` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML ({exc})") from None
    try:
        return parse(data)
    except error as exc:
        raise error(f"{path}: {exc}") from None
