"""Drives the real ingress service (aiohttp on loopback, port 0) against private topics and a
private Redis prefix; reads what it published back with a read_committed consumer."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiokafka import AIOKafkaConsumer, TopicPartition

from processor import codec
from processor.ingress.service import RunningIngress, start_ingress
from processor.ingress.tokens import Permission, hash_token
from processor.topics import Topic
from tests.support.harness import Stack, private_stack
from tests.support.stack import KAFKA_BOOTSTRAP

TWILIO_TOKEN = "twilio-auth-token-" + "x" * 14
HMAC_SECRET = "shared-secret-of-the-generic-webhook"

GATEWAYS: dict[str, Any] = {
    "defaults": {"default_region": "US", "brand": "Acme"},
    "gateways": {
        "acme-main": {"mode": "default", "number": "+12025550100"},
        "acme-alerts": {"mode": "double_opt_in", "number": "22395"},
    },
}

# Actor -> permissions of the tokens every ingress test gets.
TOKEN_GRANTS: Mapping[str, tuple[Permission, ...]] = {
    "everything": tuple(Permission),
    "agent": (Permission.MANUAL_OPT_IN_OUT, Permission.READ_CONSENT),
    "crm": (Permission.API_OPT_IN_OUT,),
    "sender": (Permission.SEND,),
    "nothing": (),
}


def write_tokens(path: Path) -> dict[str, str]:
    """A tokens file with one fresh token per actor of TOKEN_GRANTS; returns actor -> token."""
    tokens = {actor: secrets.token_urlsafe(24) for actor in TOKEN_GRANTS}
    path.write_text(yaml.safe_dump({"tokens": [
        {"actor": actor, "sha256": hash_token(tokens[actor]),
         "permissions": [p.value for p in TOKEN_GRANTS[actor]]}
        for actor in TOKEN_GRANTS]}))
    return tokens


@dataclass
class IngressUnderTest:
    stack: Stack
    running: RunningIngress
    http: aiohttp.ClientSession
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return self.running.url

    def bearer(self, actor: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[actor]}"}

    async def committed(self, topic: Topic) -> list[Any]:
        """Every record on ``topic`` as a read_committed consumer sees it, decoded, with its
        key checked: the key is the record's phone."""
        return [value for _, value in await self.committed_with_keys(topic)]

    async def committed_with_keys(self, topic: Topic) -> list[tuple[bytes, Any]]:
        name = self.stack.settings.topics(topic)
        consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP,
                                    isolation_level="read_committed", enable_auto_commit=False)
        await consumer.start()
        try:
            # Every keyed topic has the configured partition count (create_topics).
            partitions = [TopicPartition(name, p)
                          for p in range(self.stack.settings.partitions)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records: list[tuple[bytes, Any]] = []
            for tp in partitions:
                while await consumer.position(tp) < ends[tp]:
                    batch = await consumer.getmany(tp, timeout_ms=1000)
                    for record in batch.get(tp, []):
                        records.append((record.key,
                                        codec.RECORD_FOR_TOPIC[topic].decode(record.value)))
            return records
        finally:
            await consumer.stop()


@asynccontextmanager
async def ingress_under_test(tmp: Path, **overrides: Any) -> AsyncIterator[IngressUnderTest]:
    tokens_file = tmp / "tokens.yaml"
    tokens = write_tokens(tokens_file)
    values: dict[str, Any] = {
        "ingress_port": 0, "ingress_tokens_file": tokens_file,
        "twilio_auth_token": TWILIO_TOKEN, "ingress_hmac_secret": HMAC_SECRET}
    values.update(overrides)
    async with private_stack(tmp, GATEWAYS, **values) as stack:
        running = await start_ingress(stack.settings)
        http = aiohttp.ClientSession()
        try:
            yield IngressUnderTest(stack, running, http, tokens)
        finally:
            await http.close()
            await running.stop()


def key_of(phone: str) -> bytes:
    return codec.encode_key(phone)
