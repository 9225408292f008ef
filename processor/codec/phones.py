"""Phone numbers: input spellings normalised to E.164 with the real numbering plan.

The schemas can check a phone's shape (patterns below, shared with schemas/common.schema.json)
but not whether the number exists in its country's numbering plan; ``phonenumbers`` decides that
here, once per distinct (spelling, region).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# What an input phone may look like: digits with the usual punctuation, at most one leading +.
DIALABLE_PATTERN = r"^\+?[0-9 ().-]{2,31}$"
# The one spelling of a phone on output records (ITU-T E.164: at most 15 digits).
E164_PATTERN = r"^\+[1-9][0-9]{5,14}$"
DIALABLE = re.compile(DIALABLE_PATTERN)
E164 = re.compile(E164_PATTERN)


def normalise_phone(raw: str, region: str | None) -> str | None:
    """The E.164 form of ``raw``, or None when it is not a valid number.

    ``region`` (ISO 3166 alpha-2, e.g. "US") is used only for national spellings; without one,
    only international spellings (leading +) can be valid.
    """
    # The region cannot change how an international spelling parses: share one cache entry.
    return _normalised(raw, None if raw.startswith("+") else region)


@lru_cache(maxsize=65536)
def _normalised(raw: str, region: str | None) -> str | None:
    if DIALABLE.fullmatch(raw) is None:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 if E164.fullmatch(e164) else None
