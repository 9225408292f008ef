"""structlog set-up: JSON lines in production, readable lines in a terminal.

What we log at info never holds a full phone number or a message body (see ``mask_phone``).
"""

from __future__ import annotations

import logging
import sys

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
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # aiokafka and faust log through the standard library; keep their chatter at warning.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
