"""``make demo`` plays its conversation through the ingress: texts as Twilio-signed webhooks,
sends and commands through the API, and ends with each phone's consent from the API.

It runs as ``python -m processor demo`` in a child process, as ``make demo`` runs it (the demo
configures logging for its own process)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from tests.stack import KAFKA_BOOTSTRAP, REDIS_URL, ROOT

pytestmark = pytest.mark.integration


async def test_the_demo_goes_through_the_doors() -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP, "REDIS_URL": REDIS_URL}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "processor", "demo", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(child.communicate(), 180)
    assert child.returncode == 0, stderr.decode()[-3000:]
    out = stdout.decode()
    assert out.count("POST /webhooks/twilio/sms (Twilio-signed) -> 200") == 8
    assert out.count("POST /v1/send-requests as marketing-app -> 202") == 5
    # The agent's opt-in reaches the worker, which refuses it: only Ana can opt back in.
    assert "POST /v1/commands as jo@acme.example -> 202" in out
    assert "command  manual_opt_in rejected" in out
    consent = out.split("Consent as the API answers it")[1]
    assert "+12025550143  acme-main               Opt-In          keyword" in consent
    assert "+12025550116  acme-alerts             Opt-In Pending  expiry" in consent
