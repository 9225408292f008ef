"""The keyword rules: a message (or one of its sentences) made of keywords and filler, spelled out,
led by a keyword, or a keyword set against another; and short chat around a keyword to review."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from processor.domain.classify import tuning
from processor.domain.classify.classification import Classification
from processor.domain.classify.keyword import (
    HELP_FILLER,
    MESSAGES,
    OBJECT,
    OPT_OUT_FILLER,
    POLITE,
    Keyword,
    Segment,
    key_of,
)
from processor.domain.classify.normalise import TOKEN
from processor.domain.classify.reading import Message
from processor.domain.classify.words import en, mixed
from processor.domain.models.enums import Intent

if TYPE_CHECKING:
    from processor.domain.classify.keyword_sets import KeywordSet



def split_segments(tokens: Sequence[str], keywords: KeywordSet) -> list[Segment] | None:
    """Splits tokens into keywords and filler phrases; None if they cannot be.

    Every split is considered ("stop all of it" is STOP + "all of it", not STOP ALL + "of it"),
    preferring longer phrases where two splits reach the same token.
    """
    reached: dict[int, tuple[int, Segment]] = {}  # end of a phrase -> (its start, it)
    for i in range(len(tokens)):
        if i and i not in reached:
            continue
        for phrase, segment in keywords._phrases.get(tokens[i], ()):
            end = i + len(phrase)
            if end not in reached and tuple(tokens[i:end]) == phrase:
                reached[end] = (i, segment)
    if len(tokens) not in reached:
        return None
    segments: list[Segment] = []
    end = len(tokens)
    while end:
        end, segment = reached[end]
        segments.append(segment)
    return segments[::-1]


def keyword_reply(segments: Sequence[Segment], question: bool) -> Classification | None:
    """The message (or clause) is keywords plus filler: which intent, which keyword, which scope."""
    found = [s for s in segments if isinstance(s, Keyword)]
    if not found:
        return None
    fillers = [s for s in segments if isinstance(s, int)]
    campaigns = list(dict.fromkeys(k.canonical for k in found if k.campaign))
    opt_outs = [k for k in found if k.intent is Intent.OPT_OUT]
    if opt_outs:  # any opt-out word wins: "YES STOP" must not opt in
        strong = any(not k.everyday for k in opt_outs)
        allowed = POLITE | OPT_OUT_FILLER | MESSAGES | (OBJECT if strong else 0)
        scope = campaigns[0] if len(campaigns) == 1 else None
        return _reply(opt_outs[0], found, fillers, allowed=allowed, scope=scope,
                      filler_confidence=0.95)
    helps = [k for k in found if k.intent is Intent.HELP]
    if helps:  # "YES HELP" asks for help, it does not consent
        return _reply(helps[0], found, fillers, allowed=POLITE | HELP_FILLER, scope=None,
                      filler_confidence=0.95)
    if question or len(campaigns) > 1:
        return Classification(Intent.NONE, None, None, None, 0.5, "review:unclear_opt_in", True)
    plain = [k for k in found if not k.campaign]
    head = plain[0] if plain else found[0]
    return _reply(head, found, fillers, allowed=POLITE,
                  scope=campaigns[0] if campaigns else None, filler_confidence=0.9)


def _reply(head: Keyword, found: Sequence[Keyword], fillers: Sequence[int], *, allowed: int,
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


def whole_message(message: Message, keywords: KeywordSet) -> Classification | None:
    segments = split_segments(message.tokens, keywords)
    reply = None if segments is None else keyword_reply(segments, message.question)
    if reply is not None and message.banter and reply.rule == "short_reply":
        # "Stop it 😂": keep the opt-out (a missed STOP is worse) but ask for a look.
        return Classification(reply.intent, reply.keyword, reply.scope, reply.language,
                              reply.confidence, reply.rule, True)
    return reply


def spelled_out(tokens: Sequence[str], question: bool,
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


def clause_keywords(message: Message, keywords: KeywordSet) -> Iterable[Classification]:
    """A sentence that is a bare opt-out (or help) keyword inside a longer message."""
    if len(message.sentences) < 2:
        return
    last = message.sentences[-1]
    for sentence in message.sentences:
        tokens = [token for clause in sentence for token in clause.tokens]
        segments = None if sentence[0].question else split_segments(tokens, keywords)
        reply = keyword_reply(segments, False) if segments else None
        if reply is None or reply.intent is Intent.OPT_IN or reply.intent is Intent.NONE:
            continue
        head = keywords._keywords.get(key_of(reply.keyword or ""))
        if reply.intent is Intent.OPT_OUT and (message.banter or head is None or head.everyday):
            continue  # "Cancel. I'll come tomorrow" is chat; "Stop 😂" is banter
        # A closing "...STOP." is a demand; an opening "Stop! ..." may be an exclamation.
        closing = sentence is last
        yield Classification(reply.intent, reply.keyword, reply.scope, reply.language,
                             0.9 if closing else 0.8, "clause_keyword",
                             reply.intent is Intent.OPT_OUT and not closing)


def leading_keyword(message: Message, keywords: KeywordSet) -> Classification | None:
    """"STOP JOHN", "Stop Mike": an opt-out keyword in capitals, or followed by a capitalised
    name, leading a short message. ("stop crying" stays chat.)"""
    if len(message.tokens) > tuning.LEADING_MAX_WORDS or message.banter:
        return None
    for phrase, segment in keywords._phrases.get(message.tokens[0], ()):
        if (isinstance(segment, Keyword) and segment.intent is Intent.OPT_OUT
                and not segment.everyday and message.tokens[:len(phrase)] == phrase):
            words = TOKEN.findall(unicodedata.normalize("NFKC", message.body))
            named = len(words) > len(phrase) and all(w[0].isupper() for w in words[len(phrase):])
            if words and (words[0].isupper() or named):
                return Classification(Intent.OPT_OUT, segment.canonical, None, segment.language,
                                      0.7, "leading_keyword", True)
            return None
    return None


def contrasted_keyword(message: Message, keywords: KeywordSet) -> Classification | None:
    """"I said STOP not START", "STOP, not HELP": an opt-out keyword set against another keyword
    says which one the subscriber meant. Only short messages whose other words are a plain
    lead-in ("I said", "I want to"); the reverse ("START not STOP") is never taken as consent."""
    tokens = message.tokens
    if len(tokens) > tuning.CONTRAST_MAX_WORDS:
        return None
    for i in range(len(tokens) - 2):
        meant = keywords._keywords.get((tokens[i],))
        if (meant is not None and meant.intent is Intent.OPT_OUT and not meant.everyday
                and tokens[i + 1] in mixed.CONTRAST_NEGATIONS
                and (tokens[i + 2],) in keywords._keywords
                and set(tokens[:i]) <= mixed.CONTRAST_LEAD_WORDS
                and set(tokens[i + 3:]) <= mixed.CONTRAST_LEAD_WORDS):
            return Classification(Intent.OPT_OUT, meant.canonical, None, meant.language, 0.9,
                                  "contrast")
    return None


# --- review ----------------------------------------------------------------------------------

_STOP_PHRASALS = frozenset(en.STOP_PHRASALS)


def review_of(message: Message, keywords: KeywordSet) -> Classification | None:
    """Short chat around a keyword ("stop? no way", "Yes sure"): intent none, for a human."""
    tokens = message.tokens
    if len(tokens) > tuning.REVIEW_MAX_TOKENS:
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


def stop_emoji(body: str) -> Classification | None:
    """A message of only stop-sign emoji ("🛑", "✋🛑") is a reasonable "stop"; reviewed."""
    signs = [char for char in body  # skipping spaces, VS16, ZWJ and skin tones
             if not char.isspace() and unicodedata.category(char) != "Mn" and char != "\u200d"
             and not 0x1F3FB <= ord(char) <= 0x1F3FF]
    if signs and all(char in mixed.STOP_EMOJI for char in signs):
        return Classification(Intent.OPT_OUT, None, None, None, 0.6, "stop_emoji", True)
    return None
