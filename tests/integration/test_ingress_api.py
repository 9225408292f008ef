"""The HTTP API against the real broker and Redis: send requests and commands (bearer tokens
with permissions), a phone's consent read from the worker's store, health and metrics. A
refused request publishes nothing, checked with a read_committed consumer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from processor.domain.models.enums import CommandType, ConsentStatus, SendKind
from processor.domain.models.inputs import Command, SendRequest
from processor.topics import Topic
from tests.support.harness import running_worker
from tests.support.ingress_harness import TWILIO_TOKEN, IngressUnderTest, ingress_under_test

pytestmark = pytest.mark.integration

ANA = "+12025550143"


@pytest.fixture
async def ingress(tmp_path: Path) -> AsyncIterator[IngressUnderTest]:
    async with ingress_under_test(tmp_path) as under_test:
        yield under_test


async def call(ingress: IngressUnderTest, method: str, path: str, actor: str | None,
               body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    headers = ingress.bearer(actor) if actor else {}
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    async with ingress.http.request(method, ingress.url + path, data=data,
                                    headers={**headers,
                                             "Content-Type": "application/json"}) as response:
        return response.status, await response.json()


# --- POST /v1/send-requests -------------------------------------------------------------------

async def test_a_send_request_is_published_with_its_id(ingress: IngressUnderTest) -> None:
    status, reply = await call(ingress, "POST", "/v1/send-requests", "sender", {
        "to": "(202) 555-0143", "gateway": "acme-main", "body": "Your order shipped"})
    assert status == 202, reply
    status, second = await call(ingress, "POST", "/v1/send-requests", "everything", {
        "to": ANA, "gateway": "acme-alerts", "body": "Sale", "kind": "campaign",
        "keyword": "volunteer", "request_id": "crm-42", "requested_by": "dana@acme.example"})
    assert (status, second) == (202, {"request_id": "crm-42"})
    records = await ingress.committed_with_keys(Topic.SEND_REQUESTS)
    by_id = {r.request_id: (key, r) for key, r in records}
    assert set(by_id) == {reply["request_id"], "crm-42"}
    key, first = by_id[reply["request_id"]]
    assert isinstance(first, SendRequest)
    assert key == ANA.encode()
    assert (first.phone, first.gateway, first.kind, first.requested_by) == (
        ANA, "acme-main", SendKind.ONE_TO_ONE, "sender")  # the token's actor by default
    _, campaign = by_id["crm-42"]
    assert (campaign.kind, campaign.keyword, campaign.requested_by) == (
        SendKind.CAMPAIGN, "VOLUNTEER", "dana@acme.example")


@pytest.mark.parametrize(("actor", "body", "status", "reason"), [
    (None, {"to": ANA, "gateway": "acme-main", "body": "x"}, 401, "bearer token"),
    ("agent", {"to": ANA, "gateway": "acme-main", "body": "x"}, 403, "send"),
    ("nothing", {"to": ANA, "gateway": "acme-main", "body": "x"}, 403, "send"),
    ("sender", {"to": "+1202555", "gateway": "acme-main", "body": "x"}, 422, "to"),
    ("sender", {"to": ANA, "gateway": "acme|main", "body": "x"}, 422, "gateway"),
    ("sender", {"to": ANA, "gateway": "acme-main", "body": ""}, 422, "body"),
    ("sender", {"to": ANA, "gateway": "acme-main"}, 422, "body"),
    ("sender", {"to": ANA, "gateway": "acme-main", "body": "x", "kind": "spam"}, 422, "kind"),
    ("sender", {"to": ANA, "gateway": "acme-main", "body": "x", "priority": 1}, 422,
     "priority"),
    ("sender", [ANA], 422, "object"),
])
async def test_a_refused_send_request_publishes_nothing(
        ingress: IngressUnderTest, actor: str | None, body: Any, status: int,
        reason: str) -> None:
    got, reply = await call(ingress, "POST", "/v1/send-requests", actor, body)
    assert got == status, reply
    assert reason in reply["error"]
    assert await ingress.committed(Topic.SEND_REQUESTS) == []


async def test_a_wrong_token_is_401_and_not_json_is_400(ingress: IngressUnderTest) -> None:
    async with ingress.http.post(ingress.url + "/v1/send-requests", data=b"{}",
                                 headers={"Authorization": "Bearer not-a-token"}) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    status, reply = await call(ingress, "POST", "/v1/send-requests", "sender",
                               raw=b"to=+12025550143")
    assert status == 400
    assert "JSON" in reply["error"]
    assert await ingress.committed(Topic.SEND_REQUESTS) == []


# --- POST /v1/commands ------------------------------------------------------------------------

async def test_commands_carry_the_tokens_actor_and_permissions(
        ingress: IngressUnderTest) -> None:
    status, reply = await call(ingress, "POST", "/v1/commands", "agent", {
        "type": "manual_opt_out", "phone": ANA, "gateway": "acme-main", "reason": "asked"})
    assert status == 202, reply
    status, imported = await call(ingress, "POST", "/v1/commands", "everything", {
        "type": "import", "phone": ANA, "gateway": "acme-alerts", "keyword": "volunteer",
        "import_status": "Subscribe", "command_id": "import-7"})
    assert (status, imported) == (202, {"command_id": "import-7"})
    status, _ = await call(ingress, "POST", "/v1/commands", "crm", {
        "type": "number_changed", "phone": ANA, "new_phone": "+12025550178"})
    assert status == 202
    commands: dict[CommandType, Command] = {
        c.type: c for c in await ingress.committed(Topic.COMMANDS)}
    assert set(commands) == {CommandType.MANUAL_OPT_OUT, CommandType.IMPORT,
                             CommandType.NUMBER_CHANGED}
    manual = commands[CommandType.MANUAL_OPT_OUT]
    assert (manual.command_id, manual.actor, manual.permissions, manual.reason) == (
        reply["command_id"], "agent", ("manual_opt_in_out", "read_consent"), "asked")
    assert commands[CommandType.IMPORT].keyword == "VOLUNTEER"
    assert commands[CommandType.NUMBER_CHANGED].new_phone == "+12025550178"


@pytest.mark.parametrize(("actor", "body", "status", "reason"), [
    (None, {"type": "manual_opt_out", "phone": ANA, "gateway": "acme-main"}, 401, "bearer"),
    ("crm", {"type": "manual_opt_in", "phone": ANA, "gateway": "acme-main"}, 403,
     "manual_opt_in_out"),
    ("agent", {"type": "api_opt_out", "phone": ANA, "gateway": "acme-main"}, 403,
     "api_opt_in_out"),
    ("agent", {"type": "global_opt_out_set", "phone": ANA}, 403, "global_opt_out"),
    ("crm", {"type": "import", "phone": ANA, "gateway": "acme-main",
             "import_status": "Subscribe"}, 403, "import"),
    ("sender", {"type": "number_changed", "phone": ANA, "new_phone": "+12025550178"}, 403,
     "api_opt_in_out or manual_opt_in_out"),
    ("everything", {"type": "expire_window", "phone": ANA, "gateway": "acme-main"}, 422,
     "type"),
    ("everything", {"type": "manual_opt_out", "phone": ANA}, 422, "gateway"),
    ("everything", {"type": "import", "phone": ANA, "gateway": "acme-main"}, 422,
     "import_status"),
    ("everything", {"type": "manual_opt_out", "phone": ANA, "gateway": "acme-main",
                    "new_phone": "+12025550178"}, 422, "new_phone"),
    ("everything", {"type": "manual_opt_out", "phone": "555", "gateway": "acme-main"}, 422,
     "phone"),
    ("everything", {"type": "manual_opt_out", "phone": ANA, "gateway": "acme-main",
                    "actor": "someone else"}, 422, "actor"),
])
async def test_a_refused_command_publishes_nothing(
        ingress: IngressUnderTest, actor: str | None, body: Any, status: int,
        reason: str) -> None:
    got, reply = await call(ingress, "POST", "/v1/commands", actor, body)
    assert got == status, reply
    assert reason in reply["error"]
    assert await ingress.committed(Topic.COMMANDS) == []


# --- GET /v1/consent/{phone} ------------------------------------------------------------------

async def test_consent_is_what_the_worker_decided(ingress: IngressUnderTest) -> None:
    async with running_worker(ingress.stack.settings):
        status, before = await call(ingress, "GET", f"/v1/consent/{ANA}", "agent")
        assert (status, before) == (200, {"phone": ANA, "global_opt_out": False,
                                          "global_subscription": None, "subscriptions": []})
        url = ingress.url + "/webhooks/twilio/sms"
        form = {"MessageSid": "SM1", "From": ANA, "To": "+12025550100", "Body": "STOP"}
        async with ingress.http.post(url, data=form, headers={
                "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(
                    url, form)}) as response:
            assert response.status == 200
        assert (await call(ingress, "POST", "/v1/commands", "everything", {
            "type": "import", "phone": ANA, "gateway": "acme-alerts", "keyword": "volunteer",
            "import_status": "Subscribe"}))[0] == 202
        assert (await call(ingress, "POST", "/v1/commands", "everything", {
            "type": "global_opt_out_set", "phone": ANA, "reason": "litigator"}))[0] == 202
        await ingress.stack.read(Topic.COMMAND_RESULTS, 2)

        status, view = await call(ingress, "GET", "/v1/consent/%2B12025550143", "everything")
        assert status == 200
        assert view["global_opt_out"] is True
        assert view["global_subscription"]["status"] == ConsentStatus.OPT_OUT
        scopes = {(s["gateway"], s["keyword"]): s for s in view["subscriptions"]}
        assert set(scopes) == {("acme-main", None), ("acme-alerts", "VOLUNTEER")}
        stop = scopes[("acme-main", None)]
        assert (stop["status"], stop["source"], stop["version"]) == ("Opt-Out", "keyword", 1)
        assert stop["changed_at"].endswith("Z")
        assert scopes[("acme-alerts", "VOLUNTEER")]["source"] == "import"
        # A national spelling is read in the default region.
        status, same = await call(ingress, "GET", "/v1/consent/202-555-0143", "agent")
        assert (status, same) == (200, view)


@pytest.mark.parametrize(("actor", "phone", "status"), [
    (None, ANA, 401), ("crm", ANA, 403), ("sender", ANA, 403), ("agent", "12", 422),
    ("agent", "+999", 422)])
async def test_consent_needs_the_read_permission_and_a_phone(
        ingress: IngressUnderTest, actor: str | None, phone: str, status: int) -> None:
    got, reply = await call(ingress, "GET", f"/v1/consent/{phone}", actor)
    assert got == status, reply
    assert reply["error"]


# --- health, metrics, OpenAPI -----------------------------------------------------------------

async def test_health_readiness_metrics_and_openapi(ingress: IngressUnderTest) -> None:
    assert await call(ingress, "GET", "/healthz", None) == (200, {"ok": True, "problems": []})
    status, ready = await call(ingress, "GET", "/readyz", None)
    assert (status, ready) == (200, {"ok": True, "problems": []})
    await call(ingress, "POST", "/v1/send-requests", None, {})
    async with ingress.http.get(ingress.url + "/metrics") as response:
        text = await response.text()
    assert 'consent_gate_ingress_requests_total{route="/v1/send-requests",status="401"} 1.0' \
        in text
    status, document = await call(ingress, "GET", "/openapi.json", None)
    assert status == 200
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) >= {"/webhooks/twilio/sms", "/webhooks/inbound",
                                      "/v1/send-requests", "/v1/commands",
                                      "/v1/consent/{phone}"}


async def test_readiness_says_why_when_redis_is_gone(tmp_path: Path) -> None:
    async with ingress_under_test(tmp_path, redis_url="redis://127.0.0.1:1/0",
                                  redis_timeout_s=0.5) as ingress:
        status, ready = await call(ingress, "GET", "/readyz", None)
        assert status == 503
        assert ready["problems"][0].startswith("redis")
        status, reply = await call(ingress, "GET", f"/v1/consent/{ANA}", "agent")
        assert status == 503
        assert "store" in reply["error"]
