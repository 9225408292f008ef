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
* ``free_text:<name>``: a plain-words revocation (``keyword_lists.FREE_TEXT_RULES``).
* ``repaired:<rule>``: the rules above, opt-out only, after undoing stretched letters
  ("STOOOP"), digits for letters ("ST0P") and one-key typos ("Stpo") in short messages.
* ``stop_emoji``: a message made only of stop-sign emoji, reviewed.
* ``review:<why>``: intent none, but an operator should look (``review=True``).
* ``none``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from processor.domain import keyword_lists as kl
from processor.domain.models import Intent


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

# --- normalisation ---------------------------------------------------------------------------

_QUOTES = {"'": "‘’‚‛′ʼ´`ʹ", '"': "“”„‟″«»"}
_REGIONAL_A, _REGIONAL_Z = 0x1F1E6, 0x1F1FF
# Letters drawn in emoji boxes ("🅂🅃🄾🄿" are NFKC'd; negative circled/squared ones are not).
_BOXED_LETTER_RANGES = ((0x1F150, 0x1F169), (0x1F170, 0x1F189))


class _CharFold(dict[int, str]):
    """str.translate table built lazily: one decision per distinct non-ASCII character."""

    def __missing__(self, codepoint: int) -> str:
        folded = _fold_char(chr(codepoint))
        self[codepoint] = folded
        return folded


def _fold_char(char: str) -> str:
    """Maps one case-folded character to what the rules read (why: look-alikes mean the same)."""
    if char.isascii():
        return char
    if char in kl.CONFUSABLES:
        return kl.CONFUSABLES[char]
    for ascii_quote, variants in _QUOTES.items():
        if char in variants:
            return ascii_quote
    codepoint = ord(char)
    if _REGIONAL_A <= codepoint <= _REGIONAL_Z:  # "🇸🇹🇴🇵" spells a word letter by letter
        return chr(ord("a") + codepoint - _REGIONAL_A) + " "
    for first, last in _BOXED_LETTER_RANGES:
        if first <= codepoint <= last:
            return chr(ord("a") + codepoint - first)
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Cf"):  # combining marks, zero-width characters, BOM
        return ""
    if category in ("Zs", "Zl", "Zp", "Cc"):
        return "\n" if category in ("Zl", "Zp") else " "
    if category == "Pd":
        return "-"
    if category[0] == "L":
        return "".join(c for c in unicodedata.normalize("NFD", char)
                       if unicodedata.category(c) != "Mn")
    if category[0] in ("S", "C"):  # emoji and other symbols separate words
        return " "
    return char


_CHAR_FOLD = _CharFold()
# Both start with their literal character so that the regex engine can skip to it quickly.
_ELISION = re.compile(r"'(?:(?<=(?<![^\W_])[cdjlmnst]')|(?<=(?<![^\W_])qu'))(?=[^\W\d_])")
_LONE_HASH = re.compile(r"#(?<=(?<!\S)#)(?!\S)")
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def _fold(body: str) -> str:
    """The text every rule reads: case-folded, look-alikes and accents folded, apostrophes
    dropped ("don't" -> "dont") except French elisions ("m'envoyer" -> "m envoyer")."""
    if body.isascii():
        text = body.lower()
    else:
        text = unicodedata.normalize("NFKC", body).casefold().translate(_CHAR_FOLD)
    if "'" in text:
        text = _ELISION.sub(" ", text).replace("'", "")
    if "#" in text:  # "wrong #", "my #"
        text = _LONE_HASH.sub(" number ", text)
    return text


def normalise(body: str) -> str:
    """The message as the classifier reads it: NFKC, zero-width characters and emoji removed,
    case and accents folded, surrounding punctuation stripped, inner whitespace collapsed."""
    return _EDGES.sub("", " ".join(_fold(body).split()))


# --- reading a message -----------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")
# A sentence ends at ! ? ; … or a new line anywhere, and at . : before a space ("5.30" stays);
# a clause also at a comma or a dash between spaces.
_SENTENCE_END = re.compile(r"((?:[!?;\n\u2026]|[.:](?=\s|$))+)")
_CLAUSE_END = re.compile(r",(?=\s|$)|\s-+\s")
# Folded text spells keywords in ASCII, so stretched letters only matter there (and [a-z] is a
# much cheaper class to search than every Unicode letter).
_STRETCHED = re.compile(r"([a-z])\1{2,}")
_LAUGHTER = frozenset(kl.LAUGHTER)


# NamedTuples rather than frozen dataclasses: built for every message that reaches the rules,
# and half as costly to construct.
class _Clause(NamedTuple):
    tokens: tuple[str, ...]
    text: str  # tokens joined by single spaces: what the free-text patterns match
    question: bool


_Sentence = tuple[_Clause, ...]


class _Message(NamedTuple):
    body: str
    folded: str
    tokens: tuple[str, ...]
    sentences: tuple[_Sentence, ...]
    question: bool
    banter: bool
    short: bool  # few enough words for typo repair
    rules: tuple[_CompiledRule, ...]  # the free-text rules whose needs the message meets

    @property
    def clauses(self) -> Iterable[_Clause]:
        return (clause for sentence in self.sentences for clause in sentence)


def _clause(tokens: Sequence[str], question: bool) -> _Clause:
    return _Clause(tuple(tokens), " ".join(tokens), question)


_INNER_BREAK = re.compile(r"[!?;\n\u2026]|[.:,](?=\s)|\s-+\s")
_TRAILING = " \t\r\n.!?\u2026"


