"""Reading a message: its sentences, clauses and tokens, and whether it is banter."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from processor.domain.classify.normalise import TOKEN
from processor.domain.classify.words import mixed

if TYPE_CHECKING:
    from processor.domain.classify.free_text import CompiledRule


# A sentence ends at ! ? ; … or a new line anywhere, and at . : before a space ("5.30" stays);
# a clause also at a comma or a dash between spaces.
_SENTENCE_END = re.compile(r"((?:[!?;\n\u2026]|[.:](?=\s|$))+)")
_CLAUSE_END = re.compile(r",(?=\s|$)|\s-+\s")
# Folded text spells keywords in ASCII, so stretched letters only matter there (and [a-z] is a
# much cheaper class to search than every Unicode letter).
STRETCHED = re.compile(r"([a-z])\1{2,}")
_LAUGHTER = frozenset(mixed.LAUGHTER)


# NamedTuples rather than frozen dataclasses: built for every message that reaches the rules,
# and half as costly to construct.
class Clause(NamedTuple):
    tokens: tuple[str, ...]
    text: str  # tokens joined by single spaces: what the free-text patterns match
    question: bool


Sentence = tuple[Clause, ...]


class Message(NamedTuple):
    body: str
    folded: str
    tokens: tuple[str, ...]
    sentences: tuple[Sentence, ...]
    question: bool
    banter: bool
    short: bool  # few enough words for typo repair
    rules: tuple[CompiledRule, ...]  # the free-text rules whose needs the message meets

    @property
    def clauses(self) -> Iterable[Clause]:
        return (clause for sentence in self.sentences for clause in sentence)


def make_clause(tokens: Sequence[str], question: bool) -> Clause:
    return Clause(tuple(tokens), " ".join(tokens), question)


_INNER_BREAK = re.compile(r"[!?;\n\u2026]|[.:,](?=\s)|\s-+\s")
_TRAILING = " \t\r\n.!?\u2026"


def read_message(body: str, folded: str, tokens: Sequence[str], short: bool,
          rules: tuple[CompiledRule, ...]) -> Message:
    core = folded.rstrip(_TRAILING)
    if _INNER_BREAK.search(core) is None:  # one clause: the common case, no splitting
        question = "?" in folded[len(core):]
        return assemble_message(body, folded, ((make_clause(tokens, question),),), short, rules)
    parts = _SENTENCE_END.split(folded)
    sentences = []
    for index in range(0, len(parts), 2):
        question = index + 1 < len(parts) and "?" in parts[index + 1]
        clauses = tuple(make_clause(tokens, question) for part in _CLAUSE_END.split(parts[index])
                        if (tokens := TOKEN.findall(part)))
        if clauses:
            sentences.append(clauses)
    return assemble_message(body, folded, tuple(sentences), short, rules)


def assemble_message(body: str, folded: str, sentences: tuple[Sentence, ...], short: bool,
             rules: tuple[CompiledRule, ...]) -> Message:
    tokens = tuple(token for sentence in sentences for clause in sentence
                   for token in clause.tokens)
    banter = not _LAUGHTER.isdisjoint(tokens) or (
        not body.isascii() and any(char in mixed.LAUGHTER_EMOJI for char in body))
    return Message(body, folded, tokens, sentences, "?" in folded, banter, short, rules)
