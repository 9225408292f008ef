"""The keyword classifier: the labelled table with its figures, properties, keyword sets."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.domain.classify import classifier, free_text, languages, typos
from processor.domain.classify.classification import Classification, KeywordConfigError
from processor.domain.classify.classifier import classify
from processor.domain.classify.keyword_sets import DEFAULT_KEYWORDS, KeywordSet
from processor.domain.classify.normalise import TOKEN, fold, normalise, tokens_of
from processor.domain.classify.reading import read_message
from processor.domain.classify.words import en, mixed
from processor.domain.models.enums import Intent

TABLE = Path(__file__).resolve().parents[1] / "data" / "classifier_labelled.jsonl"
# Categories where every message must come out exactly as labelled.
EXACT_CATEGORIES = ("exact", "variant", "unicode", "language", "short_reply")
FREE_TEXT_MIN_RECALL = 0.90
CHAT_MAX_FALSE_OPT_OUT = 0.03
TYPO_MIN_RECALL = 0.90
REVIEW_MIN_ACCURACY = 0.90


@dataclass(frozen=True, slots=True)
class Row:
    category: str
    body: str
    intent: Intent
    keyword: str | None
    scope: str | None
    language: str | None
    review: bool | None


@dataclass(frozen=True, slots=True)
class Outcome:
    row: Row
    got: Classification

    @property
    def correct(self) -> bool:
        row, got = self.row, self.got
        return (got.intent is row.intent
                and (row.keyword is None or got.keyword == row.keyword)
                and (row.scope is None or got.scope == row.scope)
                and (row.language is None or row.category != "language"
                     or got.language == row.language)
                and (row.review is None or got.review == row.review))


def load_table() -> list[Row]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        raw = json.loads(line)
        rows.append(Row(raw["category"], raw["body"], Intent(raw["intent"]), raw.get("keyword"),
                        raw.get("scope"), raw.get("language"), raw.get("review")))
    return rows


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    return [Outcome(row, classify(row.body)) for row in load_table()]


def report(outcomes: list[Outcome]) -> str:
    """Per-category accuracy and per-intent precision/recall, as the test prints them."""
    lines = [f"labelled table: {len(outcomes)} messages"]
    by_category: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_category.setdefault(outcome.row.category, []).append(outcome)
    for category, group in by_category.items():
        right = sum(o.correct for o in group)
        lines.append(f"  {category:12} {right:4}/{len(group):<4} {right / len(group):7.1%}")
    for intent in Intent:
        predicted = sum(o.got.intent is intent for o in outcomes)
        actual = sum(o.row.intent is intent for o in outcomes)
        hits = sum(o.got.intent is intent and o.row.intent is intent for o in outcomes)
        precision = hits / predicted if predicted else 1.0
        recall = hits / actual if actual else 1.0
        lines.append(f"  {intent.value:8} precision {precision:7.1%}  recall {recall:7.1%}"
                     f"  ({hits} of {actual} labelled, {predicted} predicted)")
    wrong = [o for o in outcomes if not o.correct]
    lines.extend(f"  wrong [{o.row.category}] {o.row.body!r}: expected {o.row.intent.value}, got "
                 f"{o.got.intent.value} ({o.got.rule})" for o in wrong)
    return "\n".join(lines)


def share(outcomes: list[Outcome], category: str, good: bool) -> float:
    group = [o for o in outcomes if o.row.category == category]
    assert group, f"no {category} rows in the table"
    return sum(o.correct is good for o in group) / len(group)


def test_the_table_is_large_and_varied(outcomes: list[Outcome]) -> None:
    categories = Counter(o.row.category for o in outcomes)
    assert len(outcomes) >= 300
    assert set(categories) >= {*EXACT_CATEGORIES, "free_text", "chat", "review", "typo"}
    assert categories["chat"] >= 100


def test_figures(outcomes: list[Outcome], capsys: pytest.CaptureFixture[str]) -> None:
    text = report(outcomes)
    with capsys.disabled():
        print("\n" + text)
    for category in EXACT_CATEGORIES:
        assert share(outcomes, category, good=True) == 1.0, text
    false_opt_ins = [o for o in outcomes
                     if o.got.intent is Intent.OPT_IN and o.row.intent is not Intent.OPT_IN]
    assert not false_opt_ins, text
    free_text = [o for o in outcomes if o.row.category == "free_text"]
    recall = sum(o.got.intent is Intent.OPT_OUT for o in free_text) / len(free_text)
    assert recall >= FREE_TEXT_MIN_RECALL, text
    chat = [o for o in outcomes if o.row.category == "chat"]
    false_opt_outs = sum(o.got.intent is Intent.OPT_OUT for o in chat) / len(chat)
    assert false_opt_outs <= CHAT_MAX_FALSE_OPT_OUT, text
    assert share(outcomes, "typo", good=True) >= TYPO_MIN_RECALL, text
    assert share(outcomes, "review", good=True) >= REVIEW_MIN_ACCURACY, text


def test_confidence_is_certain_only_for_keywords(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        got = outcome.got
        if outcome.row.category == "exact":
            assert got.confidence == 1.0, outcome
        if got.rule.startswith(("free_text:", "repaired:", "review:")):
            assert got.confidence < 1.0, outcome


def test_every_free_text_rule_fires_on_the_table(outcomes: list[Outcome]) -> None:
    fired = {o.got.rule.rsplit(":", 1)[-1] for o in outcomes}
    assert [rule.name for rule in languages.FREE_TEXT_RULES if rule.name not in fired] == []


def test_rule_needs_are_necessary(outcomes: list[Outcome]) -> None:
    """Whenever a rule's pattern matches a clause, the clause holds its `needs` words: the
    needs (and so the gate built from them) never hide a match."""
    for outcome in outcomes:
        folded = fold(outcome.row.body)
        message = read_message(outcome.row.body, folded, TOKEN.findall(folded), True, ())
        for clause in message.clauses:
            for compiled in free_text.RULES:
                if compiled.regex.search(clause.text):
                    missing = [group for group in compiled.needs
                               if group.isdisjoint(clause.tokens)]
                    assert not missing, (compiled.rule.name, clause.text)


# --- the brief's cases, one by one ----------------------------------------------------------


@pytest.mark.parametrize(("body", "intent", "keyword", "rule"), [
    ("STOP", Intent.OPT_OUT, "STOP", "exact"),
    ("STOP STOP", Intent.OPT_OUT, "STOP", "repeat"),
    ("stop all of it", Intent.OPT_OUT, "STOP", "short_reply"),
    ("STOP. Thank you", Intent.OPT_OUT, "STOP", "short_reply"),
    ("Stop, wrong number", Intent.OPT_OUT, "STOP", "short_reply"),
    ("ARRÊT", Intent.OPT_OUT, "ARRET", "exact"),
    ("Please stop texting me", Intent.OPT_OUT, None, "free_text:stop_texting_me"),
    ("take me off your list", Intent.OPT_OUT, None, "free_text:take_me_off"),
    ("YES", Intent.OPT_IN, "YES", "exact"),
    ("Yes please", Intent.OPT_IN, "YES", "short_reply"),
    ("Yes I'll be there at 10", Intent.NONE, None, "none"),
    ("HELP", Intent.HELP, "HELP", "exact"),
    ("help me move this weekend", Intent.NONE, None, "none"),
    ("I can't stop laughing", Intent.NONE, None, "none"),
])
def test_brief_cases(body: str, intent: Intent, keyword: str | None, rule: str) -> None:
    got = classify(body)
    assert (got.intent, got.keyword, got.rule) == (intent, keyword, rule)


def test_free_text_is_less_than_certain() -> None:
    got = classify("don't text me anymore")
    assert got.intent is Intent.OPT_OUT and got.confidence < 1.0 and got.keyword is None


def test_a_question_is_not_consent_but_is_flagged() -> None:
    got = classify("YES?")
    assert got.intent is Intent.NONE and got.review


def test_a_question_still_stops() -> None:
    assert classify("STOP?").intent is Intent.OPT_OUT
    assert classify("how do I stop these?").intent is Intent.OPT_OUT


def test_negation_keeps_the_subscriber() -> None:
    for body in ("don't stop", "I don't want to unsubscribe", "never stop"):
        assert classify(body).intent is Intent.NONE, body


# Chat opening with "No" and a word that is not about messages is not "no messages"
# (issue 15: "No sh*t, but I wasn't surprised" opted the phone out). The true cases stay.
@pytest.mark.parametrize("body", [
    "No sh*t, but I wasn't surprised…", "No shit, but I wasn't surprised…", "No shit",
    "No shit!", "No shit, Sherlock", "no crap, really?", "No bs, I saw it myself",
    "No bullshit, I mean it", "No way!", "No problem, see you at 5", "No worries",
    "No stuff left at the store, sorry", "no garbage", "No nonsense", "No junk",
])
def test_no_and_a_word_not_about_messages_is_chat(body: str) -> None:
    assert classify(body).intent is Intent.NONE, classify(body)


@pytest.mark.parametrize("body", [
    "No more texts", "no more messages please", "No thanks, stop", "No texts please",
    "no spam", "No messages anymore", "no more texting me", "No more", "stop this crap",
    "stop sending me this shit", "no more crap", "No alerts",
])
def test_no_and_the_messages_still_opts_out(body: str) -> None:
    assert classify(body).intent is Intent.OPT_OUT, classify(body)


def test_normalise() -> None:
    assert normalise("  ＳＴＯＰ\u200b!! 🛑 ") == "stop"
    assert normalise("“Arrêt”") == "arret"
    assert normalise("Stop,\u00a0 \n wrong   number.") == "stop, wrong number"


# --- properties -----------------------------------------------------------------------------

ALL_DEFAULT_KEYWORDS = sorted({
    word for table in (languages.OPT_OUT, languages.OPT_IN, languages.HELP)
    for words in table.values() for word in words})
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
WHITESPACE = " \t\n\u00a0\u3000\u2009"
# "?" is left out on purpose: "YES?" is a question, not consent (see the test above).
TRAILING_PUNCTUATION = ".!,;:…"


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    """A default keyword, and the same keyword in a random case, with whitespace around it,
    punctuation after it and zero-width characters around and inside it."""
    keyword = draw(st.sampled_from(ALL_DEFAULT_KEYWORDS))
    cased = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in keyword)
    chars = list(cased)
    for _ in range(draw(st.integers(0, 3))):
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(ZERO_WIDTH)))
    before = draw(st.text(alphabet=WHITESPACE, max_size=3))
    after = draw(st.text(alphabet=WHITESPACE, max_size=3))
    punctuation = draw(st.text(alphabet=TRAILING_PUNCTUATION, max_size=4))
    return keyword, before + "".join(chars) + punctuation + after


@given(disguised())
@settings(max_examples=500)
def test_disguises_never_change_a_keywords_intent(case: tuple[str, str]) -> None:
    keyword, body = case
    assert classify(body).intent is classify(keyword).intent, (keyword, body)


@given(st.sampled_from(ALL_DEFAULT_KEYWORDS))
def test_every_default_keyword_classifies_as_itself(keyword: str) -> None:
    got = classify(keyword)
    assert got.intent is not Intent.NONE and got.confidence == 1.0


@given(st.text(max_size=200))
@settings(max_examples=500)
def test_any_text_classifies_and_only_keywords_opt_in(body: str) -> None:
    got = classify(body)
    assert 0.0 <= got.confidence <= 1.0
    if got.intent is Intent.OPT_IN:
        assert got.rule in {"exact", "repeat", "short_reply", "campaign", "scoped", "spelled_out"}


OPT_OUT_KEYWORDS = sorted({word for words in languages.OPT_OUT.values() for word in words})
OPT_IN_KEYWORDS = sorted({word for words in languages.OPT_IN.values() for word in words})


@given(st.sampled_from(OPT_OUT_KEYWORDS), st.sampled_from(mixed.POLITENESS + mixed.OPT_OUT_FILLERS),
       st.booleans())
def test_politeness_around_an_opt_out_keyword_still_opts_out(keyword: str, filler: str,
                                                             before: bool) -> None:
    body = f"{filler}, {keyword}" if before else f"{keyword}, {filler}"
    assert classify(body).intent is Intent.OPT_OUT, body


@given(st.sampled_from(OPT_IN_KEYWORDS), st.from_regex(r"[a-z]{2,9}", fullmatch=True))
def test_an_opt_in_keyword_with_any_other_word_is_not_consent(keyword: str, word: str) -> None:
    """"Yes I'll be there" is not consent: only politeness may ride along with an opt-in."""
    riders = {token for phrase in mixed.POLITENESS for token in phrase.split()}
    if word in riders or word in {k.lower() for k in ALL_DEFAULT_KEYWORDS}:
        return
    for body in (f"{keyword} {word}", f"{word} {keyword}"):
        assert classify(body).intent is not Intent.OPT_IN, body


@given(st.sampled_from(ALL_DEFAULT_KEYWORDS), st.sampled_from(["YES", "START", "HELP", "INFO"]))
def test_an_opt_out_word_beats_any_other_keyword(first: str, second: str) -> None:
    if classify(first).intent is Intent.OPT_OUT:
        assert classify(f"{first} {second}").intent is Intent.OPT_OUT
        assert classify(f"{second} {first}").intent is Intent.OPT_OUT


def test_no_filler_phrase_holds_a_keyword() -> None:
    """Longer phrases win: a filler such as "ya basta" would swallow the keyword BASTA."""
    keywords = {" ".join(tokens_of(word)) for word in ALL_DEFAULT_KEYWORDS}
    fillers = (mixed.POLITENESS + en.SIGNATURES + mixed.OPT_OUT_FILLERS + en.KEYWORD_OBJECTS
               + mixed.MESSAGING_NOUNS + en.HELP_FILLERS)
    assert [(filler, keyword) for filler in fillers for keyword in keywords
            if f" {keyword} " in f" {' '.join(tokens_of(filler))} "] == []


# --- keyword sets ---------------------------------------------------------------------------


def test_custom_keywords_work() -> None:
    keywords = KeywordSet.build(opt_out=["ENDALL"], opt_in=["JOIN"], help=["SUPPORT"])
    assert (classify("endall", keywords).intent, classify("endall", keywords).keyword) == (
        Intent.OPT_OUT, "ENDALL")
    assert classify("Join please", keywords).intent is Intent.OPT_IN
    assert classify("SUPPORT", keywords).intent is Intent.HELP
    assert classify("STOP", keywords).intent is Intent.OPT_OUT


def test_campaign_keywords_give_a_scope() -> None:
    keywords = KeywordSet.build(campaign=["VOLUNTEER", "DONATE2026"])
    assert keywords.campaign == frozenset({"VOLUNTEER", "DONATE2026"})
    joined = classify("volunteer", keywords)
    assert (joined.intent, joined.keyword, joined.scope, joined.rule) == (
        Intent.OPT_IN, "VOLUNTEER", "VOLUNTEER", "campaign")
    assert classify("Volunteer please!", keywords).scope == "VOLUNTEER"
    scoped = classify("STOP VOLUNTEER", keywords)
    assert (scoped.intent, scoped.keyword, scoped.scope) == (Intent.OPT_OUT, "STOP", "VOLUNTEER")
    assert classify("stop donate2026", keywords).scope == "DONATE2026"
    assert classify("STOP", keywords).scope is None
    assert classify("I want to volunteer", keywords).intent is Intent.NONE


def test_two_campaigns_in_one_opt_in_are_not_guessed() -> None:
    keywords = KeywordSet.build(campaign=["VOLUNTEER", "DONATE2026"])
    got = classify("VOLUNTEER DONATE2026", keywords)
    assert got.intent is Intent.NONE and got.review
    assert classify("STOP VOLUNTEER DONATE2026", keywords).scope is None


def test_verification_keyword() -> None:
    assert DEFAULT_KEYWORDS.verification == "YES"
    assert DEFAULT_KEYWORDS.is_verification(classify("yes").keyword)
    assert not DEFAULT_KEYWORDS.is_verification(classify("START").keyword)
    assert not DEFAULT_KEYWORDS.is_verification(None)
    keywords = KeywordSet.build(verification="Confirm")
    got = classify("CONFIRM", keywords)
    assert (got.intent, got.keyword) == (Intent.OPT_IN, "CONFIRM")
    assert keywords.is_verification(got.keyword)
    assert keywords.is_verification(classify("confirm please", keywords).keyword)


def test_languages_switched_off() -> None:
    english = KeywordSet.build(languages=["en"])
    assert classify("ARRET", english).intent is Intent.NONE
    assert classify("PARAR", english).intent is Intent.NONE
    assert classify("ARRET").intent is Intent.OPT_OUT
    assert classify("STOP", english).intent is Intent.OPT_OUT
    assert english.languages == frozenset({"en"})


def test_languages_switched_off_free_up_their_words() -> None:
    assert classify("PARAR", KeywordSet.build(languages=["en"], opt_in=["PARAR"])).intent is (
        Intent.OPT_IN)


@pytest.mark.parametrize(("settings_", "named"), [
    ({"opt_in": ["STOP"]}, "STOP"),
    ({"campaign": ["HELP"]}, "HELP"),
    ({"opt_in": ["PARAR"]}, "PARAR"),
    ({"opt_out": ["JOIN"], "opt_in": ["JOIN"]}, "JOIN"),
    ({"opt_in": ["VOLUNTEER"], "campaign": ["VOLUNTEER"]}, "VOLUNTEER"),
    ({"verification": "INFO"}, "INFO"),
    ({"opt_in": ["OPT-OUT"]}, "OPT-OUT"),
])
def test_a_keyword_with_two_meanings_is_rejected(settings_: dict[str, object],
                                                  named: str) -> None:
    with pytest.raises(KeywordConfigError, match=named):
        KeywordSet.from_mapping(settings_)


@pytest.mark.parametrize("word", ["STOP", "START", "HELP", "stop", "UNSUBSCRIBE", "OPTOUT"])
def test_mandatory_keywords_cannot_be_excluded(word: str) -> None:
    with pytest.raises(KeywordConfigError, match=word):
        KeywordSet.build(exclude=[word])


def test_excluding_a_default_keyword() -> None:
    keywords = KeywordSet.build(exclude=["INFO"])
    assert classify("INFO", keywords).intent is Intent.NONE
    assert classify("HELP", keywords).intent is Intent.HELP
    reused = KeywordSet.build(exclude=["INFO"], campaign=["INFO"])
    assert classify("info", reused).scope == "INFO"


def test_excluding_an_unknown_word_is_a_mistake() -> None:
    with pytest.raises(KeywordConfigError, match="FOO"):
        KeywordSet.build(exclude=["FOO"])


def test_an_opt_in_word_one_typo_from_an_opt_out_word_is_rejected() -> None:
    with pytest.raises(KeywordConfigError, match="STPO"):
        KeywordSet.build(opt_in=["STPO"])
    with pytest.raises(KeywordConfigError, match="UNSUBSCRIBES"):
        KeywordSet.build(campaign=["UNSUBSCRIBES"])
    assert classify("SHOP", KeywordSet.build(campaign=["SHOP"])).scope == "SHOP"


def test_a_politeness_word_cannot_be_a_keyword() -> None:
    with pytest.raises(KeywordConfigError, match="PLEASE"):
        KeywordSet.build(campaign=["PLEASE"])


@pytest.mark.parametrize(("data", "message"), [
    ({"opt_inn": ["JOIN"]}, "opt_inn"),
    ({"opt_in": 5}, "opt_in"),
    ({"opt_in": ["JOIN", 7]}, "7"),
    ({"verification": True}, "booleans"),
    ({"campaign": [True]}, "booleans"),
    ({"languages": ["en", "de"]}, "de"),
    ({"opt_out": [""]}, "no letters"),
])
def test_from_mapping_rejects_bad_configuration(data: dict[str, object], message: str) -> None:
    with pytest.raises(KeywordConfigError, match=message):
        KeywordSet.from_mapping(data)


def test_from_mapping_reads_the_yaml_layout() -> None:
    keywords = KeywordSet.from_mapping({
        "opt_out": ["ENDALL"], "opt_in": ["JOIN"], "help": ["SUPPORT"],
        "campaign": ["VOLUNTEER", "DONATE2026"], "verification": "YES",
        "languages": ["en", "es", "fr", "pt"], "exclude": ["INFO"]})
    assert classify("ENDALL", keywords).intent is Intent.OPT_OUT
    assert classify("INFO", keywords).intent is Intent.NONE
    assert keywords.campaign == frozenset({"VOLUNTEER", "DONATE2026"})
    assert KeywordSet.from_mapping({}).verification == "YES"


def test_sets_built_from_the_same_settings_are_equal() -> None:
    assert KeywordSet.build() == DEFAULT_KEYWORDS
    first = KeywordSet.build(campaign=["volunteer"], exclude=["info"])
    second = KeywordSet.from_mapping({"campaign": ["VOLUNTEER"], "exclude": ["INFO"]})
    assert first == second and hash(first) == hash(second)
    assert first != DEFAULT_KEYWORDS
    assert "_keywords" not in repr(first)


def test_repair_skips_tokens_too_long_to_be_keywords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found in review: repairing a 64 kB one-word body took a second (quadratic in its
    length) and stalled the worker's event loop; such a token can never be a keyword."""
    seen: list[int] = []
    real = typos.unglued

    def spy(token: str, keywords: KeywordSet) -> tuple[str, ...]:
        seen.append(len(token))
        return real(token, keywords)

    monkeypatch.setattr(typos, "unglued", spy)
    monkeypatch.setattr(classifier, "unglued", spy)
    assert classify("a" * 64_000).intent is Intent.NONE
    assert classify("stopplease").intent is Intent.OPT_OUT  # a glued pair is still repaired
    assert classify("STOO" + "O" * 20 + "P").intent is Intent.OPT_OUT  # stretched letters too
    assert max(seen, default=0) < 100
