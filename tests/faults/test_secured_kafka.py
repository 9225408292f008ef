"""The worker against a secured Kafka: a private broker of this module
(tests/support/private_kafka.py) with SASL_PLAINTEXT, SASL_SSL and SSL (client certificate
required) listeners, SCRAM users created when its storage is formatted, and certificates made
for the test.

Records are decided end to end through each secured listener; a client Kafka refuses gets one
line saying why; a worker whose credentials Kafka refuses logs one error, stays up with its web
views saying why it is not ready, and starts once the credentials work, with no secret in its
logs or its /readyz.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from processor.adapters.kafka.clients import (
    KafkaUnreachableError,
    kafka_client_options,
    probe_kafka,
)
from processor.domain.models.enums import SendDebug, SendStatus
from processor.topics import Topic
from tests.faults.conftest import WorkerLauncher, wait_for
from tests.support.consent_helpers import inbound, send
from tests.support.harness import Stack, private_stack, running_worker, settings_for
from tests.support.private_kafka import PrivateKafka, start_private_kafka
from tests.support.private_redis import SecuredRedis, start_secured_redis
from tests.support.stack import unique
from tests.support.tls import Certificates, make_certificates

pytestmark = pytest.mark.faults

PHONE = "+12025550123"
SCRAM_USER, SCRAM_PASSWORD = "consent-gate", f"scram-{secrets.token_hex(8)}"
PLAIN_USER, PLAIN_PASSWORD = "alice", f"plain-{secrets.token_hex(8)}"
LISTENERS = ("SASL_PLAINTEXT", "SASL_SSL", "SSL")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
async def secured_kafka(tmp_path_factory: pytest.TempPathFactory,
                        certificates: Certificates) -> AsyncIterator[PrivateKafka]:
    kafka = await start_private_kafka(
        tmp_path_factory.mktemp("kafka"), listeners=LISTENERS,
        scram_users={SCRAM_USER: SCRAM_PASSWORD}, plain_users={PLAIN_USER: PLAIN_PASSWORD},
        certificates=certificates)
    try:
        yield kafka
    finally:
        await kafka.stop()


async def decide_a_conversation(stack: Stack) -> None:
    """A send, a STOP, a send: forwarded, opted out, refused; all through the topics."""
    await stack.send(send("gw1", request_id="r-1", phone=PHONE))
    assert [r.status for r in await stack.read(Topic.SEND_RESULTS, 1)] == [SendStatus.FORWARDED]
    await stack.text(inbound("STOP", "gw1", message_id="m-1", phone=PHONE))
    assert len(await stack.read(Topic.CONSENT_EVENTS, 1)) == 1
    await stack.send(send("gw1", request_id="r-2", phone=PHONE))
    results = await stack.read(Topic.SEND_RESULTS, 2)
    assert [(r.request_id, r.status, r.debug) for r in results] == [
        ("r-1", SendStatus.FORWARDED, None),
        ("r-2", SendStatus.ERROR, SendDebug.PREVIOUS_OPT_OUT)]


@pytest.mark.parametrize(("listener", "mechanism"), [
    pytest.param("SASL_PLAINTEXT", "SCRAM-SHA-512", id="sasl_plaintext-scram-sha-512"),
    pytest.param("SASL_SSL", "SCRAM-SHA-256", id="sasl_ssl-scram-sha-256"),
    pytest.param("SASL_SSL", "PLAIN", id="sasl_ssl-plain"),
    pytest.param("SSL", "", id="ssl-client-certificate"),
])
async def test_the_worker_decides_through_a_secured_listener(
        tmp_path: Path, secured_kafka: PrivateKafka, listener: str, mechanism: str) -> None:
    connection = secured_kafka.connection(listener, mechanism)
    # Every client of the test and of the worker goes through this listener only.
    assert connection["kafka_bootstrap"] == secured_kafka.bootstrap(listener)
    async with private_stack(tmp_path, **connection) as stack, running_worker(stack.settings):
        await decide_a_conversation(stack)


def refused_settings(kafka: PrivateKafka, certificates: Certificates) -> list[Any]:
    wrong = f"wrong-{secrets.token_hex(6)}"
    return [
        pytest.param(kafka.settings("SASL_PLAINTEXT", kafka_sasl_password=wrong),
                     "kafka refused the connection: 127.0.0.1:{port}: authentication failed "
                     "(SASL SCRAM-SHA-512 as 'consent-gate'): Authentication failed during "
                     "authentication due to invalid credentials with SASL mechanism "
                     "SCRAM-SHA-512", wrong, id="wrong-password"),
        pytest.param(kafka.settings("SASL_SSL", "PLAIN", kafka_sasl_username="mallory"),
                     "kafka refused the connection: 127.0.0.1:{port}: authentication failed "
                     "(SASL PLAIN as 'mallory'): Authentication failed: Invalid username or "
                     "password", PLAIN_PASSWORD, id="unknown-user"),
        pytest.param(kafka.settings("SASL_SSL", kafka_ssl_cafile=certificates.other_ca),
                     "kafka refused the connection: 127.0.0.1:{port}: TLS handshake failed: "
                     "CERTIFICATE_VERIFY_FAILED", SCRAM_PASSWORD, id="broker-not-signed-by-ca"),
        pytest.param(kafka.settings("SASL_PLAINTEXT", kafka_sasl_mechanism="SCRAM-SHA-256",
                                    kafka_sasl_username=PLAIN_USER,
                                    kafka_sasl_password=PLAIN_PASSWORD),
                     "kafka refused the connection: 127.0.0.1:{port}: authentication failed "
                     "(SASL SCRAM-SHA-256 as 'alice')", PLAIN_PASSWORD,
                     id="user-without-scram-credentials"),
        pytest.param(kafka.settings("PLAINTEXT", kafka_bootstrap=kafka.bootstrap("SASL_SSL")),
                     "kafka refused the connection: 127.0.0.1:{port}: connection closed by the "
                     "broker (does this listener expect another protocol than "
                     "CG_KAFKA_SECURITY_PROTOCOL=PLAINTEXT?)", "", id="plaintext-to-tls"),
        pytest.param(kafka.settings("SSL", kafka_ssl_certfile=None, kafka_ssl_keyfile=None,
                                    kafka_ssl_key_password=""),
                     "kafka refused the connection: 127.0.0.1:{port}: connection closed by the "
                     "broker (does this listener expect another protocol than "
                     "CG_KAFKA_SECURITY_PROTOCOL=SSL or a client certificate "
                     "(CG_KAFKA_SSL_CERTFILE)?)", "", id="no-client-certificate"),
    ]


async def test_a_client_kafka_refuses_gets_one_line_saying_why(
        secured_kafka: PrivateKafka, certificates: Certificates) -> None:
    for case in refused_settings(secured_kafka, certificates):
        settings, expected, secret = case.values
        port = settings.kafka_bootstrap.rsplit(":", 1)[1]
        with pytest.raises(KafkaUnreachableError) as refused:
            await probe_kafka(settings)
        assert refused.value.refused, case.id
        assert refused.value.reason.startswith(expected.format(port=port)), \
            (case.id, refused.value.reason)
        assert not secret or secret not in refused.value.reason
        # The product's own clients, built from the same settings, are refused too.
        admin = AIOKafkaAdminClient(**kafka_client_options(settings), request_timeout_ms=5000)
        with pytest.raises(KafkaConnectionError):
            await admin.start()
        await admin.close()


@pytest.fixture
async def acl_redis(tmp_path: Path) -> AsyncIterator[SecuredRedis]:
    """A Redis with an ACL user and password: its URL holds a secret too."""
    server = await start_secured_redis(tmp_path, user="gate",
                                       password=f"redis-{secrets.token_hex(8)}")
    try:
        yield server
    finally:
        await server.stop()


# Long enough for several attempts at the start-up backoff (after 0.5, 1.5, 3.5 s).
RETRYING_SECONDS = 5.0


async def test_refused_credentials_give_one_error_and_a_not_ready_worker_until_they_work(
        tmp_path: Path, secured_kafka: PrivateKafka, workers: WorkerLauncher,
        acl_redis: SecuredRedis) -> None:
    user, password = unique("late"), f"late-{secrets.token_hex(8)}"
    prefix = unique("t").replace("-", "") + "."
    connection = {**secured_kafka.connection("SASL_SSL", "SCRAM-SHA-512"),
                  "kafka_sasl_username": user, "kafka_sasl_password": password}
    settings = settings_for(prefix, tmp_path, **connection, redis_url=acl_redis.url)
    redis_password = acl_redis.url.split(":")[2].split("@")[0]
    worker = await workers.start(settings)

    async def refusal() -> tuple[int, str] | None:
        answer = await worker.get("/readyz")
        return answer if answer and "connecting to kafka" not in answer[1] else None

    status, body = await wait_for(refusal, 30, "/readyz to say why")
    assert await worker.get("/healthz") == (200, '{"alive":true}')
    assert status == 503
    (problem,) = json.loads(body)["problems"]
    assert problem.startswith(
        f"kafka refused the connection: {settings.kafka_bootstrap}: authentication failed "
        f"(SASL SCRAM-SHA-512 as '{user}')"), problem

    await asyncio.sleep(RETRYING_SECONDS)
    worker.check_alive()  # no crash, no restart loop
    assert (await worker.get("/readyz") or (0, ""))[0] == 503
    complaints = [line for line in worker.log_lines() if line.get("level") in {"error", "warning"}]
    assert [(c["level"], c["event"], c["reason"]) for c in complaints] == [
        ("error", "kafka not available; retrying", problem)], complaints

    # The credentials appear on the broker: the same process connects and decides.
    await secured_kafka.add_scram_user(user, password)
    await worker.wait_ready(timeout=60)
    (available,) = [line for line in worker.log_lines() if line["event"] == "kafka available"]
    assert available["attempts"] > 3
    producer = AIOKafkaProducer(**kafka_client_options(settings), acks="all",
                                enable_idempotence=True)
    await producer.start()
    stack = Stack(settings, producer)
    try:
        await decide_a_conversation(stack)
        readyz_body = (await worker.get("/readyz") or (0, ""))[1]
    finally:
        await stack.close()
    await worker.terminate()

    shown = worker.log_path.read_text(errors="replace") + body + readyz_body
    assert "batch committed" in shown
    for secret in (password, redis_password):
        assert secret not in shown
