"""The JSON replies of the HTTP API (one definition each: encoder and OpenAPI schema)."""

from __future__ import annotations

import msgspec


class ErrorReply(msgspec.Struct):
    """Why a request was refused; nothing was published."""

    error: str


class SendAccepted(msgspec.Struct):
    """The request is on sms.send-requests; its result will be on sms.send-results."""

    request_id: str


class CommandAccepted(msgspec.Struct):
    """The command is on sms.commands; its result will be on sms.command-results."""

    command_id: str


class InboundAccepted(msgspec.Struct):
    """The message is on sms.inbound."""

    message_id: str
    gateway: str


class Health(msgspec.Struct):
    ok: bool
    problems: list[str] = msgspec.field(default_factory=list)
