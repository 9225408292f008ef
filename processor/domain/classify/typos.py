"""Typo repair (opt-out only): one-key typos, stretched letters ("STOOOP"), digits for letters
("ST0P"), glued and split keywords."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from processor.domain.classify import tuning
from processor.domain.classify.classification import KeywordConfigError
from processor.domain.classify.keyword import FILLERS, OPT_OUT_FILLER, Keyword, compact_of
from processor.domain.classify.reading import STRETCHED
from processor.domain.classify.words import characters, en
from processor.domain.models.enums import Intent

if TYPE_CHECKING:
    from processor.domain.classify.keyword_sets import KeywordSet


# --- typo tables -----------------------------------------------------------------------------


def typo_tables(keywords: Mapping[tuple[str, ...], Keyword]
                 ) -> tuple[dict[str, str], tuple[str, ...]]:
    """One-key typos of the opt-out keywords that are not everyday words ("stpo" -> "stop").

    Long targets ("unsubscribe") tolerate two edits of any kind and are checked directly.
    Variants that are keywords themselves stay in, so that build() can reject an opt-in one.
    """
    typos: dict[str, str] = {}
    long_targets = []
    real_words = frozenset(en.TYPO_REAL_WORDS)
    for key, keyword in keywords.items():
        target = compact_of(key)
        if keyword.intent is not Intent.OPT_OUT or keyword.everyday or len(key) != 1:
            continue
        shortest = tuning.TYPO_MIN_LENGTH if keyword.language in ("en", None) else (
            tuning.TYPO_MIN_LENGTH_OTHER_LANGUAGES)
        if len(target) < shortest:
            continue
        if len(target) >= tuning.TYPO_LONG_LENGTH:
            long_targets.append(target)
        for variant in _one_key_typos(target):
            if variant not in real_words \
                    and FILLERS.get((variant,), OPT_OUT_FILLER) == OPT_OUT_FILLER:
                typos.setdefault(variant, target)
    return typos, tuple(sorted(long_targets))


def _one_key_typos(word: str) -> set[str]:
    """Deletions, swaps of neighbours, and neighbouring-key substitutions or insertions."""
    variants = set()
    for i in range(1, len(word)):
        if len(word) - 1 >= 3:
            variants.add(word[:i] + word[i + 1:])
        variants.add(word[:i - 1] + word[i] + word[i - 1] + word[i + 1:])
    for i, char in enumerate(word):
        for near in characters.KEYBOARD_NEIGHBOURS.get(char, ""):
            if near.isalpha():
                variants.add(word[:i] + near + word[i + 1:])
    for i in range(len(word) + 1):
        around = word[max(i - 1, 0):i + 1]
        inserts = set(around) | {
            n for c in around for n in characters.KEYBOARD_NEIGHBOURS.get(c, "")}
        for near in inserts:
            if near.isalpha():
                variants.add(word[:i] + near + word[i:])
    variants.discard(word)
    return variants


def _within_two_edits(word: str, target: str) -> bool:
    """Optimal-string-alignment distance <= 2, same first letter (a typo keeps the start)."""
    if word[:1] != target[:1] or abs(len(word) - len(target)) > 2:
        return False
    previous2: list[int] = []
    previous = list(range(len(target) + 1))
    for i, char in enumerate(word, 1):
        current = [i] + [0] * len(target)
        for j, other in enumerate(target, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (char != other))
            if i > 1 and j > 1 and char == target[j - 2] and word[i - 2] == other:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1] <= 2


def reject_typo_collisions(keywords: Mapping[tuple[str, ...], Keyword],
                            typos: Mapping[str, str], long_targets: Sequence[str]) -> None:
    """An opt-in word one typo from an opt-out word would opt in a subscriber who fumbled STOP."""
    for key, keyword in keywords.items():
        if keyword.intent is not Intent.OPT_IN or len(key) != 1:
            continue
        near = typos.get(key[0]) or next(
            (t for t in long_targets if _within_two_edits(key[0], t)), None)
        if near is not None:
            raise KeywordConfigError(
                f"keyword {keyword.canonical!r} is one typo away from opt-out keyword "
                f"{near.upper()!r}: a subscriber mistyping it would be opted in; pick another")


# --- repair (opt-out only) -------------------------------------------------------------------

_LOOK_ALIKE_DIGITS = str.maketrans(dict(characters.LOOK_ALIKE_DIGITS))


def longest_repair(keywords: Mapping[tuple[str, ...], Keyword]) -> int:
    """Twice the longest keyword word, plus room for stretched letters ("STOOOOOP")."""
    return 2 * max(len(word) for key in keywords for word in key) + tuning.REPAIR_SLACK


def repaired_token(token: str, keywords: KeywordSet, short: bool) -> tuple[str, bool]:
    """The token with stretched letters undone and, in short messages, digits read as letters
    and one-key typos of opt-out keywords corrected. Returns (token, whether a typo was fixed)."""
    if len(token) > keywords._repairable_length:
        return token, False
    token = STRETCHED.sub(r"\1", token)
    if not short or (token,) in keywords._keywords:
        return token, False
    # "ST0P" reads as STOP; "7pm" stays "7pm" (digits only count when they spell a keyword).
    read = token.translate(_LOOK_ALIKE_DIGITS) if not token.isalpha() else token
    if (read,) in keywords._keywords:
        return read, False
    typo = keywords._typos.get(read)
    if typo is None and len(read) >= tuning.TYPO_LONG_LENGTH - 2:
        typo = next((t for t in keywords._long_typo_targets if _within_two_edits(read, t)), None)
    return (typo, True) if typo is not None else (token, False)


def unglued(token: str, keywords: KeywordSet) -> tuple[str, ...]:
    """"stopplease", "stopstop": a keyword glued to a keyword or filler word by a missed space."""
    for i in range(2, len(token) - 1):
        head, tail = token[:i], token[i:]
        if head in keywords._phrases and tail in keywords._phrases:
            return head, tail
    return ()


_CHANGED, _UNGLUED = 1, 2


def repairable(tokens: Sequence[str], keywords: KeywordSet) -> bool:
    """Whether _repaired would change a short message: a token it repairs, one glued word, or
    a keyword split by a stray space."""
    if len(tokens) == 1:
        return _repair_flags(tokens[0], keywords) != 0
    return split_keyword(tokens, keywords) is not None or any(
        _repair_flags(token, keywords) & _CHANGED for token in tokens)


def split_keyword(tokens: Sequence[str], keywords: KeywordSet) -> Keyword | None:
    """"ST OP", "un subscribe": two or three tokens that join into an opt-out keyword."""
    if len(tokens) > tuning.SPLIT_KEYWORD_MAX_PARTS:
        return None
    keyword = keywords._keywords.get(("".join(tokens),))
    return keyword if keyword is not None and keyword.intent is Intent.OPT_OUT else None


def _repair_flags(token: str, keywords: KeywordSet) -> int:
    """_CHANGED if repaired_token changes the token, _UNGLUED if it splits in two (memoised)."""
    if len(token) > keywords._repairable_length:
        return 0  # never a keyword: and ungluing it would cost its length squared
    memo = keywords._repair_memo
    flags = memo.get(token)
    if flags is None:
        flags = (_CHANGED if repaired_token(token, keywords, True)[0] != token else 0) | (
            _UNGLUED if unglued(token, keywords) else 0)
        if len(memo) >= tuning.REPAIR_MEMO_SIZE:
            memo.clear()
        memo[token] = flags
    return flags
