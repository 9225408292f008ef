"""What the classifier answers: a Classification, and the error of a bad keyword setting."""

from __future__ import annotations

from dataclasses import dataclass

from processor.domain.models.enums import Intent


@dataclass(frozen=True, slots=True)
class Classification:
    """What an inbound text asks for, and which rule decided it (for audit and debugging).

    ``review`` asks an operator to look: set on opt-outs read from vague words ("leave me
    alone", a typo) and on messages left at ``none`` that might have been requests ("YES?",
    "stop? no way", "don't text me while I'm driving"). It never changes the intent.
    """

    intent: Intent
    keyword: str | None
    scope: str | None
    language: str | None
    confidence: float
    rule: str
    review: bool = False


class KeywordConfigError(ValueError):
    """A gateway's keyword configuration cannot be used; the message names the keyword."""


NO_INTENT = Classification(Intent.NONE, None, None, None, 1.0, "none")
