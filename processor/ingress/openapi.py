"""The OpenAPI 3.1 document of the ingress, served at ``/openapi.json``.

Request and reply schemas are generated from the msgspec definitions the handlers decode and
encode with (:mod:`processor.ingress.bodies`, :mod:`processor.ingress.responses`,
:mod:`processor.ingress.consent_view`), so the document cannot drift from the code.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

from processor.ingress.bodies import CommandBody, InboundBody, SendRequestBody
from processor.ingress.consent_view import ConsentView
from processor.ingress.responses import (
    CommandAccepted,
    ErrorReply,
    Health,
    InboundAccepted,
    SendAccepted,
)
from processor.ingress.signatures import BODY_SIGNATURE_HEADER, TWILIO_SIGNATURE_HEADER
from processor.ingress.tokens import Permission

_REF = "#/components/schemas/{name}"
_MODELS: tuple[type[msgspec.Struct], ...] = (
    SendRequestBody, CommandBody, InboundBody, ConsentView, ErrorReply, SendAccepted,
    CommandAccepted, InboundAccepted, Health)


def _ref(model: type[msgspec.Struct]) -> dict[str, str]:
    return {"$ref": _REF.format(name=model.__name__)}


def _json_content(model: type[msgspec.Struct]) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(model)}}


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "Not a JSON document / a form without the required fields",
        401: "No valid bearer token",
        403: "Bad or missing signature, or the token lacks the permission",
        413: "Body too large",
        422: "The body's fields are invalid (the reason names the field)",
        503: "Not configured, or the broker/store did not answer; nothing published, try again",
    }
    return {str(s): {"description": reasons[s], "content": _json_content(ErrorReply)}
            for s in statuses}


_TWILIO_FORM = {
    "type": "object",
    "required": ["MessageSid", "From", "To"],
    "properties": {
        "MessageSid": {"type": "string"}, "AccountSid": {"type": "string"},
        "From": {"type": "string"}, "To": {"type": "string"}, "Body": {"type": "string"},
        "NumMedia": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "additionalProperties": {"type": "string"},
}


@cache
def openapi_document() -> bytes:
    _, components = msgspec.json.schema_components(_MODELS, ref_template=_REF)
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    permissions = ", ".join(p.value for p in Permission)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "consent-gate ingress",
            "version": "1",
            "description": (
                "Carrier webhooks into sms.inbound, send requests into sms.send-requests, "
                "consent commands into sms.commands, and each phone's consent as the worker "
                "keeps it. A 2xx answer means the broker acknowledged the record; a refused "
                f"request publishes nothing. Token permissions: {permissions}."),
        },
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "twilio": {"type": "apiKey", "in": "header", "name": TWILIO_SIGNATURE_HEADER,
                           "description": "Twilio's signature with the account auth token"},
                "hmac": {"type": "apiKey", "in": "header", "name": BODY_SIGNATURE_HEADER,
                         "description": "sha256=<hex HMAC-SHA256 of the body, shared secret>"},
            },
        },
        "paths": {
            "/webhooks/twilio/sms": {"post": {
                "summary": "Twilio inbound-message webhook",
                "security": [{"twilio": []}],
                "requestBody": {"required": True, "content": {
                    "application/x-www-form-urlencoded": {"schema": _TWILIO_FORM}}},
                "responses": {
                    "200": {"description": "Published; empty TwiML",
                            "content": {"text/xml": {"schema": {"type": "string"}}}},
                    **_errors(400, 403, 413, 422, 503)},
            }},
            "/webhooks/inbound": {"post": {
                "summary": "Generic inbound-message webhook (other carriers, aggregators)",
                "security": [{"hmac": []}],
                "requestBody": {"required": True, "content": _json_content(InboundBody)},
                "responses": {
                    "202": {"description": "Published to sms.inbound",
                            "content": _json_content(InboundAccepted)},
                    **_errors(400, 403, 413, 422, 503)},
            }},
            "/v1/send-requests": {"post": {
                "summary": "Ask to text a phone (permission: send)",
                "security": bearer,
                "requestBody": {"required": True, "content": _json_content(SendRequestBody)},
                "responses": {
                    "202": {"description": "Published to sms.send-requests",
                            "content": _json_content(SendAccepted)},
                    **_errors(400, 401, 403, 413, 422, 503)},
            }},
            "/v1/commands": {"post": {
                "summary": "A consent command (the permission depends on the type)",
                "security": bearer,
                "requestBody": {"required": True, "content": _json_content(CommandBody)},
                "responses": {
                    "202": {"description": "Published to sms.commands",
                            "content": _json_content(CommandAccepted)},
                    **_errors(400, 401, 403, 413, 422, 503)},
            }},
            "/v1/consent/{phone}": {"get": {
                "summary": "Every subscription of a phone, and its global opt-out "
                           "(permission: read_consent)",
                "security": bearer,
                "parameters": [{"name": "phone", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1}}],
                "responses": {
                    "200": {"description": "The phone's consent",
                            "content": _json_content(ConsentView)},
                    **_errors(401, 403, 422, 503)},
            }},
            "/healthz": {"get": {"summary": "Alive", "responses": {
                "200": {"description": "Alive", "content": _json_content(Health)}}}},
            "/readyz": {"get": {"summary": "Broker and store reachable", "responses": {
                "200": {"description": "Ready", "content": _json_content(Health)},
                "503": {"description": "Not ready", "content": _json_content(Health)}}}},
        },
    }
    return msgspec.json.encode(document)
