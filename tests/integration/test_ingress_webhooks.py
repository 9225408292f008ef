"""The carrier webhooks against the real broker: Twilio's form webhook (signed by Twilio's own
RequestValidator) and the generic HMAC-signed JSON webhook. A refused request publishes nothing,
checked by reading sms.inbound with a read_committed consumer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from processor.domain.models.inputs import InboundMessage
from processor.ingress.signatures import BODY_SIGNATURE_HEADER, body_signature
from processor.ingress.tokens import Permission
from processor.topics import Topic
from tests.support.ingress_harness import (
    HMAC_SECRET,
    TWILIO_TOKEN,
    IngressUnderTest,
    ingress_under_test,
)

pytestmark = pytest.mark.integration

TWILIO_PATH = "/webhooks/twilio/sms"
ANA = "+12025550143"


@pytest.fixture
async def ingress(tmp_path: Path) -> AsyncIterator[IngressUnderTest]:
    async with ingress_under_test(tmp_path) as under_test:
        yield under_test


def twilio_form(body: str = "STOP", **extra: str) -> dict[str, str]:
    form = {"MessageSid": "SM" + "a1" * 16, "AccountSid": "AC" + "b2" * 16, "From": ANA,
            "To": "+12025550100", "Body": body, "NumMedia": "0", "FromCountry": "US"}
    form.update(extra)
    return form


async def post_twilio(ingress: IngressUnderTest, form: dict[str, str], *,
                      token: str = TWILIO_TOKEN, signed_url: str | None = None,
                      signature: str | None = None, path: str = TWILIO_PATH) -> tuple[int, str]:
    url = ingress.url + path
    if signature is None:
        signature = RequestValidator(token).compute_signature(signed_url or url, form)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    async with ingress.http.post(url, data=form, headers=headers) as response:
        return response.status, await response.text()


async def test_a_signed_twilio_webhook_is_published_before_the_empty_twiml(
        ingress: IngressUnderTest) -> None:
    status, text = await post_twilio(ingress, twilio_form("STOP please", NumMedia="2"))
    assert status == 200, text
    assert text.endswith("<Response/>")
    # The answer came after the broker's acknowledgement: the record is there already.
    [(key, message)] = await ingress.committed_with_keys(Topic.INBOUND)
    assert key == ANA.encode()
    assert isinstance(message, InboundMessage)
    assert (message.message_id, message.phone, message.to, message.gateway, message.body,
            message.provider, message.media_count) == (
        "SM" + "a1" * 16, ANA, "+12025550100", "acme-main", "STOP please", "twilio", 2)


async def test_the_to_number_picks_the_gateway(ingress: IngressUnderTest) -> None:
    assert (await post_twilio(ingress, twilio_form(To="22395", MessageSid="SM1")))[0] == 200
    # National spelling of a configured number, and a number nobody configured.
    assert (await post_twilio(ingress, twilio_form(To="(202) 555-0100",
                                                   MessageSid="SM2")))[0] == 200
    assert (await post_twilio(ingress, twilio_form(To="+12025550999", MessageSid="SM3")))[0] \
        == 200
    gateways = {m.message_id: m.gateway for m in await ingress.committed(Topic.INBOUND)}
    # An unconfigured number still gets a gateway (the defaults): a STOP is never refused.
    assert gateways == {"SM1": "acme-alerts", "SM2": "acme-main", "SM3": "12025550999"}


@pytest.mark.parametrize("case", ["wrong token", "no signature", "tampered body",
                                  "other url", "garbage"])
async def test_a_bad_twilio_signature_is_refused_and_nothing_published(
        ingress: IngressUnderTest, case: str) -> None:
    form = twilio_form()
    url = ingress.url + TWILIO_PATH
    kwargs: dict[str, str] = {
        "wrong token": {"token": "another-auth-token"},
        "no signature": {"signature": ""},
        "tampered body": {"signature": RequestValidator(TWILIO_TOKEN).compute_signature(
            url, {**form, "Body": "hello"})},
        "other url": {"signed_url": url + "?x=1"},
        "garbage": {"signature": "bm90IGEgc2lnbmF0dXJl"},
    }[case]
    status, text = await post_twilio(ingress, form, **kwargs)  # type: ignore[arg-type]
    assert status == 403, text
    assert "X-Twilio-Signature" in json.loads(text)["error"]
    assert await ingress.committed(Topic.INBOUND) == []


async def test_twilio_signatures_with_and_without_the_default_port_and_public_url(
        tmp_path: Path) -> None:
    public = "https://sms.example.com/base"
    async with ingress_under_test(tmp_path, ingress_public_url=public) as ingress:
        form = twilio_form()
        # Twilio signed the public URL (a proxy in front of us terminated TLS and stripped
        # the /base prefix).
        status, _ = await post_twilio(ingress, form, signed_url=public + TWILIO_PATH)
        assert status == 200
        status, _ = await post_twilio(ingress, {**form, "MessageSid": "SM9"},
                                      signed_url="https://sms.example.com:443/base" + TWILIO_PATH)
        assert status == 200
        # The URL as we received it is not what Twilio signed here.
        status, _ = await post_twilio(ingress, {**form, "MessageSid": "SM10"})
        assert status == 403
        assert {m.message_id for m in await ingress.committed(Topic.INBOUND)} == {
            form["MessageSid"], "SM9"}


async def test_twilio_sha256_shared_key_signatures(ingress: IngressUnderTest) -> None:
    form = twilio_form()
    url = ingress.url + TWILIO_PATH
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form, "HMAC_SHA256")
    headers = {"X-Twilio-Signature": signature,
               "X-Twilio-Webhooks-Signature-Settings": "key=wk_1,algorithm=HMAC_SHA256"}
    async with ingress.http.post(url, data=form, headers=headers) as response:
        assert response.status == 200
    # The same signature claimed as SHA-1 (no settings header) does not pass.
    async with ingress.http.post(url, data=form,
                                 headers={"X-Twilio-Signature": signature}) as response:
        assert response.status == 403
    assert len(await ingress.committed(Topic.INBOUND)) == 1


@pytest.mark.parametrize(("change", "status", "reason"), [
    ({"From": ""}, 400, "From"),
    ({"MessageSid": ""}, 400, "MessageSid"),
    ({"From": "+1202555"}, 422, "from"),
    ({"NumMedia": "many"}, 422, "NumMedia"),
])
async def test_a_malformed_twilio_form_is_a_clear_4xx_and_nothing_published(
        ingress: IngressUnderTest, change: dict[str, str], status: int, reason: str) -> None:
    form = {k: v for k, v in {**twilio_form(), **change}.items() if v}
    got, text = await post_twilio(ingress, form)
    assert got == status, text
    assert reason in json.loads(text)["error"]
    assert await ingress.committed(Topic.INBOUND) == []


async def test_the_twilio_webhook_without_an_auth_token_is_not_open(tmp_path: Path) -> None:
    async with ingress_under_test(tmp_path, twilio_auth_token="") as ingress:
        status, text = await post_twilio(ingress, twilio_form(), token="")
        assert status == 503
        assert "CG_TWILIO_AUTH_TOKEN" in text
        assert await ingress.committed(Topic.INBOUND) == []


# --- the generic JSON webhook -----------------------------------------------------------------

async def post_signed(ingress: IngressUnderTest, body: bytes,
                      signature: str | None = "good") -> tuple[int, dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if signature == "good":
        headers[BODY_SIGNATURE_HEADER] = body_signature(HMAC_SECRET, body)
    elif signature:
        headers[BODY_SIGNATURE_HEADER] = signature
    async with ingress.http.post(ingress.url + "/webhooks/inbound", data=body,
                                 headers=headers) as response:
        return response.status, await response.json()


async def test_a_signed_generic_webhook_is_published(ingress: IngressUnderTest) -> None:
    body = json.dumps({"message_id": "agg-1", "from": "202-555-0143", "to": "22395",
                       "body": "YES", "received_at": "2026-11-25T09:30:00-05:00",
                       "carrier": "Verizon", "provider": "aggregator-x"}).encode()
    status, reply = await post_signed(ingress, body)
    assert (status, reply) == (202, {"message_id": "agg-1", "gateway": "acme-alerts"})
    [(key, message)] = await ingress.committed_with_keys(Topic.INBOUND)
    assert key == ANA.encode()  # the national spelling was read in the gateway's region
    assert (message.phone, message.gateway, message.body, message.carrier,
            message.received_at) == (ANA, "acme-alerts", "YES", "Verizon", 1795617000000)


@pytest.mark.parametrize(("body", "signature", "status", "reason"), [
    (b'{"message_id": "m", "from": "+12025550143", "to": "1", "body": "x"}', None, 403,
     BODY_SIGNATURE_HEADER),
    (b'{"message_id": "m", "from": "+12025550143", "to": "1", "body": "x"}',
     "sha256=" + "0" * 64, 403, BODY_SIGNATURE_HEADER),
    (b'{"message_id": "m", "from": ', "good", 400, "JSON"),
    (b'["not", "an", "object"]', "good", 422, "object"),
    (b'{"message_id": "m", "from": 12025550143, "to": "1", "body": "x"}', "good", 422,
     "$.from"),
    (b'{"message_id": "m", "from": "+12025550143", "to": "1", "body": "x", "mood": 1}',
     "good", 422, "mood"),
    (b'{"message_id": "m", "from": "+1", "to": "22395", "body": "x"}', "good", 422, "from"),
    (b'{"message_id": "m", "from": "+12025550143", "to": "22395", "body": "x",'
     b' "received_at": "yesterday"}', "good", 422, "received_at"),
])
async def test_a_bad_generic_webhook_is_a_clear_4xx_and_nothing_published(
        ingress: IngressUnderTest, body: bytes, signature: str | None, status: int,
        reason: str) -> None:
    got, reply = await post_signed(ingress, body, signature)
    assert got == status, reply
    assert reason in reply["error"]
    assert await ingress.committed(Topic.INBOUND) == []


async def test_a_body_over_the_limit_is_413(tmp_path: Path) -> None:
    async with ingress_under_test(tmp_path, ingress_max_body_bytes=1024) as ingress:
        body = json.dumps({"message_id": "m", "from": ANA, "to": "22395",
                           "body": "x" * 2000}).encode()
        status, _ = await post_signed(ingress, body)
        assert status == 413
        assert await ingress.committed(Topic.INBOUND) == []


def test_every_permission_has_a_token_in_the_harness() -> None:
    from tests.support.ingress_harness import TOKEN_GRANTS

    assert set(TOKEN_GRANTS["everything"]) == set(Permission)
