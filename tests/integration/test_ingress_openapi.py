"""Schemathesis against the running ingress (``python -m processor ingress`` in a child
process, real broker and Redis): every operation of /openapi.json gets generated requests, and
every answer must conform to the document (status, content type, body schema), never be a
5xx, and refuse requests without their credentials.

The examples per operation are bounded so the suite stays fast. ``positive_data_acceptance``
is left out on purpose: the document cannot say which strings are dialable phone numbers, so a
schema-valid body may rightly get a documented 422 from the codec.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from processor.adapters.kafka.topic_admin import create_topics, delete_topics_with_prefix
from processor.settings import Settings
from tests.support.ingress_harness import GATEWAYS, HMAC_SECRET, TWILIO_TOKEN, write_tokens
from tests.support.stack import KAFKA_BOOTSTRAP, REDIS_URL, ROOT, unique

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_healthy(url: str, child: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.returncode is not None:
            raise AssertionError(f"the ingress exited with {child.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the ingress did not answer on {url} within {timeout}s")


@pytest.fixture(scope="module")
async def ingress_process(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[
        tuple[str, str]]:
    """(base URL, a token with every permission) of a running ingress process."""
    tmp: Path = tmp_path_factory.mktemp("ingress")
    prefix = unique("st").replace("-", "") + "."
    settings = Settings.from_env({}, kafka_bootstrap=KAFKA_BOOTSTRAP, topic_prefix=prefix,
                                 partitions=2, replication_factor=1, min_insync_replicas=1)
    await create_topics(settings)
    tokens = write_tokens(tmp / "tokens.yaml")
    (tmp / "gateways.yaml").write_text(yaml.safe_dump(GATEWAYS))
    port = _free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP, "REDIS_URL": REDIS_URL,
           "CG_TOPIC_PREFIX": prefix, "CG_REDIS_PREFIX": prefix, "CG_INGRESS_PORT": str(port),
           "CG_INGRESS_TOKENS_FILE": str(tmp / "tokens.yaml"),
           "CG_GATEWAYS_FILE": str(tmp / "gateways.yaml"),
           "CG_TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "CG_INGRESS_HMAC_SECRET": HMAC_SECRET,
           "CG_LOG_LEVEL": "warning"}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "processor", "ingress", cwd=ROOT, env=env,
        stderr=asyncio.subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(_wait_healthy, url, child)
        yield url, tokens["everything"]
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(child.communicate(), 30)
        await delete_topics_with_prefix(settings, prefix)
    # SIGTERM is a clean stop: requests in flight finish, the producer flushes.
    assert child.returncode == 0, stderr.decode()[-3000:]


@pytest.fixture(scope="module")
def api_schema(ingress_process: tuple[str, str]) -> Any:
    url, _ = ingress_process
    # A generated body over the ingress' size limit is rejected with 413 (documented for every
    # POST), which schemathesis' default list of rejections for invalid data leaves out.
    config = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
        "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413", "415",
                              "422", "428", "429", "5xx"]}}})
    return schemathesis.openapi.from_url(url + "/openapi.json", config=config)


@pytest.fixture(scope="module")
def bearer(ingress_process: tuple[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {ingress_process[1]}"}


OPERATIONS = [("POST", "/webhooks/twilio/sms"), ("POST", "/webhooks/inbound"),
              ("POST", "/v1/send-requests"), ("POST", "/v1/commands"),
              ("GET", "/v1/consent/{phone}"), ("GET", "/healthz"), ("GET", "/readyz")]


# schemathesis' pytest loader (from_fixture) does not run on pytest 9 (it reads a private
# attribute pytest removed), so each operation's strategy is drawn by hypothesis directly.
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_running_ingress_conforms_to_its_openapi_document(
        api_schema: Any, bearer: dict[str, str], method: str, path: str) -> None:
    operation = api_schema[path][method]
    strategy = (operation.as_strategy(GenerationMode.POSITIVE)
                | operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def conforms(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance],
                               timeout=15)

    conforms()


# Generated phones are almost never dialable, so the accepting answers are checked on
# requests the worker would decide: their 2xx replies must conform to the document too.
VALID_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/send-requests", {"body": {"to": "+12025550143", "gateway": "acme-main",
                                            "body": "hello"}}),
    ("POST", "/v1/commands", {"body": {"type": "api_opt_out", "phone": "+12025550143",
                                       "gateway": "acme-main"}}),
    ("POST", "/v1/commands", {"body": {"type": "global_opt_out_set",
                                       "phone": "+12025550143"}}),
    ("GET", "/v1/consent/{phone}", {"path_parameters": {"phone": "+12025550143"}}),
]


@pytest.mark.parametrize(("method", "path", "request_parts"), VALID_REQUESTS)
def test_accepted_requests_conform_to_the_document(
        api_schema: Any, bearer: dict[str, str], method: str, path: str,
        request_parts: dict[str, Any]) -> None:
    case = api_schema[path][method].Case(media_type="application/json", **request_parts)
    response = case.call_and_validate(headers=bearer, timeout=15)
    assert 200 <= response.status_code < 300, response.text


def test_the_document_is_served_and_loads(api_schema: Any) -> None:
    operations = {(op.method.upper(), op.path) for op in
                  (result.ok() for result in api_schema.get_all_operations())}
    assert set(OPERATIONS) <= operations
