"""The classifier's tuning constants, in one place: how far each rule reaches."""

from __future__ import annotations

# How many tokens before a verb a negation still applies to ("don't EVER stop").
NEGATION_WINDOW = 3
# Short messages of at most this many tokens holding a bare keyword are flagged for review.
REVIEW_MAX_TOKENS = 4
# "I said STOP not START": an opt-out keyword set against another keyword counts in messages
# of at most this many words.
CONTRAST_MAX_WORDS = 8
# "STOP JOHN": a leading capitalised keyword counts in messages of at most this many words.
LEADING_MAX_WORDS = 3

# --- typo repair -----------------------------------------------------------------------------
# Typo tolerance only targets opt-out keywords at least this long (shorter ones collide with
# real words); other languages' keywords need more letters ("SAIR" -> "said" is English).
TYPO_MIN_LENGTH = 4
TYPO_MIN_LENGTH_OTHER_LANGUAGES = 6
# Targets this long tolerate two edits of any kind ("unsubcribe", "unsusbcribe").
TYPO_LONG_LENGTH = 8
# Messages with at most this many words get stretched-letter, look-alike and typo repair.
REPAIR_MAX_WORDS = 6
# Extra length a repairable token may have beyond two keyword words: stretched letters.
REPAIR_SLACK = 16
# "ST OP", "un subscribe": at most this many tokens may join into one opt-out keyword.
SPLIT_KEYWORD_MAX_PARTS = 3
# How many distinct tokens the classifier remembers as (not) repairable before starting over.
REPAIR_MEMO_SIZE = 100_000
