"""One frozen settings object, read once from the environment (prefix ``CG_``).

Every field has a default that works against the local stack (`make up`). The local scripts
export ``KAFKA_BOOTSTRAP`` and ``REDIS_URL``; those are honoured too so that tests, the demo and
the worker all point at the same stack without extra configuration.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from processor.topics import TopicNames


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:19092"
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
    replication_factor: int = 1
    group_id: str = "consent-gate"
    gateways_file: Path | None = None
    # Worker batching: records per getmany() call and the wait for a batch to fill.
    batch_max_records: int = 1000
    batch_timeout_ms: int = 50
    transaction_timeout_ms: int = 60_000
    # How long the group waits for a silent (crashed) member before moving its partitions.
    session_timeout_ms: int = 10_000
    # Outcomes of processed message/request/command ids are kept this long (idempotency).
    idempotency_retention_s: int = 7 * 24 * 3600
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
    # printed (repr=False); an empty secret disables the door it guards (503).
    ingress_host: str = "127.0.0.1"
    ingress_port: int = 8080
    # The public base URL carriers call (https://sms.example.com): Twilio signs the URL it
    # called, which a proxy in front of the ingress rewrites. Empty: the URL as received.
    ingress_public_url: str = ""
    # YAML list of API tokens as sha256 hashes with their actor and permissions.
    ingress_tokens_file: Path | None = None
    twilio_auth_token: str = field(default="", repr=False)
    # Shared secret of the generic JSON webhook (HMAC-SHA256 over the body).
    ingress_hmac_secret: str = field(default="", repr=False)
    ingress_max_body_bytes: int = 256 * 1024
    # Live consent reports (`python -m processor reports-service`): /v1/reports and /metrics.
    reports_host: str = "127.0.0.1"
    reports_port: int = 6067
    topics: TopicNames = field(default_factory=TopicNames)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Reads ``CG_<FIELD>`` variables (e.g. ``CG_PARTITIONS=6``); unknown ones are an error."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if "KAFKA_BOOTSTRAP" in env:
            values["kafka_bootstrap"] = env["KAFKA_BOOTSTRAP"]
        if "REDIS_URL" in env:
            values["redis_url"] = env["REDIS_URL"]
        known = {f.name: f for f in dataclasses.fields(cls) if f.name != "topics"}
        for key, raw in env.items():
            if not key.startswith("CG_") or key in _NOT_SETTINGS:
                continue
            name = key[3:].lower()
            if name not in known:
                raise SettingsError(f"{key}: unknown setting (known: {', '.join(sorted(known))})")
            values[name] = _convert(key, raw, known[name].default)
        values.update(overrides)
        if "topic_prefix" in values:
            values["topics"] = TopicNames(values["topic_prefix"])
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.partitions < 1:
            raise SettingsError("CG_PARTITIONS must be at least 1")
        if not 0 < self.dlq_max_invalid_ratio <= 1:
            raise SettingsError("CG_DLQ_MAX_INVALID_RATIO must be in (0, 1]")
        if self.log_format not in {"auto", "json", "console"}:
            raise SettingsError("CG_LOG_FORMAT must be auto, json or console")
        if not 0 <= self.ingress_port < 65536:
            raise SettingsError("CG_INGRESS_PORT must be a TCP port (0: any free one)")
        if self.ingress_public_url and not self.ingress_public_url.startswith(
                ("http://", "https://")):
            raise SettingsError("CG_INGRESS_PUBLIC_URL must start with http:// or https://")
        if self.topics.prefix != self.topic_prefix:
            raise SettingsError("topics and topic_prefix disagree; build Settings via from_env")


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
