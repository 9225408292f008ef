"""``make demo`` plays its conversation through the ingress: texts as Twilio-signed webhooks,
sends and commands through the API, a campaign text held for the night and released by the
timer on the injected clock, a fourth one refused by the frequency cap; it ends with each
phone's consent from the API and the evidence of Ana's STOP.

It runs as ``python deploy/demo/demo.py`` in a child process, as ``make demo`` runs it (the
demo configures logging for its own process)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from tests.support.stack import KAFKA_BOOTSTRAP, REDIS_URL, ROOT

pytestmark = pytest.mark.integration


async def test_the_demo_goes_through_the_doors() -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP, "REDIS_URL": REDIS_URL}
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "deploy" / "demo" / "demo.py"), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(child.communicate(), 180)
    assert child.returncode == 0, stderr.decode()[-3000:]
    out = stdout.decode()
    assert out.count("POST /webhooks/twilio/sms (Twilio-signed) -> 200") == 8
    assert out.count("POST /v1/send-requests as marketing-app -> 202") == 9
    # The agent's opt-in reaches the worker, which refuses it: only Ana can opt back in.
    assert "POST /v1/commands as jo@acme.example -> 202" in out
    assert "command  manual_opt_in rejected" in out
    consent = out.split("Consent as the API answers it")[1]
    assert "+12025550143  acme-main               Opt-In          keyword" in consent
    assert "+12025550116  acme-alerts             Opt-In Pending  expiry" in consent
    # Quiet hours: the campaign text at 22:30 is held, and released by the timer at 08:00 on
    # the injected clock; the fourth campaign text of the day is refused by the cap.
    night = out.split("held for the night")[1].split("> The night passes")[0]
    assert "result   Held: Quiet hours: 22:30 on " in night
    assert "47 CFR 64.1200(c)(1)" in night
    morning = out.split("> The night passes")[1].split("> A second campaign text")[0]
    assert "the injected clock: " in morning
    assert "08:00 in Washington" in morning
    assert "command  expire_window (the timer's tick) applied" in morning
    assert "outbound message: 'Acme winter sale: 20% off all week. Reply STOP to cancel'" in morning
    assert "result   Forwarded" in morning
    fourth = out.split("> A fourth campaign text")[1].split("Consent events")[0]
    assert "result   Error / Frequency Cap: 3 campaign sends to this phone in the last 24 hours" \
        in fourth
    assert "outbound" not in fourth
    # The evidence of Ana's STOP, as the evidence command prints it.
    evidence = out.split("The evidence of Ana's STOP")[1]
    assert "Consent history of +12025550143 (2 changes" in evidence
    assert "acme-main: No Opt-In -> Opt-Out (keyword), version 1" in evidence
    assert 'text:        "STOP"' in evidence
    assert "sent to:     +12025550100" in evidence