def _read(body: str, folded: str, tokens: Sequence[str], short: bool,
          rules: tuple[_CompiledRule, ...]) -> _Message:
    core = folded.rstrip(_TRAILING)
    if _INNER_BREAK.search(core) is None:  # one clause: the common case, no splitting
        question = "?" in folded[len(core):]
        return _message(body, folded, ((_clause(tokens, question),),), short, rules)
    parts = _SENTENCE_END.split(folded)
    sentences = []
    for index in range(0, len(parts), 2):
        question = index + 1 < len(parts) and "?" in parts[index + 1]
        clauses = tuple(_clause(tokens, question) for part in _CLAUSE_END.split(parts[index])
                        if (tokens := _TOKEN.findall(part)))
        if clauses:
            sentences.append(clauses)
    return _message(body, folded, tuple(sentences), short, rules)


def _message(body: str, folded: str, sentences: tuple[_Sentence, ...], short: bool,
             rules: tuple[_CompiledRule, ...]) -> _Message:
    tokens = tuple(token for sentence in sentences for clause in sentence
                   for token in clause.tokens)
    banter = not _LAUGHTER.isdisjoint(tokens) or (
        not body.isascii() and any(char in kl.LAUGHTER_EMOJI for char in body))
    return _Message(body, folded, tokens, sentences, "?" in folded, banter, short, rules)

# --- keyword sets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Keyword:
    intent: Intent
    canonical: str
    language: str | None
    campaign: bool = False
    everyday: bool = False  # an everyday word too: no typo tolerance, no clause/leading rules


# Filler kinds, as bit flags: a phrase may be several ("me" follows STOP and HELP).
_POLITE, _OPT_OUT_FILLER, _OBJECT, _MESSAGES, _HELP_FILLER = 1, 2, 4, 8, 16
_Segment = _Keyword | int
_Phrase = tuple[tuple[str, ...], _Segment]


def _tokens_of(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(_fold(text)))


def _filler_flags() -> dict[tuple[str, ...], int]:
    flags: dict[tuple[str, ...], int] = {}
    for words, flag in ((kl.POLITENESS, _POLITE), (kl.SIGNATURES, _POLITE),
                        (kl.OPT_OUT_FILLERS, _OPT_OUT_FILLER),
                        (kl.KEYWORD_OBJECTS, _OBJECT), (kl.MESSAGING_NOUNS, _MESSAGES),
                        (kl.HELP_FILLERS, _HELP_FILLER)):
        for phrase in words:
            key = _tokens_of(phrase)
            flags[key] = flags.get(key, 0) | flag
    return flags


_FILLERS = _filler_flags()
# A keyword may not be one of these words: "STOP please" must keep meaning STOP. (Messaging
# nouns and objects may: a campaign called ALERTS makes "STOP ALERTS" scoped.)
_RESERVED_FILLER = _POLITE | _OPT_OUT_FILLER | _HELP_FILLER


