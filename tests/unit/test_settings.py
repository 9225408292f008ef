"""Settings: the Kafka security combinations checked at start, the Kafka client arguments
built from them, and secrets that never show in repr or in log lines."""

from __future__ import annotations

import logging
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from processor.adapters.kafka.clients import kafka_client_options
from processor.logs import RedactingFormatter, configure_logging
from processor.settings import Settings, SettingsError
from tests.support.tls import Certificates, make_certificates

SASL = {"CG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "CG_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "CG_KAFKA_SASL_USERNAME": "consent-gate", "CG_KAFKA_SASL_PASSWORD": "kafka-pw-4821"}


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


def test_production_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.replication_factor, settings.min_insync_replicas) == (3, 2)
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert kafka_client_options(settings) == {"bootstrap_servers": settings.kafka_bootstrap,
                                              "security_protocol": "PLAINTEXT"}


REFUSED = [
    ({"CG_KAFKA_SECURITY_PROTOCOL": "TLS"},
     "CG_KAFKA_SECURITY_PROTOCOL='TLS': one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
    ({**SASL, "CG_KAFKA_SASL_MECHANISM": ""}, "CG_KAFKA_SASL_MECHANISM=''"),
    ({**SASL, "CG_KAFKA_SASL_MECHANISM": "GSSAPI"},
     "CG_KAFKA_SASL_MECHANISM='GSSAPI': one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"),
    ({**SASL, "CG_KAFKA_SASL_USERNAME": "", "CG_KAFKA_SASL_PASSWORD": ""},
     "CG_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs CG_KAFKA_SASL_USERNAME and "
     "CG_KAFKA_SASL_PASSWORD"),
    ({**SASL, "CG_KAFKA_SASL_PASSWORD": ""}, "needs CG_KAFKA_SASL_PASSWORD"),
    ({**SASL, "CG_KAFKA_SECURITY_PROTOCOL": "SSL"},
     "CG_KAFKA_SASL_MECHANISM, CG_KAFKA_SASL_USERNAME, CG_KAFKA_SASL_PASSWORD set, but "
     "CG_KAFKA_SECURITY_PROTOCOL=SSL does not use SASL"),
    ({"CG_KAFKA_SSL_CAFILE": "/etc/hosts"},
     "CG_KAFKA_SSL_CAFILE set, but CG_KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS"),
    ({**SASL, "CG_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "CG_KAFKA_SSL_CAFILE": "/x"},
     "does not use TLS"),
    ({"CG_KAFKA_SECURITY_PROTOCOL": "SSL", "CG_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"},
     "CG_KAFKA_SSL_CAFILE=/nonexistent/ca.pem: no such file"),
    ({"CG_KAFKA_SECURITY_PROTOCOL": "SSL", "CG_KAFKA_SSL_KEYFILE": "/etc/hosts"},
     "CG_KAFKA_SSL_KEYFILE needs CG_KAFKA_SSL_CERTFILE"),
    ({"CG_KAFKA_SECURITY_PROTOCOL": "SSL", "CG_KAFKA_SSL_KEY_PASSWORD": "x"},
     "CG_KAFKA_SSL_KEY_PASSWORD set without a client key"),
    ({"CG_REPLICATION_FACTOR": "1"},
     "CG_MIN_INSYNC_REPLICAS=2 must be between 1 and CG_REPLICATION_FACTOR=1"),
    ({"CG_REPLICATION_FACTOR": "0", "CG_MIN_INSYNC_REPLICAS": "0"},
     "CG_REPLICATION_FACTOR must be at least 1"),
]


@pytest.mark.parametrize(("env", "message"), REFUSED)
def test_combinations_that_cannot_work_are_refused_at_start(env: dict[str, str],
                                                             message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert message in str(refused.value)
    assert "kafka-pw-4821" not in str(refused.value)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_sasl_settings_reach_the_client_arguments(protocol: str, mechanism: str) -> None:
    settings = Settings.from_env({**SASL, "CG_KAFKA_SECURITY_PROTOCOL": protocol,
                                  "CG_KAFKA_SASL_MECHANISM": mechanism})
    options = kafka_client_options(settings)
    assert options["security_protocol"] == protocol
    assert (options["sasl_mechanism"], options["sasl_plain_username"],
            options["sasl_plain_password"]) == (mechanism, "consent-gate", "kafka-pw-4821")
    # SASL_SSL without a CA file trusts the system's CAs (a managed cluster's public CA).
    assert ("ssl_context" in options) is (protocol == "SASL_SSL")


def test_tls_settings_build_a_verifying_context(certificates: Certificates) -> None:
    settings = Settings.from_env({
        "CG_KAFKA_SECURITY_PROTOCOL": "SSL", "CG_KAFKA_SSL_CAFILE": str(certificates.ca),
        "CG_KAFKA_SSL_CERTFILE": str(certificates.client_cert),
        "CG_KAFKA_SSL_KEYFILE": str(certificates.client_key),
        "CG_KAFKA_SSL_KEY_PASSWORD": certificates.key_password})
    context = kafka_client_options(settings)["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert "sasl_mechanism" not in kafka_client_options(settings)


def test_tls_files_that_cannot_be_loaded_are_a_settings_error(certificates: Certificates,
                                                              tmp_path: Path) -> None:
    wrong_password = "not-the-key-password-77"
    settings = Settings.from_env({
        "CG_KAFKA_SECURITY_PROTOCOL": "SSL", "CG_KAFKA_SSL_CAFILE": str(certificates.ca),
        "CG_KAFKA_SSL_CERTFILE": str(certificates.client_cert),
        "CG_KAFKA_SSL_KEYFILE": str(certificates.client_key),
        "CG_KAFKA_SSL_KEY_PASSWORD": wrong_password})
    with pytest.raises(SettingsError) as refused:
        kafka_client_options(settings)
    assert "cannot load the Kafka TLS files" in str(refused.value)
    assert "CG_KAFKA_SSL_KEY_PASSWORD" in str(refused.value)
    assert wrong_password not in str(refused.value)

    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    settings = Settings.from_env({"CG_KAFKA_SECURITY_PROTOCOL": "SSL",
                                  "CG_KAFKA_SSL_CAFILE": str(garbage)})
    with pytest.raises(SettingsError, match=f"CG_KAFKA_SSL_CAFILE={garbage}"):
        kafka_client_options(settings)


SECRET_REDIS_URLS = [
    ("redis://:redis-pw-1934@10.0.0.5:6379/0", ["redis-pw-1934"], "redis://:***@10.0.0.5"),
    ("redis://gate:acl-pw-5521@10.0.0.5:6379/0", ["acl-pw-5521"], "redis://gate:***@10.0.0.5"),
    ("rediss://gate:p%40ss%2Fword-88@redis.example.com:6380/0?ssl_ca_certs=/etc/ca.pem",
     ["p%40ss%2Fword-88", "p@ss/word-88"], "rediss://gate:***@redis.example.com:6380/0?ssl_ca"),
    ("rediss://redis.example.com:6380/0?ssl_certfile=/c.pem&ssl_password=key-pw-3141",
     ["key-pw-3141"], "6380/0?ssl_certfile=/c.pem&ssl_password=***"),
]


@pytest.mark.parametrize(("url", "secrets", "shown_url"), SECRET_REDIS_URLS)
def test_repr_shows_no_secret(url: str, secrets: list[str], shown_url: str) -> None:
    settings = Settings.from_env({**SASL, "REDIS_URL": url})
    shown = repr(settings)
    for secret in [*secrets, "kafka-pw-4821"]:
        assert secret not in shown
        assert secret not in str(settings)
        assert settings.redact(f"error near {secret}!") == "error near ***!"
    assert "kafka_sasl_password='***'" in shown
    assert "kafka_sasl_username='consent-gate'" in shown  # a user name is not a secret
    assert shown_url in shown


def test_settings_survive_the_trip_through_the_environment(tmp_path: Path) -> None:
    gateways = tmp_path / "gateways.yaml"
    settings = Settings.from_env(
        {}, kafka_bootstrap="10.0.0.1:9093,10.0.0.2:9093", kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="PLAIN", kafka_sasl_username="u", kafka_sasl_password="p w",
        redis_url="redis://:x@h:1/2", redis_cluster=True, topic_prefix="t.", partitions=6,
        gateways_file=gateways, dlq_max_invalid_ratio=0.25, log_format="json")
    assert Settings.from_env(settings.to_env()) == settings
    assert Settings.from_env(Settings.from_env({}).to_env()) == Settings.from_env({})


def test_replace_keeps_topic_names_in_step_and_checks() -> None:
    settings = Settings.from_env({}).replace(topic_prefix="x.", partitions=2)
    assert settings.topics.prefix == "x."
    with pytest.raises(SettingsError):
        settings.replace(kafka_security_protocol="SASL_SSL")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


@pytest.mark.usefixtures("restore_logging")
def test_log_lines_show_no_secret(capsys: pytest.CaptureFixture[str]) -> None:
    url = "redis://gate:acl-pw-5521@127.0.0.1:6379/0"
    settings = Settings.from_env({**SASL, "REDIS_URL": url, "CG_LOG_FORMAT": "json"})
    configure_logging(settings)
    log = structlog.get_logger("test")
    log.error("connect failed", url=url, nested={"password": "kafka-pw-4821"},
              text='quote " and kafka-pw-4821')
    try:
        raise RuntimeError(f"auth failed for {url}")
    except RuntimeError:
        log.exception("with a traceback")
    err = capsys.readouterr().err
    assert "connect failed" in err
    assert "with a traceback" in err
    for secret in ("acl-pw-5521", "kafka-pw-4821"):
        assert secret not in err

    formatter = RedactingFormatter(settings, "%(name)s %(message)s")
    record = logging.LogRecord("aiokafka", logging.ERROR, __file__, 1,
                               "Unable connect to %s", (url,), None)
    assert formatter.format(record) == "aiokafka Unable connect to " \
                                       "redis://gate:***@127.0.0.1:6379/0"
    try:
        raise ValueError("kafka-pw-4821")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert "kafka-pw-4821" not in formatter.format(record)


def test_the_reports_service_gets_the_same_kafka_security_in_fausts_form() -> None:
    from faust.auth import SASLCredentials

    from processor.adapters.kafka.clients import faust_broker, faust_credentials

    plain = Settings.from_env({}, kafka_bootstrap="a:1, b:2")
    assert faust_broker(plain) == "kafka://a:1;kafka://b:2"
    assert faust_credentials(plain) is None
    scram = Settings.from_env({}, kafka_security_protocol="SASL_PLAINTEXT",
                              kafka_sasl_mechanism="SCRAM-SHA-512",
                              kafka_sasl_username="u", kafka_sasl_password="p")
    credentials = faust_credentials(scram)
    assert isinstance(credentials, SASLCredentials)
    assert (credentials.username, credentials.password, credentials.mechanism.value,
            credentials.ssl_context) == ("u", "p", "SCRAM-SHA-512", None)


def test_the_evidence_retention_is_days_or_forever() -> None:
    assert Settings.from_env({}).evidence_retention_days == 5 * 365 + 1
    assert Settings.from_env({"CG_EVIDENCE_RETENTION_DAYS": "-1"}).evidence_retention_days == -1
    for bad in ("0", "-2"):
        with pytest.raises(SettingsError, match="CG_EVIDENCE_RETENTION_DAYS must be at least 1"):
            Settings.from_env({"CG_EVIDENCE_RETENTION_DAYS": bad})
