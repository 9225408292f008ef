"""RFC 3339 wire times <-> integer milliseconds since the epoch (UTC).

Inputs may use any offset and up to nine fraction digits (digits past the millisecond are cut,
i.e. rounded toward the past). Outputs are always UTC with exactly three fraction digits and
``Z``, so one instant has one spelling. The patterns are the ones in schemas/common.schema.json
(the contract tests compare them).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from processor.codec.errors import DecodeError, ErrorType, show
from processor.domain.models.wire import INPUT_TIME_PATTERN, OUTPUT_TIME_PATTERN

__all__ = ["INPUT_TIME", "INPUT_TIME_PATTERN", "OUTPUT_TIME", "OUTPUT_TIME_PATTERN", "format_time",
           "parse_time"]

INPUT_TIME = re.compile(INPUT_TIME_PATTERN)
OUTPUT_TIME = re.compile(OUTPUT_TIME_PATTERN)

_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_MS_PER_MINUTE = 60_000


@lru_cache(maxsize=4096)
def _minute_ms(minute: str) -> int | None:
    """Milliseconds at ``YYYY-MM-DDTHH:MM`` (local time, no offset applied); None when the day
    does not exist (02-30). Cached: a stream's records share their minutes."""
    try:
        day = date(int(minute[0:4]), int(minute[5:7]), int(minute[8:10])).toordinal()
    except ValueError:
        return None
    return ((day - _EPOCH_ORDINAL) * 1440 + int(minute[11:13]) * 60 + int(minute[14:16])) \
        * _MS_PER_MINUTE


def parse_time(text: str, path: str, shape: re.Pattern[str]) -> int:
    """Milliseconds since the epoch for an RFC 3339 time that matches ``shape``."""
    if shape.fullmatch(text) is None:
        wanted = ("an RFC 3339 time with offset" if shape is INPUT_TIME
                  else "a UTC time like 2026-11-24T22:48:01.403Z")
        raise DecodeError(ErrorType.INVALID_TIME, path, f"not {wanted} ({show(text)})")
    minute = _minute_ms(text[0:16])
    if minute is None:
        raise DecodeError(ErrorType.INVALID_TIME, path, f"no such day ({show(text)})")
    ms = minute + int(text[17:19]) * 1000
    tail = text[19:]  # optional ".fraction", then "Z" or "+hh:mm"
    offset_length = 1 if tail[-1] in "Zz" else 6
    fraction = tail[1 : len(tail) - offset_length]
    if fraction:
        ms += int(fraction[:3].ljust(3, "0"))
    if offset_length == 6:  # local time = UTC + offset
        offset = (int(tail[-5:-3]) * 60 + int(tail[-2:])) * _MS_PER_MINUTE
        ms += -offset if tail[-6] == "+" else offset
    return ms


@lru_cache(maxsize=4096)
def _second_text(seconds: int) -> str:
    moment = _EPOCH + timedelta(seconds=seconds)
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")


@lru_cache(maxsize=1024)
def format_time(ms: int) -> str:
    """The wire spelling of an instant: UTC, millisecond precision, ``Z``. Cached: every output
    of a batch carries the batch's decision time."""
    seconds, millis = divmod(ms, 1000)
    return f"{_second_text(seconds)}.{millis:03d}Z"
