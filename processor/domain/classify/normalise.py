"""Text normalisation: the message as every classifier rule reads it."""

from __future__ import annotations

import re
import unicodedata

from processor.domain.classify.words import characters

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
    if char in characters.CONFUSABLES:
        return characters.CONFUSABLES[char]
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


def fold(body: str) -> str:
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
    return _EDGES.sub("", " ".join(fold(body).split()))


TOKEN = re.compile(r"[^\W_]+")


def tokens_of(text: str) -> tuple[str, ...]:
    return tuple(TOKEN.findall(fold(text)))
