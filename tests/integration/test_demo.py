"""``make demo`` plays its conversation through the ingress: texts as Twilio-signed webhooks,
sends and commands through the API, and ends with each phone's consent from the API."""

from __future__ import annotations

import pytest

from processor.demo import demo

pytestmark = pytest.mark.integration


async def test_the_demo_goes_through_the_doors(capsys: pytest.CaptureFixture[str]) -> None:
    assert await demo() == 0
    out = capsys.readouterr().out
    assert out.count("POST /webhooks/twilio/sms (Twilio-signed) -> 200") == 8
    assert out.count("POST /v1/send-requests as marketing-app -> 202") == 5
    # The agent's opt-in reaches the worker, which refuses it: only Ana can opt back in.
    assert "POST /v1/commands as jo@acme.example -> 202" in out
    assert "command  manual_opt_in rejected" in out
    consent = out.split("Consent as the API answers it")[1]
    assert "+12025550143  acme-main               Opt-In          keyword" in consent
    assert "+12025550116  acme-alerts             Opt-In Pending  expiry" in consent
