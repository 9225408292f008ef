"""A gateway's keywords (``KeywordSet``): the default STOP/START/HELP families per language, its
custom and campaign keywords, checked and indexed once so that classify() stays cheap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from processor.domain.classify.classification import Classification, KeywordConfigError
from processor.domain.classify.keyword import (
    FILLERS,
    RESERVED_FILLER,
    Keyword,
    Phrase,
    canonical_of,
    compact_of,
    key_of,
)
from processor.domain.classify.keyword_rules import keyword_reply
from processor.domain.classify.languages import EVERYDAY_OPT_OUT, HELP, LANGUAGES, OPT_IN, OPT_OUT
from processor.domain.classify.typos import longest_repair, reject_typo_collisions, typo_tables
from processor.domain.classify.words import en
from processor.domain.models.enums import Intent


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
    _keywords: Mapping[tuple[str, ...], Keyword] = field(compare=False, repr=False)
    _phrases: Mapping[str, tuple[Phrase, ...]] = field(compare=False, repr=False)
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
              verification: str = en.DEFAULT_VERIFICATION,
              languages: Iterable[str] = LANGUAGES, exclude: Iterable[str] = ()) -> KeywordSet:
        """Defaults plus the gateway's custom keywords; `exclude` removes default keywords
        (STOP, START, HELP and the FCC's words cannot be removed -> KeywordConfigError). A
        keyword with two meanings (e.g. custom opt-in "STOP", campaign keyword "HELP", or the
        same word as opt-in and opt-out across languages) -> KeywordConfigError naming it."""
        enabled = _checked_languages(languages)
        keywords: dict[tuple[str, ...], Keyword] = {}
        excluded = _checked_exclusions(exclude)
        custom: set[tuple[str, str]] = set()
        for table, intent in ((OPT_OUT, Intent.OPT_OUT), (OPT_IN, Intent.OPT_IN),
                              (HELP, Intent.HELP)):
            for language in LANGUAGES:
                if language in enabled:
                    for word in table[language]:
                        if key_of(word) not in excluded:
                            _add(keywords, word, _default_keyword(intent, word, language), "")
        for words, intent, is_campaign, origin in (
                (opt_out, Intent.OPT_OUT, False, "opt_out"),
                (opt_in, Intent.OPT_IN, False, "opt_in"),
                (help, Intent.HELP, False, "help"),
                (campaign, Intent.OPT_IN, True, "campaign")):
            for word in _checked_words(words, origin):
                _add(keywords, word, Keyword(intent, canonical_of(word), None, is_campaign), origin)
                custom.add((origin, canonical_of(word)))
        verification_word = _checked_words((verification,), "verification")[0]
        _add(keywords, verification_word,
             Keyword(Intent.OPT_IN, canonical_of(verification_word), None), "verification")
        typos, long_targets = typo_tables(keywords)
        reject_typo_collisions(keywords, typos, long_targets)
        typos = {variant: target for variant, target in typos.items()
                 if (variant,) not in keywords}  # a keyword means itself, never a typo
        typos.update(en.SLANG_SPELLINGS)
        return cls(
            verification=canonical_of(verification_word),
            campaign=frozenset(k.canonical for k in keywords.values() if k.campaign),
            languages=frozenset(enabled),
            custom=frozenset(custom),
            excluded=frozenset(" ".join(key).upper() for key in excluded),
            _keywords=keywords,
            _phrases=_phrase_index(keywords),
            _typos=typos,
            _long_typo_targets=long_targets,
            _repairable_length=longest_repair(keywords),
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
        verification = data.get("verification", en.DEFAULT_VERIFICATION)
        if not isinstance(verification, str):
            raise KeywordConfigError(
                f"keywords.verification must be a string, not {verification!r}"
                f"{_YAML_HINT if isinstance(verification, bool) else ''}")
        return cls.build(verification=verification, **lists)

    def is_verification(self, keyword: str | None) -> bool:
        """Whether a classified keyword is this gateway's double-opt-in confirmation word."""
        return keyword is not None and canonical_of(keyword) == self.verification


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


def _default_keyword(intent: Intent, word: str, language: str) -> Keyword:
    everyday = key_of(word) in _EVERYDAY
    return Keyword(intent, canonical_of(word), language, everyday=everyday)


_EVERYDAY = frozenset(key_of(word) for word in EVERYDAY_OPT_OUT)
_MANDATORY = {key_of(word): word for word in en.MANDATORY}
_DEFAULT_WORDS = frozenset(key_of(word) for table in (OPT_OUT, OPT_IN, HELP)
                           for words in table.values() for word in words)


def _checked_languages(languages: Iterable[str]) -> frozenset[str]:
    enabled = frozenset(languages)
    unknown = sorted(enabled - set(LANGUAGES))
    if unknown:
        raise KeywordConfigError(f"unknown language(s) {', '.join(map(repr, unknown))}; "
                                 f"known: {', '.join(LANGUAGES)}")
    return enabled | {"en"}  # English is the carriers' and the FCC's language: always on


def _checked_exclusions(exclude: Iterable[str]) -> frozenset[tuple[str, ...]]:
    keys = set()
    for word in _checked_words(exclude, "exclude"):
        key = key_of(word)
        if key in _MANDATORY or compact_of(key) in {compact_of(k) for k in _MANDATORY}:
            raise KeywordConfigError(
                f"keyword {word!r} cannot be excluded: STOP, START, HELP and the FCC's "
                f"revocation words ({', '.join(en.MANDATORY)}) are always on")
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
        if not key_of(word):
            raise KeywordConfigError(f"{origin} keyword {word!r} has no letters or digits")
        if FILLERS.get(key_of(word), 0) & RESERVED_FILLER:
            raise KeywordConfigError(
                f"{origin} keyword {word!r} is a politeness/filler word the classifier reads "
                f"around keywords; pick another keyword")
        checked.append(word)
    return checked


def _add(keywords: dict[tuple[str, ...], Keyword], word: str, keyword: Keyword,
         origin: str) -> None:
    """Adds a keyword under its tokens ("OPT-OUT" -> opt, out) and its compact form (optout)."""
    key = key_of(word)
    for variant in dict.fromkeys((key, (compact_of(key),))):
        existing = keywords.get(variant)
        if existing is None:
            keywords[variant] = keyword
        elif _meaning(existing) != _meaning(keyword):
            raise KeywordConfigError(
                f"keyword {word!r} has two meanings: {_describe(existing)} and "
                f"{_describe(keyword)}{f' (from {origin})' if origin else ''}")


def _meaning(keyword: Keyword) -> tuple[Intent, bool, str | None]:
    return keyword.intent, keyword.campaign, keyword.canonical if keyword.campaign else None


def _describe(keyword: Keyword) -> str:
    kind = "campaign" if keyword.campaign else keyword.intent.value
    return f"{kind} ({keyword.canonical}{f', {keyword.language}' if keyword.language else ''})"


def _phrase_index(keywords: Mapping[tuple[str, ...], Keyword]) -> dict[str, tuple[Phrase, ...]]:
    """First token -> the keyword and filler phrases starting with it, longest first."""
    phrases: dict[str, list[Phrase]] = {}
    for key, keyword in keywords.items():  # keywords first: they win over an equal filler
        phrases.setdefault(key[0], []).append((key, keyword))
    for key, flags in FILLERS.items():
        phrases.setdefault(key[0], []).append((key, flags))
    return {first: tuple(sorted(found, key=lambda phrase: -len(phrase[0])))
            for first, found in phrases.items()}


def _alone_results(keywords: Mapping[tuple[str, ...], Keyword]) -> dict[str, Classification]:
    """What a message made of one keyword token means: the commonest case, precomputed."""
    results = {}
    for key, keyword in keywords.items():
        if len(key) == 1:
            reply = keyword_reply([keyword], question=False)
            if reply is not None:
                results[key[0]] = reply
    return results


# The keywords of a gateway that configures none.
DEFAULT_KEYWORDS = KeywordSet.build()
