"""The free-text rules engine: plain-words revocations ("please stop texting me"), compiled from
the rules of ``words/`` and matched clause by clause."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from processor.domain.classify import languages, tuning
from processor.domain.classify.classification import Classification
from processor.domain.classify.normalise import tokens_of
from processor.domain.classify.reading import Clause, Message
from processor.domain.classify.words import en, mixed, pt
from processor.domain.classify.words.rule import FreeTextRule
from processor.domain.models.enums import Intent


def _alternation(phrases: Iterable[str]) -> str:
    forms = {" ".join(tokens_of(phrase)) for phrase in phrases} - {""}
    return "(?:" + "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))) + ")"


FRAGMENTS = {
    "DET": "(?:" + _alternation(en.DETERMINERS) + " )*",
    "MSG": _alternation(mixed.MESSAGING_NOUNS),
    "NAMEDMSG": _alternation(
        n for n in mixed.MESSAGING_NOUNS if n not in mixed.VAGUE_MESSAGING_NOUNS),
    "CGER": _alternation(en.CONTACT_GERUNDS),
    "SGER": _alternation(en.SEND_GERUNDS),
    "RGER": _alternation(en.RECEIVING_GERUNDS),
    "CVERB": _alternation(en.CONTACT_VERBS),
    "STOPV": _alternation(en.STOP_VERBS),
    "RCPT": _alternation(en.RECIPIENTS),
    "LIST": _alternation(en.LISTS),
    "DEM": "(?:this|these|those|it|that|them)",
    "COND": _alternation(en.CONDITIONS),
    "NOT": "(?:dont|do not|never|please dont|pls dont|dont ever|do not ever)",
    "END": "(?=(?: " + _alternation(mixed.PERSISTENCE + mixed.POLITENESS) + ")*$)",
    "PTUNSUB": _alternation(pt.PT_UNSUBSCRIBE_FORMS),
    "NOTNAME": _alternation(en.NOT_A_NAME),
}


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: FreeTextRule
    regex: re.Pattern[str]
    negations: frozenset[str]
    needs: tuple[frozenset[str], ...]


def _compile_rule(rule: FreeTextRule) -> CompiledRule:
    pattern = re.sub(r"\{([A-Z]+)\}", lambda m: FRAGMENTS[m.group(1)], rule.pattern)
    negations = frozenset(" ".join(tokens_of(n)) for n in languages.NEGATIONS[rule.language])
    return CompiledRule(rule, re.compile(pattern), negations, tuple(map(frozenset, rule.needs)))


RULES = tuple(_compile_rule(rule) for rule in languages.FREE_TEXT_RULES)


def _rules_by_word() -> dict[str, tuple[int, ...]]:
    """Word of a rule's first `needs` group -> the indexes of the rules it may wake up."""
    index: dict[str, list[int]] = {}
    for position, compiled in enumerate(RULES):
        for word in compiled.needs[0]:
            index.setdefault(word, []).append(position)
    return {word: tuple(positions) for word, positions in index.items()}


_RULES_BY_WORD = _rules_by_word()
_RULE_WORDS = frozenset(_RULES_BY_WORD)


def candidate_rules(tokens: Sequence[str]) -> tuple[CompiledRule, ...]:
    """The rules whose every `needs` group has a word among the tokens, in rule order.

    Plain loops: this runs for every message that holds a rule's first word.
    """
    if _RULE_WORDS.isdisjoint(tokens):
        return ()
    woken: set[int] = set()
    for token in tokens:
        positions = _RULES_BY_WORD.get(token)
        if positions:
            woken.update(positions)
    if not woken:
        return ()
    present = set(tokens)
    found = []
    for position in sorted(woken):
        compiled = RULES[position]
        for group in compiled.needs[1:]:
            if group.isdisjoint(present):
                break
        else:
            found.append(compiled)
    return tuple(found)


_NEGATION_OVERRIDES = frozenset(en.NEGATION_OVERRIDES)
_SUBJECTS = frozenset(mixed.SUBJECTS)
_SECOND_PERSON = frozenset(en.SECOND_PERSON)
_REQUEST_VERBS = frozenset(en.REQUEST_VERBS)
_THIRD_PARTIES = frozenset(en.THIRD_PARTIES)
_PAST_AUXILIARIES = frozenset(en.PAST_AUXILIARIES)
_PRONOUNS = _SUBJECTS | _SECOND_PERSON | _THIRD_PARTIES | {"it"}


def _negated(before: Sequence[str], negations: frozenset[str]) -> bool:
    """A negation among the few tokens before the verb, not itself after "why"/"if"."""
    start = max(len(before) - tuning.NEGATION_WINDOW, 0)
    for i in range(len(before) - 1, start - 1, -1):
        single, double = before[i], " ".join(before[i - 1:i + 1]) if i else ""
        if single in negations or double in negations:
            first = i - 1 if double in negations else i
            return not (first and before[first - 1] in _NEGATION_OVERRIDES)
    return False


def _statement(before: Sequence[str]) -> bool:
    """Not a request of ours: the nearest person before the verb is I/we (not going on to ask)
    or a third party, or the verb follows a past auxiliary ("why did you stop texting me?")."""
    if not _PAST_AUXILIARIES.isdisjoint(before[-tuning.NEGATION_WINDOW:]):
        return True
    for i in range(len(before) - 1, -1, -1):
        if before[i] in _SECOND_PERSON:
            return False
        if before[i] in _THIRD_PARTIES:
            return True
        if before[i] in _SUBJECTS:
            return not (i + 1 < len(before) and before[i + 1] in _REQUEST_VERBS)
    return False


def _blocked(compiled: CompiledRule, clause: Clause, start: int, banter: bool) -> bool:
    before = clause.tokens[:clause.text.count(" ", 0, start)]
    guards = compiled.rule.guards
    return (("negation" in guards and _negated(before, compiled.negations))
            or ("subject" in guards and _statement(before))
            or ("declarative" in guards and bool(before) and before[-1] in _PRONOUNS)
            or ("banter" in guards and banter))


def free_text_matches(message: Message) -> Iterable[Classification]:
    """Each clause's first matching rule (in FREE_TEXT_RULES order), as a classification."""
    if not message.rules:
        return
    single = len(message.sentences) == 1 and len(message.sentences[0]) == 1
    for clause in message.clauses:
        for compiled in message.rules if single else candidate_rules(clause.tokens):
            match = compiled.regex.search(clause.text)
            if match is None or _blocked(compiled, clause, match.start(), message.banter):
                continue
            rule = compiled.rule
            if rule.outcome == "review":
                yield Classification(Intent.NONE, None, None, rule.language, rule.confidence,
                                     f"review:{rule.name}", True)
            else:
                # Laughter keeps the opt-out (a missed STOP is worse) but asks for a look.
                yield Classification(Intent.OPT_OUT, None, None, rule.language, rule.confidence,
                                     f"free_text:{rule.name}", rule.review or message.banter)
            break
