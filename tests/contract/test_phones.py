"""The North American fast path of phone validation gives phonenumbers' own answers."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.codec import phones
from processor.codec.phones import generic_normalised, normalise_phone


def _fast(raw: str) -> str | None:
    # The cached function itself, so every call here really runs the fast path.
    return phones._normalised.__wrapped__(raw, None)  # type: ignore[attr-defined]


def _sample() -> list[str]:
    """Every area code 200-999 with 12 random exchanges and line numbers each (9,600
    numbers): every NANP region, both the valid and the invalid parts of each."""
    rng = random.Random(20261125)
    return [f"+1{npa}{rng.randrange(1000):03d}{rng.randrange(10000):04d}"
            for npa in range(200, 1000) for _ in range(12)]


def test_every_area_code_agrees_with_phonenumbers() -> None:
    sample = _sample()
    mismatches = [(raw, _fast(raw), generic_normalised(raw, None)) for raw in sample
                  if _fast(raw) != generic_normalised(raw, None)]
    assert mismatches == []
    valid = sum(1 for raw in sample if _fast(raw) is not None)
    # Both answers occur often, so a fast path that always says yes (or no) fails above.
    assert 0.2 * len(sample) < valid < 0.8 * len(sample)


@pytest.mark.parametrize("raw", [
    "+12025550123",  # US
    "+16135550123",  # Canada: chosen by its leading digits
    "+18765550123",  # Jamaica
    "+17875550123",  # Puerto Rico
    "+18005550123",  # toll free
    "+19005550123",  # premium rate
    "+15555550123",  # not in the plan
    "+12125550123",
])
def test_regions_chosen_by_leading_digits_or_types(raw: str) -> None:
    assert _fast(raw) == generic_normalised(raw, None)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\+1[0-9]{8,12}", fullmatch=True))
def test_any_plus_one_spelling_agrees(raw: str) -> None:
    # Includes national numbers starting with 0 or 1 and wrong lengths: the generic path.
    assert _fast(raw) == generic_normalised(raw, None)


def test_the_fast_path_does_not_call_phonenumbers(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("phonenumbers.parse called on the fast path")
    monkeypatch.setattr(phonenumbers, "parse", refuse)
    assert _fast("+12025550123") == "+12025550123"
    assert _fast("+15555550123") is None
    with pytest.raises(AssertionError):
        _fast("+1 202 555 0123")  # another spelling: the generic path


def test_other_spellings_still_normalise() -> None:
    assert normalise_phone("+1 (202) 555-0123", None) == "+12025550123"
    assert normalise_phone("202-555-0123", "US") == "+12025550123"
    assert normalise_phone("+12025550123\n", None) is None
    assert normalise_phone("+447400123456", "US") == "+447400123456"