@dataclass(frozen=True, slots=True)
class KeywordSet:
    """A gateway's keywords, normalised and indexed once so that classify() stays cheap.

    Two sets are equal (and hash alike) when built from the same settings.
    """

    verification: str
    campaign: frozenset[str]
    languages: frozenset[str]
    # The custom words as (kind, canonical) and the excluded defaults: the rest of the settings.
    # The tables below are built from all of these, so they stay out of ==, hash() and repr().
    custom: frozenset[tuple[str, str]]
    excluded: frozenset[str]
    _keywords: Mapping[tuple[str, ...], _Keyword] = field(compare=False, repr=False)
    _phrases: Mapping[str, tuple[_Phrase, ...]] = field(compare=False, repr=False)
    _typos: Mapping[str, str] = field(compare=False, repr=False)
    _long_typo_targets: tuple[str, ...] = field(compare=False, repr=False)
    # Longer tokens are never a typo'd keyword or two glued ones: repair skips them (its cost
    # grows with the square of a token's length; a 64 kB one-word body took a second).
    _repairable_length: int = field(compare=False, repr=False)
    _keyword_tokens: frozenset[str] = field(compare=False, repr=False)
    # Token -> _CHANGED | _UNGLUED bits: a pure property of the token, remembered because chat
    # repeats its words; bounded by REPAIR_MEMO_SIZE.
    _repair_memo: dict[str, int] = field(compare=False, repr=False)
    # What a one-word message that is a keyword means: the commonest case, precomputed.
    _alone: Mapping[str, Classification] = field(compare=False, repr=False)

    @classmethod
    def build(cls, *, opt_out: Iterable[str] = (), opt_in: Iterable[str] = (),
              help: Iterable[str] = (), campaign: Iterable[str] = (),
              verification: str = kl.DEFAULT_VERIFICATION,
              languages: Iterable[str] = kl.LANGUAGES, exclude: Iterable[str] = ()) -> KeywordSet:
        """Defaults plus the gateway's custom keywords; `exclude` removes default keywords
        (STOP, START, HELP and the FCC's words cannot be removed -> KeywordConfigError). A
        keyword with two meanings (e.g. custom opt-in "STOP", campaign keyword "HELP", or the
        same word as opt-in and opt-out across languages) -> KeywordConfigError naming it."""
        enabled = _checked_languages(languages)
        keywords: dict[tuple[str, ...], _Keyword] = {}
        excluded = _checked_exclusions(exclude)
        custom: set[tuple[str, str]] = set()
        for table, intent in ((kl.OPT_OUT, Intent.OPT_OUT), (kl.OPT_IN, Intent.OPT_IN),
                              (kl.HELP, Intent.HELP)):
            for language in kl.LANGUAGES:
                if language in enabled:
                    for word in table[language]:
                        if _key(word) not in excluded:
                            _add(keywords, word, _default_keyword(intent, word, language), "")
        for words, intent, is_campaign, origin in (
                (opt_out, Intent.OPT_OUT, False, "opt_out"),
                (opt_in, Intent.OPT_IN, False, "opt_in"),
                (help, Intent.HELP, False, "help"),
                (campaign, Intent.OPT_IN, True, "campaign")):
            for word in _checked_words(words, origin):
                _add(keywords, word, _Keyword(intent, _canonical(word), None, is_campaign), origin)
                custom.add((origin, _canonical(word)))
        verification_word = _checked_words((verification,), "verification")[0]
        _add(keywords, verification_word,
             _Keyword(Intent.OPT_IN, _canonical(verification_word), None), "verification")
        typos, long_targets = _typo_tables(keywords)
        _reject_typo_collisions(keywords, typos, long_targets)
        typos = {variant: target for variant, target in typos.items()
                 if (variant,) not in keywords}  # a keyword means itself, never a typo
        typos.update(kl.SLANG_SPELLINGS)
        return cls(
            verification=_canonical(verification_word),
            campaign=frozenset(k.canonical for k in keywords.values() if k.campaign),
            languages=frozenset(enabled),
            custom=frozenset(custom),
            excluded=frozenset(" ".join(key).upper() for key in excluded),
            _keywords=keywords,
            _phrases=_phrase_index(keywords),
            _typos=typos,
            _long_typo_targets=long_targets,
            _repairable_length=_longest_repair(keywords),
            _keyword_tokens=frozenset(token for key in keywords for token in key),
            _repair_memo={},
            _alone=_alone_results(keywords),
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> KeywordSet:
        """Builds from the `keywords:` section of a gateway in gateways.yaml (keys opt_out,
        opt_in, help, campaign, verification, languages, exclude); unknown keys or wrong types
        -> KeywordConfigError with a clear message."""
        if not isinstance(data, Mapping):
            raise KeywordConfigError(f"keywords must be a mapping, not {type(data).__name__}")
        unknown = sorted(set(data) - _CONFIG_LISTS - {"verification"})
        if unknown:
            raise KeywordConfigError(
                f"unknown keywords setting(s) {', '.join(map(repr, unknown))}; "
                f"expected {', '.join(sorted(_CONFIG_LISTS | {'verification'}))}")
        lists = {name: _config_list(data, name) for name in _CONFIG_LISTS if name in data}
        verification = data.get("verification", kl.DEFAULT_VERIFICATION)
        if not isinstance(verification, str):
            raise KeywordConfigError(
                f"keywords.verification must be a string, not {verification!r}"
                f"{_YAML_HINT if isinstance(verification, bool) else ''}")
        return cls.build(verification=verification, **lists)

    def is_verification(self, keyword: str | None) -> bool:
        """Whether a classified keyword is this gateway's double-opt-in confirmation word."""
        return keyword is not None and _canonical(keyword) == self.verification


_CONFIG_LISTS = frozenset({"opt_out", "opt_in", "help", "campaign", "languages", "exclude"})
_YAML_HINT = " (YAML reads unquoted YES/NO/ON/OFF as booleans: quote the keyword)"


def _config_list(data: Mapping[str, object], name: str) -> tuple[str, ...]:
    value = data[name]
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise KeywordConfigError(f"keywords.{name} must be a list of strings, not {value!r}")
    for item in value:
        if not isinstance(item, str):
            hint = _YAML_HINT if isinstance(item, bool) else " (quote it)"
            raise KeywordConfigError(f"keywords.{name} holds {item!r}, not a string{hint}")
    return tuple(value)


def _key(word: str) -> tuple[str, ...]:
    return _tokens_of(word)


def canonical_keyword(word: str) -> str:
    """The one spelling of a keyword everywhere (scopes, events, sends, commands): accents
    folded, upper case, words joined by one space; ``"niños 2026"`` -> ``"NINOS 2026"``.
    A word with no letters or digits keeps its own spelling, upper-cased."""
    return _canonical(word) or word.upper()


def _canonical(word: str) -> str:
    return " ".join(_tokens_of(word)).upper()


def _default_keyword(intent: Intent, word: str, language: str) -> _Keyword:
    everyday = _key(word) in _EVERYDAY
    return _Keyword(intent, _canonical(word), language, everyday=everyday)


_EVERYDAY = frozenset(_key(word) for word in kl.EVERYDAY_OPT_OUT)
_MANDATORY = {_key(word): word for word in kl.MANDATORY}
_DEFAULT_WORDS = frozenset(_key(word) for table in (kl.OPT_OUT, kl.OPT_IN, kl.HELP)
                           for words in table.values() for word in words)


def _checked_languages(languages: Iterable[str]) -> frozenset[str]:
    enabled = frozenset(languages)
    unknown = sorted(enabled - set(kl.LANGUAGES))
    if unknown:
        raise KeywordConfigError(f"unknown language(s) {', '.join(map(repr, unknown))}; "
                                 f"known: {', '.join(kl.LANGUAGES)}")
    return enabled | {"en"}  # English is the carriers' and the FCC's language: always on


def _checked_exclusions(exclude: Iterable[str]) -> frozenset[tuple[str, ...]]:
    keys = set()
    for word in _checked_words(exclude, "exclude"):
        key = _key(word)
        if key in _MANDATORY or _compact(key) in {_compact(k) for k in _MANDATORY}:
            raise KeywordConfigError(
                f"keyword {word!r} cannot be excluded: STOP, START, HELP and the FCC's "
                f"revocation words ({', '.join(kl.MANDATORY)}) are always on")
        if key not in _DEFAULT_WORDS:
            raise KeywordConfigError(f"exclude: {word!r} is not a default keyword")
        keys.add(key)
    return frozenset(keys)


def _checked_words(words: Iterable[str], origin: str) -> list[str]:
    if isinstance(words, str):
        words = (words,)
    checked = []
    for word in words:
        if not isinstance(word, str):
            raise KeywordConfigError(f"{origin} keyword {word!r} is not a string")
        if not _key(word):
            raise KeywordConfigError(f"{origin} keyword {word!r} has no letters or digits")
        if _FILLERS.get(_key(word), 0) & _RESERVED_FILLER:
            raise KeywordConfigError(
                f"{origin} keyword {word!r} is a politeness/filler word the classifier reads "
                f"around keywords; pick another keyword")
        checked.append(word)
    return checked


def _compact(key: tuple[str, ...]) -> str:
    return "".join(key)


def _add(keywords: dict[tuple[str, ...], _Keyword], word: str, keyword: _Keyword,
         origin: str) -> None:
    """Adds a keyword under its tokens ("OPT-OUT" -> opt, out) and its compact form (optout)."""
    key = _key(word)
    for variant in dict.fromkeys((key, (_compact(key),))):
        existing = keywords.get(variant)
        if existing is None:
            keywords[variant] = keyword
        elif _meaning(existing) != _meaning(keyword):
            raise KeywordConfigError(
                f"keyword {word!r} has two meanings: {_describe(existing)} and "
                f"{_describe(keyword)}{f' (from {origin})' if origin else ''}")


def _meaning(keyword: _Keyword) -> tuple[Intent, bool, str | None]:
    return keyword.intent, keyword.campaign, keyword.canonical if keyword.campaign else None


def _describe(keyword: _Keyword) -> str:
    kind = "campaign" if keyword.campaign else keyword.intent.value
    return f"{kind} ({keyword.canonical}{f', {keyword.language}' if keyword.language else ''})"


def _phrase_index(keywords: Mapping[tuple[str, ...], _Keyword]) -> dict[str, tuple[_Phrase, ...]]:
    """First token -> the keyword and filler phrases starting with it, longest first."""
    phrases: dict[str, list[_Phrase]] = {}
    for key, keyword in keywords.items():  # keywords first: they win over an equal filler
        phrases.setdefault(key[0], []).append((key, keyword))
    for key, flags in _FILLERS.items():
        phrases.setdefault(key[0], []).append((key, flags))
    return {first: tuple(sorted(found, key=lambda phrase: -len(phrase[0])))
            for first, found in phrases.items()}


# --- typo tables -----------------------------------------------------------------------------


def _typo_tables(keywords: Mapping[tuple[str, ...], _Keyword]
                 ) -> tuple[dict[str, str], tuple[str, ...]]:
    """One-key typos of the opt-out keywords that are not everyday words ("stpo" -> "stop").

    Long targets ("unsubscribe") tolerate two edits of any kind and are checked directly.
    Variants that are keywords themselves stay in, so that build() can reject an opt-in one.
    """
    typos: dict[str, str] = {}
    long_targets = []
    real_words = frozenset(kl.TYPO_REAL_WORDS)
    for key, keyword in keywords.items():
        target = _compact(key)
        if keyword.intent is not Intent.OPT_OUT or keyword.everyday or len(key) != 1:
            continue
        shortest = kl.TYPO_MIN_LENGTH if keyword.language in ("en", None) else (
            kl.TYPO_MIN_LENGTH_OTHER_LANGUAGES)
        if len(target) < shortest:
            continue
        if len(target) >= kl.TYPO_LONG_LENGTH:
            long_targets.append(target)
        for variant in _one_key_typos(target):
            if variant not in real_words \
                    and _FILLERS.get((variant,), _OPT_OUT_FILLER) == _OPT_OUT_FILLER:
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
        for near in kl.KEYBOARD_NEIGHBOURS.get(char, ""):
            if near.isalpha():
                variants.add(word[:i] + near + word[i + 1:])
    for i in range(len(word) + 1):
        around = word[max(i - 1, 0):i + 1]
        inserts = set(around) | {n for c in around for n in kl.KEYBOARD_NEIGHBOURS.get(c, "")}
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


def _reject_typo_collisions(keywords: Mapping[tuple[str, ...], _Keyword],
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


def _alone_results(keywords: Mapping[tuple[str, ...], _Keyword]) -> dict[str, Classification]:
    """What a message made of one keyword token means: the commonest case, precomputed."""
    results = {}
    for key, keyword in keywords.items():
        if len(key) == 1:
            reply = _keyword_reply([keyword], question=False)
            if reply is not None:
                results[key[0]] = reply
    return results


# --- free-text rules -------------------------------------------------------------------------


def _alternation(phrases: Iterable[str]) -> str:
    forms = {" ".join(_tokens_of(phrase)) for phrase in phrases} - {""}
    return "(?:" + "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))) + ")"


_FRAGMENTS = {
    "DET": "(?:" + _alternation(kl.DETERMINERS) + " )*",
    "MSG": _alternation(kl.MESSAGING_NOUNS),
    "NAMEDMSG": _alternation(n for n in kl.MESSAGING_NOUNS if n not in kl.VAGUE_MESSAGING_NOUNS),
    "CGER": _alternation(kl.CONTACT_GERUNDS),
    "SGER": _alternation(kl.SEND_GERUNDS),
    "RGER": _alternation(kl.RECEIVING_GERUNDS),
    "CVERB": _alternation(kl.CONTACT_VERBS),
    "STOPV": _alternation(kl.STOP_VERBS),
    "RCPT": _alternation(kl.RECIPIENTS),
    "LIST": _alternation(kl.LISTS),
    "DEM": "(?:this|these|those|it|that|them)",
    "COND": _alternation(kl.CONDITIONS),
    "NOT": "(?:dont|do not|never|please dont|pls dont|dont ever|do not ever)",
    "END": "(?=(?: " + _alternation(kl.PERSISTENCE + kl.POLITENESS) + ")*$)",
    "PTUNSUB": _alternation(kl.PT_UNSUBSCRIBE_FORMS),
    "NOTNAME": _alternation(kl.NOT_A_NAME),
}


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: kl.FreeTextRule
    regex: re.Pattern[str]
    negations: frozenset[str]
    needs: tuple[frozenset[str], ...]


def _compile_rule(rule: kl.FreeTextRule) -> _CompiledRule:
    pattern = re.sub(r"\{([A-Z]+)\}", lambda m: _FRAGMENTS[m.group(1)], rule.pattern)
    negations = frozenset(" ".join(_tokens_of(n)) for n in kl.NEGATIONS[rule.language])
    return _CompiledRule(rule, re.compile(pattern), negations, tuple(map(frozenset, rule.needs)))


_RULES = tuple(_compile_rule(rule) for rule in kl.FREE_TEXT_RULES)


def _rules_by_word() -> dict[str, tuple[int, ...]]:
    """Word of a rule's first `needs` group -> the indexes of the rules it may wake up."""
    index: dict[str, list[int]] = {}
    for position, compiled in enumerate(_RULES):
        for word in compiled.needs[0]:
            index.setdefault(word, []).append(position)
    return {word: tuple(positions) for word, positions in index.items()}


_RULES_BY_WORD = _rules_by_word()
_RULE_WORDS = frozenset(_RULES_BY_WORD)


def _candidate_rules(tokens: Sequence[str]) -> tuple[_CompiledRule, ...]:
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
        compiled = _RULES[position]
        for group in compiled.needs[1:]:
            if group.isdisjoint(present):
                break
        else:
            found.append(compiled)
    return tuple(found)


_NEGATION_OVERRIDES = frozenset(kl.NEGATION_OVERRIDES)
_SUBJECTS = frozenset(kl.SUBJECTS)
_SECOND_PERSON = frozenset(kl.SECOND_PERSON)
_REQUEST_VERBS = frozenset(kl.REQUEST_VERBS)
_THIRD_PARTIES = frozenset(kl.THIRD_PARTIES)
_PAST_AUXILIARIES = frozenset(kl.PAST_AUXILIARIES)
_PRONOUNS = _SUBJECTS | _SECOND_PERSON | _THIRD_PARTIES | {"it"}


def _negated(before: Sequence[str], negations: frozenset[str]) -> bool:
    """A negation among the few tokens before the verb, not itself after "why"/"if"."""
    start = max(len(before) - kl.NEGATION_WINDOW, 0)
    for i in range(len(before) - 1, start - 1, -1):
        single, double = before[i], " ".join(before[i - 1:i + 1]) if i else ""
        if single in negations or double in negations:
            first = i - 1 if double in negations else i
            return not (first and before[first - 1] in _NEGATION_OVERRIDES)
    return False


def _statement(before: Sequence[str]) -> bool:
    """Not a request of ours: the nearest person before the verb is I/we (not going on to ask)
    or a third party, or the verb follows a past auxiliary ("why did you stop texting me?")."""
    if not _PAST_AUXILIARIES.isdisjoint(before[-kl.NEGATION_WINDOW:]):
        return True
    for i in range(len(before) - 1, -1, -1):
        if before[i] in _SECOND_PERSON:
            return False
        if before[i] in _THIRD_PARTIES:
            return True
        if before[i] in _SUBJECTS:
            return not (i + 1 < len(before) and before[i + 1] in _REQUEST_VERBS)
    return False


def _blocked(compiled: _CompiledRule, clause: _Clause, start: int, banter: bool) -> bool:
    before = clause.tokens[:clause.text.count(" ", 0, start)]
    guards = compiled.rule.guards
    return (("negation" in guards and _negated(before, compiled.negations))
            or ("subject" in guards and _statement(before))
            or ("declarative" in guards and bool(before) and before[-1] in _PRONOUNS)
            or ("banter" in guards and banter))


def _free_text(message: _Message) -> Iterable[Classification]:
    """Each clause's first matching rule (in FREE_TEXT_RULES order), as a classification."""
    if not message.rules:
        return
    single = len(message.sentences) == 1 and len(message.sentences[0]) == 1
    for clause in message.clauses:
        for compiled in message.rules if single else _candidate_rules(clause.tokens):
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


# --- keyword rules ---------------------------------------------------------------------------


def _segments(tokens: Sequence[str], keywords: KeywordSet) -> list[_Segment] | None:
    """Splits tokens into keywords and filler phrases; None if they cannot be.

    Every split is considered ("stop all of it" is STOP + "all of it", not STOP ALL + "of it"),
    preferring longer phrases where two splits reach the same token.
    """
    reached: dict[int, tuple[int, _Segment]] = {}  # end of a phrase -> (its start, it)
    for i in range(len(tokens)):
        if i and i not in reached:
            continue
        for phrase, segment in keywords._phrases.get(tokens[i], ()):
            end = i + len(phrase)
            if end not in reached and tuple(tokens[i:end]) == phrase:
                reached[end] = (i, segment)
    if len(tokens) not in reached:
        return None
    segments: list[_Segment] = []
    end = len(tokens)
    while end:
        end, segment = reached[end]
        segments.append(segment)
    return segments[::-1]


def _keyword_reply(segments: Sequence[_Segment], question: bool) -> Classification | None:
    """The message (or clause) is keywords plus filler: which intent, which keyword, which scope."""
    found = [s for s in segments if isinstance(s, _Keyword)]
    if not found:
        return None
    fillers = [s for s in segments if isinstance(s, int)]
    campaigns = list(dict.fromkeys(k.canonical for k in found if k.campaign))
    opt_outs = [k for k in found if k.intent is Intent.OPT_OUT]
    if opt_outs:  # any opt-out word wins: "YES STOP" must not opt in
        strong = any(not k.everyday for k in opt_outs)
        allowed = _POLITE | _OPT_OUT_FILLER | _MESSAGES | (_OBJECT if strong else 0)
        scope = campaigns[0] if len(campaigns) == 1 else None
        return _reply(opt_outs[0], found, fillers, allowed=allowed, scope=scope,
                      filler_confidence=0.95)
    helps = [k for k in found if k.intent is Intent.HELP]
    if helps:  # "YES HELP" asks for help, it does not consent
        return _reply(helps[0], found, fillers, allowed=_POLITE | _HELP_FILLER, scope=None,
                      filler_confidence=0.95)
    if question or len(campaigns) > 1:
        return Classification(Intent.NONE, None, None, None, 0.5, "review:unclear_opt_in", True)
    plain = [k for k in found if not k.campaign]
    head = plain[0] if plain else found[0]
    return _reply(head, found, fillers, allowed=_POLITE,
                  scope=campaigns[0] if campaigns else None, filler_confidence=0.9)


def _reply(head: _Keyword, found: Sequence[_Keyword], fillers: Sequence[int], *, allowed: int,
           scope: str | None, filler_confidence: float) -> Classification | None:
    if any(not (flags & allowed) for flags in fillers):
        return None
    if fillers:
        rule, confidence = "short_reply", filler_confidence
    elif len(found) == 1:
        rule, confidence = "campaign" if head.campaign else "exact", 1.0
    elif len({k.canonical for k in found}) == 1:
        rule, confidence = "repeat", 1.0
    elif scope is not None and len(found) == 2:
        rule, confidence = "scoped", 1.0
    else:
        rule, confidence = "short_reply", filler_confidence
    return Classification(head.intent, head.canonical, scope, head.language, confidence, rule)


def _whole_message(message: _Message, keywords: KeywordSet) -> Classification | None:
    segments = _segments(message.tokens, keywords)
    reply = None if segments is None else _keyword_reply(segments, message.question)
    if reply is not None and message.banter and reply.rule == "short_reply":
        # "Stop it 😂": keep the opt-out (a missed STOP is worse) but ask for a look.
        return Classification(reply.intent, reply.keyword, reply.scope, reply.language,
                              reply.confidence, reply.rule, True)
    return reply


def _spelled_out(tokens: Sequence[str], question: bool,
                 keywords: KeywordSet) -> Classification | None:
    """"S T O P", "s.t.o.p": single letters spelling one keyword."""
    spelled = "".join(tokens)
    if len(tokens) < 2 or len(spelled) != len(tokens):
        return None
    keyword = keywords._keywords.get((spelled,))
    if keyword is None or (keyword.intent is Intent.OPT_IN and question):
        return None
    return Classification(keyword.intent, keyword.canonical,
                          keyword.canonical if keyword.campaign else None, keyword.language,
                          0.95, "spelled_out")


def _clause_keywords(message: _Message, keywords: KeywordSet) -> Iterable[Classification]:
    """A sentence that is a bare opt-out (or help) keyword inside a longer message."""
    if len(message.sentences) < 2:
        return
    last = message.sentences[-1]
    for sentence in message.sentences:
        tokens = [token for clause in sentence for token in clause.tokens]
        segments = None if sentence[0].question else _segments(tokens, keywords)
        reply = _keyword_reply(segments, False) if segments else None
        if reply is None or reply.intent is Intent.OPT_IN or reply.intent is Intent.NONE:
            continue
        head = keywords._keywords.get(_key(reply.keyword or ""))
        if reply.intent is Intent.OPT_OUT and (message.banter or head is None or head.everyday):
            continue  # "Cancel. I'll come tomorrow" is chat; "Stop 😂" is banter
        # A closing "...STOP." is a demand; an opening "Stop! ..." may be an exclamation.
        closing = sentence is last
        yield Classification(reply.intent, reply.keyword, reply.scope, reply.language,
                             0.9 if closing else 0.8, "clause_keyword",
                             reply.intent is Intent.OPT_OUT and not closing)


def _leading_keyword(message: _Message, keywords: KeywordSet) -> Classification | None:
    """"STOP JOHN", "Stop Mike": an opt-out keyword in capitals, or followed by a capitalised
    name, leading a short message. ("stop crying" stays chat.)"""
    if len(message.tokens) > kl.LEADING_MAX_WORDS or message.banter:
        return None
    for phrase, segment in keywords._phrases.get(message.tokens[0], ()):
        if (isinstance(segment, _Keyword) and segment.intent is Intent.OPT_OUT
                and not segment.everyday and message.tokens[:len(phrase)] == phrase):
            words = _TOKEN.findall(unicodedata.normalize("NFKC", message.body))
            named = len(words) > len(phrase) and all(w[0].isupper() for w in words[len(phrase):])
            if words and (words[0].isupper() or named):
                return Classification(Intent.OPT_OUT, segment.canonical, None, segment.language,
                                      0.7, "leading_keyword", True)
            return None
    return None


def _contrast(message: _Message, keywords: KeywordSet) -> Classification | None:
    """"I said STOP not START", "STOP, not HELP": an opt-out keyword set against another keyword
    says which one the subscriber meant. Only short messages whose other words are a plain
    lead-in ("I said", "I want to"); the reverse ("START not STOP") is never taken as consent."""
    tokens = message.tokens
    if len(tokens) > kl.CONTRAST_MAX_WORDS:
        return None
    for i in range(len(tokens) - 2):
        meant = keywords._keywords.get((tokens[i],))
        if (meant is not None and meant.intent is Intent.OPT_OUT and not meant.everyday
                and tokens[i + 1] in kl.CONTRAST_NEGATIONS
                and (tokens[i + 2],) in keywords._keywords
                and set(tokens[:i]) <= kl.CONTRAST_LEAD_WORDS
                and set(tokens[i + 3:]) <= kl.CONTRAST_LEAD_WORDS):
            return Classification(Intent.OPT_OUT, meant.canonical, None, meant.language, 0.9,
                                  "contrast")
    return None


# --- repair (opt-out only) -------------------------------------------------------------------

_LOOK_ALIKE_DIGITS = str.maketrans(dict(kl.LOOK_ALIKE_DIGITS))


def _longest_repair(keywords: Mapping[tuple[str, ...], _Keyword]) -> int:
    """Twice the longest keyword word, plus room for stretched letters ("STOOOOOP")."""
    return 2 * max(len(word) for key in keywords for word in key) + kl.REPAIR_SLACK


def _repaired_token(token: str, keywords: KeywordSet, short: bool) -> tuple[str, bool]:
    """The token with stretched letters undone and, in short messages, digits read as letters
    and one-key typos of opt-out keywords corrected. Returns (token, whether a typo was fixed)."""
    if len(token) > keywords._repairable_length:
        return token, False
    token = _STRETCHED.sub(r"\1", token)
    if not short or (token,) in keywords._keywords:
        return token, False
    # "ST0P" reads as STOP; "7pm" stays "7pm" (digits only count when they spell a keyword).
    read = token.translate(_LOOK_ALIKE_DIGITS) if not token.isalpha() else token
    if (read,) in keywords._keywords:
        return read, False
    typo = keywords._typos.get(read)
    if typo is None and len(read) >= kl.TYPO_LONG_LENGTH - 2:
        typo = next((t for t in keywords._long_typo_targets if _within_two_edits(read, t)), None)
    return (typo, True) if typo is not None else (token, False)


def _unglued(token: str, keywords: KeywordSet) -> tuple[str, ...]:
    """"stopplease", "stopstop": a keyword glued to a keyword or filler word by a missed space."""
    for i in range(2, len(token) - 1):
        head, tail = token[:i], token[i:]
        if head in keywords._phrases and tail in keywords._phrases:
            return head, tail
    return ()


_CHANGED, _UNGLUED = 1, 2


def _repairable(tokens: Sequence[str], keywords: KeywordSet) -> bool:
    """Whether _repaired would change a short message: a token it repairs, one glued word, or
    a keyword split by a stray space."""
    if len(tokens) == 1:
        return _repair_flags(tokens[0], keywords) != 0
    return _split_keyword(tokens, keywords) is not None or any(
        _repair_flags(token, keywords) & _CHANGED for token in tokens)


def _split_keyword(tokens: Sequence[str], keywords: KeywordSet) -> _Keyword | None:
    """"ST OP", "un subscribe": two or three tokens that join into an opt-out keyword."""
    if len(tokens) > kl.SPLIT_KEYWORD_MAX_PARTS:
        return None
    keyword = keywords._keywords.get(("".join(tokens),))
    return keyword if keyword is not None and keyword.intent is Intent.OPT_OUT else None


def _repair_flags(token: str, keywords: KeywordSet) -> int:
    """_CHANGED if _repaired_token changes the token, _UNGLUED if it splits in two (memoised)."""
    if len(token) > keywords._repairable_length:
        return 0  # never a keyword: and ungluing it would cost its length squared
    memo = keywords._repair_memo
    flags = memo.get(token)
    if flags is None:
        flags = (_CHANGED if _repaired_token(token, keywords, True)[0] != token else 0) | (
            _UNGLUED if _unglued(token, keywords) else 0)
        if len(memo) >= kl.REPAIR_MEMO_SIZE:
            memo.clear()
        memo[token] = flags
    return flags


def _repaired(message: _Message, keywords: KeywordSet) -> Classification | None:
    """Re-reads a message with repaired tokens; only an opt-out may come of it."""
    if not (_repairable(message.tokens, keywords) if message.short
            else _STRETCHED.search(message.folded)):
        return None
    split = _split_keyword(message.tokens, keywords) if len(message.tokens) > 1 else None
    if split is not None:
        return Classification(Intent.OPT_OUT, split.canonical, None, split.language, 0.9,
                              "repaired:split_keyword")
    typos: list[bool] = []

    def repair(clause: _Clause) -> _Clause:
        unglued = _unglued(clause.tokens[0], keywords) if len(message.tokens) == 1 else ()
        if unglued:
            return _clause(unglued, clause.question)
        fixed = [_repaired_token(token, keywords, message.short) for token in clause.tokens]
        typos.extend(was_typo for _, was_typo in fixed)
        return _clause([token for token, _ in fixed], clause.question)

    sentences = tuple(tuple(map(repair, sentence)) for sentence in message.sentences)
    tokens = [token for sentence in sentences for clause in sentence for token in clause.tokens]
    if tokens == list(message.tokens):
        return None
    repaired = _message(message.body, message.folded, sentences, message.short,
                        _candidate_rules(tokens))
    typo = any(typos)
    found = _whole_message(repaired, keywords) or _best(
        [*_clause_keywords(repaired, keywords), *_free_text(repaired)])
    if found is not None and found.intent is Intent.OPT_IN:  # "Yesss": keen, but not a keyword
        return Classification(Intent.NONE, None, None, None, 0.5, "review:unclear_opt_in", True)
    if found is None or found.intent is not Intent.OPT_OUT:
        return None
    return Classification(Intent.OPT_OUT, found.keyword, found.scope, found.language,
                          min(found.confidence, 0.8 if typo else 0.9),
                          f"repaired:{found.rule}", found.review or typo)


# --- review ----------------------------------------------------------------------------------

_STOP_PHRASALS = frozenset(kl.STOP_PHRASALS)


def _review(message: _Message, keywords: KeywordSet) -> Classification | None:
    """Short chat around a keyword ("stop? no way", "Yes sure"): intent none, for a human."""
    tokens = message.tokens
    if len(tokens) > kl.REVIEW_MAX_TOKENS:
        return None
    first = keywords._keywords.get(tokens[:1])
    if first is not None and first.intent is Intent.OPT_IN:
        return Classification(Intent.NONE, None, None, None, 0.5, "review:unclear_opt_in", True)
    for i, token in enumerate(tokens):
        keyword = keywords._keywords.get((token,))
        if keyword is None or keyword.intent is not Intent.OPT_OUT or keyword.everyday:
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if i == 0 and after not in _STOP_PHRASALS:
            return Classification(Intent.NONE, None, None, keyword.language, 0.5,
                                  "review:keyword_in_chat", True)
    return None


def _stop_emoji(body: str) -> Classification | None:
    """A message of only stop-sign emoji ("🛑", "✋🛑") is a reasonable "stop"; reviewed."""
    signs = [char for char in body  # skipping spaces, VS16, ZWJ and skin tones
             if not char.isspace() and unicodedata.category(char) != "Mn" and char != "\u200d"
             and not 0x1F3FB <= ord(char) <= 0x1F3FF]
    if signs and all(char in kl.STOP_EMOJI for char in signs):
        return Classification(Intent.OPT_OUT, None, None, None, 0.6, "stop_emoji", True)
    return None


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


def _classify_read(message: _Message, keywords: KeywordSet) -> Classification:
    """The rules in order: keywords, free text, repair, review (see the module docstring)."""
    candidates: list[Classification] = []
    keyworded = not keywords._keyword_tokens.isdisjoint(message.tokens)
    if keyworded:  # the keyword rules need a keyword token
        whole = _whole_message(message, keywords)
        if whole is not None and not whole.review:
            return whole
        candidates.extend(() if whole is None else (whole,))
        candidates.extend(_clause_keywords(message, keywords))
        leading = _leading_keyword(message, keywords)
        candidates.extend(() if leading is None else (leading,))
        contrast = _contrast(message, keywords)
        candidates.extend(() if contrast is None else (contrast,))
    candidates.extend(_free_text(message))
    found = _best(candidates)
    if found is not None and found.intent is Intent.OPT_OUT and not found.review:
        return found
    repaired = _repaired(message, keywords)
    if repaired is not None and (found is None or found.intent is not Intent.OPT_OUT):
        return repaired
    return found or (_review(message, keywords) if keyworded else None) or NO_INTENT


DEFAULT_KEYWORDS = KeywordSet.build()


def classify(body: str, keywords: KeywordSet = DEFAULT_KEYWORDS) -> Classification:
    """Classifies one inbound text as opt_out, opt_in, help or none (see the module docstring)."""
    folded = _fold(body)
    tokens = _TOKEN.findall(folded)
    if len(tokens) == 1 and tokens[0] in keywords._alone:
        alone = keywords._alone[tokens[0]]
        if alone.intent is not Intent.OPT_IN or "?" not in folded:
            return alone
    if len(tokens) > 1 and len(tokens[0]) == 1:
        spelled = _spelled_out(tokens, "?" in folded, keywords)
        if spelled is not None:
            return spelled
    short = len(tokens) <= kl.REPAIR_MAX_WORDS
    rules = _candidate_rules(tokens)
    if (not rules and keywords._keyword_tokens.isdisjoint(tokens)
            and not (short and _repairable(tokens, keywords))):
        # Ordinary chat: no keyword, no rule's words, nothing a typo repair would change.
        return NO_INTENT if tokens or body.isascii() else _stop_emoji(body) or NO_INTENT
    return _classify_read(_read(body, folded, tokens, short, rules), keywords)
