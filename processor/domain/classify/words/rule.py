"""The shape of one free-text rule, as the language modules write them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FreeTextRule:
    """One plain-words revocation pattern, matched against a clause in token form.

    ``needs``: groups of words; the rule is only tried on a clause holding a word of every group
    (so chat without them costs a few set lookups, and the classifier's gate is exactly "some
    keyword, or some rule's needs, are present"). The rarest group goes first: it is indexed.
    ``pattern`` may use {PLACEHOLDERS} (see classify.free_text.FRAGMENTS). ``guards`` block a match:
    "negation" (a negation of the rule's language just before it), "subject" (a statement by
    I/we/they, not a request), "declarative" (a pronoun right before "don't ...": "you don't
    text me anymore" is a complaint to a friend), "banter" (laughter in the message).
    ``outcome`` "opt_out" revokes consent; "review" flags the message (intent none).
    """

    name: str
    language: str
    needs: tuple[tuple[str, ...], ...]
    pattern: str
    confidence: float
    outcome: str = "opt_out"
    review: bool = False
    guards: tuple[str, ...] = ()


def first_words(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The first word of each phrase, once."""
    return tuple(dict.fromkeys(phrase.split()[0] for phrase in phrases))


def last_words(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The last word of each phrase, once."""
    return tuple(dict.fromkeys(phrase.split()[-1] for phrase in phrases))

