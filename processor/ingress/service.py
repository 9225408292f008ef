"""The ingress service: aiohttp handlers for the carrier webhooks, send requests, commands and
the consent API (``python -m processor ingress``).

It is stateless and scales apart from the worker: it publishes records with an idempotent
``acks=all`` producer and answers only after the broker acknowledged them, and it reads consent
through the store the worker keeps. A request that is refused (bad signature, missing token or
permission, malformed body) publishes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter, generate_latest
from redis.exceptions import RedisError

from processor import codec
from processor.adapters.redis_store import RedisClient, RedisConsentStore
from processor.domain.gateways.config import Gateways
from processor.domain.models.enums import CommandType
from processor.ingress.bodies import (
    BodyError,
    CommandBody,
    InboundBody,
    SendRequestBody,
    command_record,
    inbound_record,
    parse_body,
    send_request_record,
    twilio_record,
)
from processor.ingress.consent_view import read_consent
from processor.ingress.numbers import NumberDirectory
from processor.ingress.openapi import openapi_document
from processor.ingress.responses import (
    CommandAccepted,
    ErrorReply,
    Health,
    InboundAccepted,
    SendAccepted,
)
from processor.ingress.signatures import (
    BODY_SIGNATURE_HEADER,
    TWILIO_SETTINGS_HEADER,
    TWILIO_SIGNATURE_HEADER,
    valid_body_signature,
    valid_twilio_signature,
)
from processor.ingress.tokens import Caller, Permission, TokenRegistry, load_tokens
from processor.logs import configure_logging, mask_phone
from processor.ports import Clock, StoreUnavailableError, SystemClock
from processor.settings import Settings, load_gateways
from processor.topics import Topic

log = structlog.get_logger("consent_gate.ingress")

TWIML_EMPTY = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
# Twilio gives up on a webhook after 15 s; an answer must come before that.
PUBLISH_TIMEOUT_MS = 10_000

# What a caller's token must grant for each command type. The worker checks its own rules
# again (the command carries the token's permissions), so this is the door, not the only lock.
COMMAND_PERMISSIONS: Mapping[CommandType, frozenset[Permission]] = {
    CommandType.MANUAL_OPT_IN: frozenset({Permission.MANUAL_OPT_IN_OUT}),
    CommandType.MANUAL_OPT_OUT: frozenset({Permission.MANUAL_OPT_IN_OUT}),
    CommandType.API_OPT_IN: frozenset({Permission.API_OPT_IN_OUT}),
    CommandType.API_OPT_OUT: frozenset({Permission.API_OPT_IN_OUT}),
    CommandType.IMPORT: frozenset({Permission.IMPORT}),
    CommandType.GLOBAL_OPT_OUT_SET: frozenset({Permission.GLOBAL_OPT_OUT}),
    CommandType.GLOBAL_OPT_OUT_CLEAR: frozenset({Permission.GLOBAL_OPT_OUT}),
    CommandType.NUMBER_CHANGED: frozenset({Permission.MANUAL_OPT_IN_OUT,
                                           Permission.API_OPT_IN_OUT}),
}


class RefusedError(Exception):
    """A request answered with a 4xx/5xx and nothing published."""

    def __init__(self, status: int, reason: str, headers: Mapping[str, str] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = dict(headers or {})


def _json(value: msgspec.Struct, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(value), status=status,
                        content_type="application/json")


class IngressMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("consent_gate_ingress_requests",
                                "HTTP requests by route and status", ["route", "status"],
                                registry=self.registry)
        self.published = Counter("consent_gate_ingress_published",
                                 "Records published (broker acknowledged) by topic", ["topic"],
                                 registry=self.registry)
        self.unmapped = Counter("consent_gate_ingress_unmapped_numbers",
                                "Inbound messages to a number no gateway is configured with",
                                [], registry=self.registry)


@dataclass
class Ingress:
    """What the handlers need; built once by :func:`start_ingress`."""

    settings: Settings
    gateways: Gateways
    numbers: NumberDirectory
    tokens: TokenRegistry
    producer: AIOKafkaProducer
    store: RedisConsentStore
    redis: RedisClient
    clock: Clock
    metrics: IngressMetrics

    # --- publishing -----------------------------------------------------------------------

    async def publish(self, topic: Topic, phone: str, value: bytes) -> None:
        """Returns once the broker acknowledged the record (acks=all); RefusedError 503 when it did
        not, so the caller (or the carrier) tries again."""
        try:
            await self.producer.send_and_wait(self.settings.topics(topic), value,
                                              key=codec.encode_key(phone))
        except KafkaError as exc:
            log.warning("publish failed", topic=str(topic), error=repr(exc))
            raise RefusedError(503, "the broker did not acknowledge the record; try again",
                          {"Retry-After": "1"}) from None
        self.metrics.published.labels(str(topic)).inc()

    # --- authentication -------------------------------------------------------------------

    def caller(self, request: web.Request) -> Caller:
        caller = self.tokens.authenticate(request.headers.get("Authorization"))
        if caller is None:
            raise RefusedError(401, "a valid bearer token is required",
                          {"WWW-Authenticate": 'Bearer realm="consent-gate"'})
        return caller

    @staticmethod
    def require(caller: Caller, needed: frozenset[Permission], what: str) -> None:
        if needed.isdisjoint(caller.permissions):
            raise RefusedError(403, f"{what} needs the permission "
                               f"{' or '.join(sorted(p.value for p in needed))}")

    # --- handlers -------------------------------------------------------------------------

    async def twilio_webhook(self, request: web.Request) -> web.Response:
        secret = self.settings.twilio_auth_token
        if not secret:
            raise RefusedError(503, "the Twilio webhook is not configured (CG_TWILIO_AUTH_TOKEN)")
        form = await request.post()
        params = [(name, value) for name, value in form.items() if isinstance(value, str)]
        url = self.signed_url(request)
        if not valid_twilio_signature(secret, url, params,
                                      request.headers.get(TWILIO_SIGNATURE_HEADER),
                                      request.headers.get(TWILIO_SETTINGS_HEADER)):
            raise RefusedError(403, "invalid or missing X-Twilio-Signature")
        values = dict(params)
        gateway = self.gateway_for(values.get("To", ""))
        message = twilio_record(values, gateway=gateway, now_ms=self.clock.now_ms(),
                                regions=self.gateways.regions)
        await self.publish(Topic.INBOUND, message.phone, codec.encode_inbound(message))
        log.info("inbound accepted", via="twilio", gateway=gateway,
                 phone=mask_phone(message.phone))
        return web.Response(body=TWIML_EMPTY, content_type="text/xml")

    async def inbound_webhook(self, request: web.Request) -> web.Response:
        secret = self.settings.ingress_hmac_secret
        if not secret:
            raise RefusedError(503,
                               "the inbound webhook is not configured (CG_INGRESS_HMAC_SECRET)")
        raw = await request.read()
        if not valid_body_signature(secret, raw, request.headers.get(BODY_SIGNATURE_HEADER)):
            raise RefusedError(403, f"invalid or missing {BODY_SIGNATURE_HEADER}")
        body = parse_body(raw, InboundBody)
        gateway = body.gateway or self.gateway_for(body.to)
        message = inbound_record(body, gateway=gateway, now_ms=self.clock.now_ms(),
                                 regions=self.gateways.regions)
        await self.publish(Topic.INBOUND, message.phone, codec.encode_inbound(message))
        return _json(InboundAccepted(message.message_id, message.gateway), 202)

    async def send_request(self, request: web.Request) -> web.Response:
        caller = self.caller(request)
        self.require(caller, frozenset({Permission.SEND}), "sending")
        body = parse_body(await request.read(), SendRequestBody)
        record = send_request_record(body, request_id=f"http-{uuid.uuid4().hex}",
                                     actor=caller.actor, now_ms=self.clock.now_ms(),
                                     regions=self.gateways.regions)
        await self.publish(Topic.SEND_REQUESTS, record.phone, codec.encode_send_request(record))
        return _json(SendAccepted(record.request_id), 202)

    async def command(self, request: web.Request) -> web.Response:
        caller = self.caller(request)
        body = parse_body(await request.read(), CommandBody)
        command_type = CommandType(body.type.value)
        self.require(caller, COMMAND_PERMISSIONS[command_type], f"{command_type.value}")
        record = command_record(body, command_id=f"http-{uuid.uuid4().hex}",
                                actor=caller.actor,
                                permissions=frozenset(p.value for p in caller.permissions),
                                now_ms=self.clock.now_ms(), regions=self.gateways.regions)
        await self.publish(Topic.COMMANDS, record.phone, codec.encode_command(record))
        log.info("command accepted", type=record.type.value, actor=caller.actor,
                 phone=mask_phone(record.phone))
        return _json(CommandAccepted(record.command_id), 202)

    async def consent(self, request: web.Request) -> web.Response:
        caller = self.caller(request)
        self.require(caller, frozenset({Permission.READ_CONSENT}), "reading consent")
        raw = request.match_info["phone"]
        phone = codec.normalise_phone(raw, self.gateways.default.default_region)
        if phone is None:
            raise RefusedError(422, f"phone: {raw[:40]!r} is not a valid phone number")
        try:
            view = await read_consent(self.store, phone)
        except (StoreUnavailableError, RedisError, OSError) as exc:
            log.warning("consent read failed", error=repr(exc))
            raise RefusedError(503, "the consent store is unavailable; try again",
                          {"Retry-After": "1"}) from None
        return _json(view)

    async def openapi(self, request: web.Request) -> web.Response:
        return web.Response(body=openapi_document(), content_type="application/json")

    async def healthz(self, request: web.Request) -> web.Response:
        return _json(Health(ok=True))

    async def readyz(self, request: web.Request) -> web.Response:
        problems = []
        try:
            await asyncio.wait_for(self.redis.ping(), 2)
        except (TimeoutError, RedisError, OSError) as exc:
            problems.append(f"redis: {exc!r}")
        try:
            await asyncio.wait_for(
                self.producer.partitions_for(self.settings.topics(Topic.INBOUND)), 2)
        except (TimeoutError, KafkaError) as exc:
            problems.append(f"kafka: {exc!r}")
        return _json(Health(ok=not problems, problems=problems), 200 if not problems else 503)

    async def metrics_view(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.metrics.registry),
                            headers={"Content-Type": "text/plain; version=0.0.4"})

    # --- helpers --------------------------------------------------------------------------

    def signed_url(self, request: web.Request) -> str:
        """The URL Twilio signed: the configured public base URL with the request's path and
        query (a proxy in front of us changes scheme and host), or the URL as received."""
        base = self.settings.ingress_public_url.rstrip("/")
        return f"{base}{request.path_qs}" if base else str(request.url)

    def gateway_for(self, to: str) -> str:
        gateway, configured = self.numbers.gateway_for(to)
        if not configured:
            self.metrics.unmapped.inc()
            log.warning("number not configured", to=to, gateway=gateway)
        return gateway


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_middleware(ingress: Ingress) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        try:
            response = await handler(request)
        except RefusedError as exc:
            response = web.Response(body=msgspec.json.encode(ErrorReply(exc.reason)),
                                    status=exc.status, headers=exc.headers,
                                    content_type="application/json")
        except BodyError as exc:
            response = _json(ErrorReply(str(exc)), exc.status)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = _json(ErrorReply(exc.reason), exc.status)
        ingress.metrics.requests.labels(route, str(response.status)).inc()
        return response

    return middleware


def build_app(ingress: Ingress) -> web.Application:
    app = web.Application(client_max_size=ingress.settings.ingress_max_body_bytes,
                          middlewares=[error_middleware(ingress)])
    app.add_routes([
        web.post("/webhooks/twilio/sms", ingress.twilio_webhook),
        web.post("/webhooks/inbound", ingress.inbound_webhook),
        web.post("/v1/send-requests", ingress.send_request),
        web.post("/v1/commands", ingress.command),
        web.get("/v1/consent/{phone}", ingress.consent),
        web.get("/openapi.json", ingress.openapi),
        web.get("/healthz", ingress.healthz),
        web.get("/readyz", ingress.readyz),
        web.get("/metrics", ingress.metrics_view),
    ])
    return app


@dataclass
class RunningIngress:
    ingress: Ingress
    runner: web.AppRunner
    url: str

    async def stop(self) -> None:
        """Stops accepting, lets requests in flight finish, then flushes the producer."""
        await self.runner.cleanup()
        await self.ingress.producer.stop()
        await self.ingress.redis.aclose()


async def start_ingress(settings: Settings, clock: Clock | None = None) -> RunningIngress:
    """Starts the service on ``settings.ingress_host:ingress_port`` (port 0: any free port)."""
    from processor.app import connect_redis

    gateways = load_gateways(settings.gateways_file)
    tokens = load_tokens(settings.ingress_tokens_file)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True,
        request_timeout_ms=PUBLISH_TIMEOUT_MS, linger_ms=0)
    await producer.start()
    redis = connect_redis(settings)
    store = RedisConsentStore(redis, settings.redis_prefix,
                              retention_ms=settings.idempotency_retention_s * 1000,
                              cluster=settings.redis_cluster)
    ingress = Ingress(settings, gateways, NumberDirectory.of(gateways), tokens, producer, store,
                      redis, clock or SystemClock(), IngressMetrics())
    runner = web.AppRunner(build_app(ingress), access_log=None, shutdown_timeout=15)
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.ingress_host, settings.ingress_port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        await producer.stop()
        await redis.aclose()
        raise
    host, port = runner.addresses[0][:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    log.info("ingress started", url=url, tokens=len(tokens.entries),
             twilio=bool(settings.twilio_auth_token), hmac=bool(settings.ingress_hmac_secret))
    return RunningIngress(ingress, runner, url)


async def serve_forever(settings: Settings) -> None:
    running = await start_ingress(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    started = time.monotonic()
    with contextlib.suppress(asyncio.CancelledError):
        await running.stop()
    log.info("stopped", seconds=round(time.monotonic() - started, 2))


def run(args: Any) -> int:
    settings = Settings.from_env()
    configure_logging(settings)
    asyncio.run(serve_forever(settings))
    return 0
