"""How every Kafka client the product creates connects: bootstrap servers and security.

``kafka_client_options(settings)`` gives the keyword arguments that every aiokafka client
(consumer, producer, admin) takes: ``AIOKafkaProducer(**kafka_client_options(s), acks=...)``.
``probe_kafka`` connects once the way those clients do and says in one line why it could not:
aiokafka's clients only log the cause of a failed bootstrap and raise "Unable to bootstrap".
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.conn import collect_hosts, create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    IllegalSaslStateError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.helpers import create_ssl_context
from aiokafka.protocol.metadata import MetadataRequest
from faust.auth import Credentials, SASLCredentials, SSLCredentials

from processor.settings import Settings, SettingsError


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """``bootstrap_servers`` plus the security arguments of an aiokafka client. Builds a fresh
    TLS context each time, so certificates renewed on disk are read by new clients."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap,
                               "security_protocol": protocol}
    if protocol in {"SSL", "SASL_SSL"}:
        options["ssl_context"] = tls_context(settings)
    if protocol in {"SASL_PLAINTEXT", "SASL_SSL"}:
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password)
    return options


def faust_broker(settings: Settings) -> str:
    """The bootstrap servers as faust's ``broker`` setting (one URL per server)."""
    return ";".join(f"kafka://{server.strip()}"
                    for server in settings.kafka_bootstrap.split(",") if server.strip())


def faust_credentials(settings: Settings) -> Credentials | None:
    """The same security settings in faust's form (``broker_credentials``), for the faust
    apps that do connect to Kafka (the reports service)."""
    protocol = settings.kafka_security_protocol
    context = tls_context(settings) if protocol in {"SSL", "SASL_SSL"} else None
    if protocol in {"SASL_PLAINTEXT", "SASL_SSL"}:
        return SASLCredentials(username=settings.kafka_sasl_username,
                               password=settings.kafka_sasl_password,
                               mechanism=settings.kafka_sasl_mechanism, ssl_context=context)
    if context is not None:
        return SSLCredentials(context)
    return None


def tls_context(settings: Settings) -> ssl.SSLContext:
    """The client TLS context: the brokers' CA (or the system's), host names checked, and the
    client certificate when one is configured. Unreadable files are a SettingsError."""
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=settings.kafka_ssl_cafile, certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
            password=settings.kafka_ssl_key_password or None)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        files = ", ".join(f"{name}={path}" for name, path in (
            ("CG_KAFKA_SSL_CAFILE", settings.kafka_ssl_cafile),
            ("CG_KAFKA_SSL_CERTFILE", settings.kafka_ssl_certfile),
            ("CG_KAFKA_SSL_KEYFILE", settings.kafka_ssl_keyfile)) if path is not None)
        hint = " (is CG_KAFKA_SSL_KEY_PASSWORD right?)" if settings.kafka_ssl_certfile else ""
        raise SettingsError(f"cannot load the Kafka TLS files ({files or 'system CAs'}): "
                            f"{settings.redact(str(exc))}{hint}") from None
    return context


class KafkaUnreachableError(Exception):
    """No bootstrap server answered a metadata request; ``reason`` says why in one line
    (without secrets), ``refused`` is true when the broker answered but rejected us
    (credentials, TLS), which retrying alone will not fix."""

    def __init__(self, reason: str, *, refused: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.refused = refused


async def probe_kafka(settings: Settings, timeout_s: float = 5.0) -> None:
    """Connects to each bootstrap server as the clients would (TLS, SASL) and asks for
    metadata; returns at the first that answers, raises KafkaUnreachableError otherwise."""
    options = kafka_client_options(settings)
    del options["bootstrap_servers"]
    failures: list[tuple[str, bool]] = []
    for host, port, _ in collect_hosts(settings.kafka_bootstrap, randomize=False):
        conn = None
        try:
            conn = await create_conn(host, port, client_id=f"{settings.group_id}-probe",
                                     request_timeout_ms=int(timeout_s * 1000), **options)
            await conn.send(MetadataRequest([]))
        except (OSError, KafkaError, TimeoutError) as exc:
            reason, refused = describe_failure(exc, settings)
            failures.append((f"{host}:{port}: {reason}", refused))
        else:
            return
        finally:
            if conn is not None:
                conn.close()
    refused = any(r for _, r in failures)
    kind = "kafka refused the connection" if refused else "kafka unreachable"
    reasons = "; ".join(reason for reason, _ in failures) or "no bootstrap servers"
    raise KafkaUnreachableError(settings.redact(f"{kind}: {reasons}"), refused=refused)


def describe_failure(exc: BaseException, settings: Settings) -> tuple[str, bool]:
    """One line for why a connection failed, and whether the broker refused us (as opposed
    to not being there)."""
    protocol = settings.kafka_security_protocol
    if isinstance(exc, SaslAuthenticationFailed | AuthenticationFailedError):
        return (f"authentication failed (SASL {settings.kafka_sasl_mechanism} as "
                f"{settings.kafka_sasl_username!r}): {_message(exc)}", True)
    if isinstance(exc, UnsupportedSaslMechanismError | IllegalSaslStateError):
        return f"SASL refused (CG_KAFKA_SECURITY_PROTOCOL={protocol}): {_message(exc)}", True
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}", True
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the broker running, on this port?)", False
    if isinstance(exc, TimeoutError):
        return "no answer in time", False
    if isinstance(exc, KafkaConnectionError | ConnectionResetError):
        # A listener that expects TLS or SASL drops a client that speaks otherwise; one that
        # wants a client certificate drops a TLS client without one after the handshake.
        certificate = (" or a client certificate (CG_KAFKA_SSL_CERTFILE)"
                       if protocol in {"SSL", "SASL_SSL"} and not settings.kafka_ssl_certfile
                       else "")
        return (f"connection closed by the broker (does this listener expect another "
                f"protocol than CG_KAFKA_SECURITY_PROTOCOL={protocol}{certificate}?)", True)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__, False
    return _message(exc), False


def _message(exc: BaseException) -> str:
    """The broker's own words when it sent some, else the error's description."""
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else ""
    return detail or getattr(exc, "description", "") or str(exc) or type(exc).__name__
