"""Keyword classifier: does an inbound text mean stop, start, help, or nothing?

Pure domain code (stdlib only). Carriers match the whole message against a fixed list; the FCC's
2024 order (in force since 2025-04-11) lets a consumer revoke consent "in any reasonable
manner", so this classifier also reads plain-words revocations. The legal asymmetry shapes every
rule: a missed STOP is a violation, a false STOP loses a subscriber, a false opt-in (texting
someone who never agreed) is worst. So all fuzziness (typos, look-alikes, free text, review)
only ever leans towards opt-out, and opt-in needs the keyword alone or with plain politeness.

Rules, in the order they run (``Classification.rule`` names the one that fired):

* ``exact`` / ``repeat`` / ``campaign`` / ``scoped`` / ``short_reply``: the message is made only
  of keywords and filler ("STOP", "STOP STOP", "VOLUNTEER", "STOP VOLUNTEER", "Stop please").
* ``spelled_out``: single letters spelling a keyword ("S T O P", "s.t.o.p").
* ``clause_keyword``: one sentence of a longer message is a bare opt-out keyword ("I never
  signed up. STOP."), reviewed.
* ``leading_keyword``: a short message led by a capitalised opt-out keyword ("STOP JOHN"),
  reviewed.
* ``free_text:<name>``: a plain-words revocation (``languages.FREE_TEXT_RULES``).
* ``repaired:<rule>``: the rules above, opt-out only, after undoing stretched letters
  ("STOOOP"), digits for letters ("ST0P") and one-key typos ("Stpo") in short messages.
* ``stop_emoji``: a message made only of stop-sign emoji, reviewed.
* ``review:<why>``: intent none, but an operator should look (``review=True``).
* ``none``.

Where they live: the keyword rules and the review in ``keyword_rules.py``, the free-text rules
engine in ``free_text.py`` (the rules themselves, per language, in ``words/``), repair in
``typos.py``; how far each reaches in ``tuning.py``. This module runs them in order.
"""

from __future__ import annotations

from collections.abc import Sequence

from processor.domain.classify import tuning
from processor.domain.classify.classification import NO_INTENT, Classification
from processor.domain.classify.free_text import candidate_rules, free_text_matches
from processor.domain.classify.keyword_rules import (
    clause_keywords,
    contrasted_keyword,
    leading_keyword,
    review_of,
    spelled_out,
    stop_emoji,
    whole_message,
)
from processor.domain.classify.keyword_sets import DEFAULT_KEYWORDS, KeywordSet
from processor.domain.classify.normalise import TOKEN, fold
from processor.domain.classify.reading import (
    STRETCHED,
    Clause,
    Message,
    assemble_message,
    make_clause,
    read_message,
)
from processor.domain.classify.typos import repairable, repaired_token, split_keyword, unglued
from processor.domain.models.enums import Intent


def _repaired(message: Message, keywords: KeywordSet) -> Classification | None:
    """Re-reads a message with repaired tokens; only an opt-out may come of it."""
    if not (repairable(message.tokens, keywords) if message.short
            else STRETCHED.search(message.folded)):
        return None
    split = split_keyword(message.tokens, keywords) if len(message.tokens) > 1 else None
    if split is not None:
        return Classification(Intent.OPT_OUT, split.canonical, None, split.language, 0.9,
                              "repaired:split_keyword")
    typos: list[bool] = []

    def repair(clause: Clause) -> Clause:
        parts = unglued(clause.tokens[0], keywords) if len(message.tokens) == 1 else ()
        if parts:
            return make_clause(parts, clause.question)
        fixed = [repaired_token(token, keywords, message.short) for token in clause.tokens]
        typos.extend(was_typo for _, was_typo in fixed)
        return make_clause([token for token, _ in fixed], clause.question)

    sentences = tuple(tuple(map(repair, sentence)) for sentence in message.sentences)
    tokens = [token for sentence in sentences for clause in sentence for token in clause.tokens]
    if tokens == list(message.tokens):
        return None
    repaired = assemble_message(message.body, message.folded, sentences, message.short,
                        candidate_rules(tokens))
    typo = any(typos)
    found = whole_message(repaired, keywords) or _best(
        [*clause_keywords(repaired, keywords), *free_text_matches(repaired)])
    if found is not None and found.intent is Intent.OPT_IN:  # "Yesss": keen, but not a keyword
        return Classification(Intent.NONE, None, None, None, 0.5, "review:unclear_opt_in", True)
    if found is None or found.intent is not Intent.OPT_OUT:
        return None
    return Classification(Intent.OPT_OUT, found.keyword, found.scope, found.language,
                          min(found.confidence, 0.8 if typo else 0.9),
                          f"repaired:{found.rule}", found.review or typo)


# --- classify --------------------------------------------------------------------------------


_PREFERENCE = ((Intent.OPT_OUT, False), (Intent.OPT_OUT, True), (Intent.HELP, False),
               (Intent.HELP, True), (Intent.NONE, True))


def _best(candidates: Sequence[Classification]) -> Classification | None:
    """A sure opt-out over a reviewed one over a review flag; earlier rules first."""
    if len(candidates) < 2:
        return candidates[0] if candidates else None
    for wanted in _PREFERENCE:
        for candidate in candidates:
            if (candidate.intent, candidate.review) == wanted:
                return candidate
    return None


def _classify_read(message: Message, keywords: KeywordSet) -> Classification:
    """The rules in order: keywords, free text, repair, review (see the module docstring)."""
    candidates: list[Classification] = []
    keyworded = not keywords._keyword_tokens.isdisjoint(message.tokens)
    if keyworded:  # the keyword rules need a keyword token
        whole = whole_message(message, keywords)
        if whole is not None and not whole.review:
            return whole
        candidates.extend(() if whole is None else (whole,))
        candidates.extend(clause_keywords(message, keywords))
        leading = leading_keyword(message, keywords)
        candidates.extend(() if leading is None else (leading,))
        contrast = contrasted_keyword(message, keywords)
        candidates.extend(() if contrast is None else (contrast,))
    candidates.extend(free_text_matches(message))
    found = _best(candidates)
    if found is not None and found.intent is Intent.OPT_OUT and not found.review:
        return found
    repaired = _repaired(message, keywords)
    if repaired is not None and (found is None or found.intent is not Intent.OPT_OUT):
        return repaired
    return found or (review_of(message, keywords) if keyworded else None) or NO_INTENT




def classify(body: str, keywords: KeywordSet = DEFAULT_KEYWORDS) -> Classification:
    """Classifies one inbound text as opt_out, opt_in, help or none (see the module docstring)."""
    folded = fold(body)
    tokens = TOKEN.findall(folded)
    if len(tokens) == 1 and tokens[0] in keywords._alone:
        alone = keywords._alone[tokens[0]]
        if alone.intent is not Intent.OPT_IN or "?" not in folded:
            return alone
    if len(tokens) > 1 and len(tokens[0]) == 1:
        spelled = spelled_out(tokens, "?" in folded, keywords)
        if spelled is not None:
            return spelled
    short = len(tokens) <= tuning.REPAIR_MAX_WORDS
    rules = candidate_rules(tokens)
    if (not rules and keywords._keyword_tokens.isdisjoint(tokens)
            and not (short and repairable(tokens, keywords))):
        # Ordinary chat: no keyword, no rule's words, nothing a typo repair would change.
        return NO_INTENT if tokens or body.isascii() else stop_emoji(body) or NO_INTENT
    return _classify_read(read_message(body, folded, tokens, short, rules), keywords)
