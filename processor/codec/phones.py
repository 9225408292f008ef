"""Phone numbers: input spellings normalised to E.164 with the real numbering plan.

The schemas can check a phone's shape (patterns below, shared with schemas/common.schema.json)
but not whether the number exists in its country's numbering plan; ``phonenumbers`` decides that
here, once per distinct (spelling, region).

Most phones on the wire are already North American E.164 (``+1`` and ten digits). For those,
``phonenumbers``' generic path (parse, find the region, match every number type) costs about
45 µs, a quarter of a batch's time when many phones are new. ``_nanp_valid`` asks the same
question of the same metadata with the patterns compiled once: the region search and the
number-type test of ``phonenumbers.is_valid_number``, nothing else. Every other spelling takes
the generic path, and ``tests/contract/test_phones.py`` holds the two to the same answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

from processor.domain.models.wire import DIALABLE_PATTERN, E164_PATTERN

__all__ = ["DIALABLE", "DIALABLE_PATTERN", "E164", "E164_PATTERN", "generic_normalised",
           "normalise_phone"]

DIALABLE = re.compile(DIALABLE_PATTERN)
E164 = re.compile(E164_PATTERN)

# North American E.164 whose national number cannot start with the national prefix (1), so
# parsing it strips nothing and the national number is the ten digits as written.
_NANP_E164 = re.compile(r"\+1([2-9][0-9]{9})")
_NANP_LENGTH = 10


def normalise_phone(raw: str, region: str | None) -> str | None:
    """The E.164 form of ``raw``, or None when it is not a valid number.

    ``region`` (ISO 3166 alpha-2, e.g. "US") is used only for national spellings; without one,
    only international spellings (leading +) can be valid.
    """
    # The region cannot change how an international spelling parses: share one cache entry.
    return _normalised(raw, None if raw.startswith("+") else region)


@lru_cache(maxsize=65536)
def _normalised(raw: str, region: str | None) -> str | None:
    nanp = _NANP_E164.fullmatch(raw)
    if nanp is not None:
        return raw if _nanp_valid(nanp.group(1)) else None
    return generic_normalised(raw, region)


def generic_normalised(raw: str, region: str | None) -> str | None:
    """``phonenumbers``' own answer for any spelling (no cache, no fast path)."""
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


@dataclass(frozen=True, slots=True)
class _Region:
    """One region of country code 1, as ``phonenumbers`` tests a ten-digit number for it."""

    leading_digits: re.Pattern[str] | None  # set: the region is chosen by these alone
    general: re.Pattern[str] | None  # the region's general description
    typed: re.Pattern[str] | None  # any number type (fixed line, mobile, toll free, ...)

    def has_type(self, national: str) -> bool:
        """``_number_type_helper(national, metadata) != UNKNOWN``."""
        return (self.general is not None and self.typed is not None
                and self.general.fullmatch(national) is not None
                and self.typed.fullmatch(national) is not None)


def _desc_pattern(descs: list[object]) -> re.Pattern[str] | None:
    """One pattern matching what any of ``descs`` matches at the NANP length; a description
    without a pattern, or whose possible lengths exclude ten digits, matches nothing."""
    patterns = []
    for desc in descs:
        if desc is None:
            continue
        pattern = getattr(desc, "national_number_pattern", None)
        lengths = getattr(desc, "possible_length", ())
        if not pattern or (len(lengths) > 0 and _NANP_LENGTH not in lengths):
            continue
        patterns.append(f"(?:{pattern})")
    return re.compile("|".join(patterns)) if patterns else None


def _nanp_regions() -> tuple[_Region, ...]:
    regions = []
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
        md = PhoneMetadata.metadata_for_region(code, None)
        if md is None:
            continue
        regions.append(_Region(
            leading_digits=re.compile(md.leading_digits) if md.leading_digits else None,
            general=_desc_pattern([md.general_desc]),
            typed=_desc_pattern([md.premium_rate, md.toll_free, md.shared_cost, md.voip,
                                 md.personal_number, md.pager, md.uan, md.voicemail,
                                 md.fixed_line, md.mobile]),
        ))
    return tuple(regions)


_NANP_REGIONS = _nanp_regions()


def _nanp_valid(national: str) -> bool:
    """``is_valid_number`` for ``+1`` and ``national`` (ten digits, not starting with 0 or 1):
    the first region whose leading digits match, or else whose types match, decides."""
    for region in _NANP_REGIONS:
        if region.leading_digits is not None:
            if region.leading_digits.match(national):
                return region.has_type(national)
        elif region.has_type(national):
            return True
    return False
