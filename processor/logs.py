"""structlog set-up: JSON lines in production, readable lines in a terminal.

What we log at info never holds a full phone number or a message body (see ``mask_phone``),
and no line, ours or a library's, holds a secret of the settings (see ``Settings.redact``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from processor.settings import Settings


def mask_phone(phone: str) -> str:
    """``+15551234567`` -> ``+1555***4567``: enough to correlate, not enough to dial."""
    return phone if len(phone) < 8 else f"{phone[:5]}***{phone[-4:]}"


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    as_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _RedactValues(settings),
            _RedactRendered(settings, renderer),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # aiokafka and faust log through the standard library; keep their chatter at warning.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(settings,
                                            "%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


class _RedactValues:
    """Redacts secrets in the event's string values before they are rendered (so a secret
    is found before JSON escapes it)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def __call__(self, logger: Any, method: str,
                 event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if self._settings.secrets():
            for key, value in event.items():
                if isinstance(value, str):
                    event[key] = self._settings.redact(value)
        return event


class _RedactRendered:
    """Renders, then redacts the line (secrets inside values that were not strings)."""

    def __init__(self, settings: Settings, renderer: structlog.typing.Processor) -> None:
        self._settings = settings
        self._renderer = renderer

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
        line = self._renderer(logger, method, event)
        assert isinstance(line, str)
        return self._settings.redact(line)


class RedactingFormatter(logging.Formatter):
    """The standard library's lines (aiokafka, faust, redis), secrets redacted."""

    def __init__(self, settings: Settings, fmt: str) -> None:
        super().__init__(fmt)
        self._settings = settings

    def format(self, record: logging.LogRecord) -> str:
        return self._settings.redact(super().format(record))
