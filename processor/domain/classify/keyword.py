"""One keyword, the filler words that may surround keywords, and the one spelling of a keyword."""

from __future__ import annotations

from dataclasses import dataclass

from processor.domain.classify.normalise import tokens_of
from processor.domain.classify.words import en, mixed
from processor.domain.models.enums import Intent


@dataclass(frozen=True, slots=True)
class Keyword:
    intent: Intent
    canonical: str
    language: str | None
    campaign: bool = False
    everyday: bool = False  # an everyday word too: no typo tolerance, no clause/leading rules


# Filler kinds, as bit flags: a phrase may be several ("me" follows STOP and HELP).
POLITE, OPT_OUT_FILLER, OBJECT, MESSAGES, HELP_FILLER = 1, 2, 4, 8, 16
Segment = Keyword | int
Phrase = tuple[tuple[str, ...], Segment]


def _filler_flags() -> dict[tuple[str, ...], int]:
    flags: dict[tuple[str, ...], int] = {}
    for words, flag in ((mixed.POLITENESS, POLITE), (en.SIGNATURES, POLITE),
                        (mixed.OPT_OUT_FILLERS, OPT_OUT_FILLER),
                        (en.KEYWORD_OBJECTS, OBJECT), (mixed.MESSAGING_NOUNS, MESSAGES),
                        (en.HELP_FILLERS, HELP_FILLER)):
        for phrase in words:
            key = tokens_of(phrase)
            flags[key] = flags.get(key, 0) | flag
    return flags


FILLERS = _filler_flags()
# A keyword may not be one of these words: "STOP please" must keep meaning STOP. (Messaging
# nouns and objects may: a campaign called ALERTS makes "STOP ALERTS" scoped.)
RESERVED_FILLER = POLITE | OPT_OUT_FILLER | HELP_FILLER

def key_of(word: str) -> tuple[str, ...]:
    return tokens_of(word)


def canonical_keyword(word: str) -> str:
    """The one spelling of a keyword everywhere (scopes, events, sends, commands): accents
    folded, upper case, words joined by one space; ``"niños 2026"`` -> ``"NINOS 2026"``.
    A word with no letters or digits keeps its own spelling, upper-cased."""
    return canonical_of(word) or word.upper()


def canonical_of(word: str) -> str:
    return " ".join(tokens_of(word)).upper()


def compact_of(key: tuple[str, ...]) -> str:
    return "".join(key)
