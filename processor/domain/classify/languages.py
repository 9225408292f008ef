"""The classifier's languages and their word tables, assembled from ``words/<language>.py``: a
language is added by writing its module and naming it here."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from processor.domain.classify.words import en, en_free_text, es, fr, pt
from processor.domain.classify.words.rule import FreeTextRule

LANGUAGES = ("en", "es", "fr", "pt")
_MODULES = MappingProxyType({"en": en, "es": es, "fr": fr, "pt": pt})

OPT_OUT: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {code: module.OPT_OUT for code, module in _MODULES.items()})
OPT_IN: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {code: module.OPT_IN for code, module in _MODULES.items()})
HELP: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {code: module.HELP for code, module in _MODULES.items()})
# Negations that turn a request around ("DON'T stop", "NO dejes de escribirme"), per language.
NEGATIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {code: module.NEGATIONS for code, module in _MODULES.items()})
EVERYDAY_OPT_OUT = tuple(word for module in _MODULES.values()
                         for word in module.EVERYDAY_OPT_OUT)
# Order matters inside a clause: the first rule that matches decides for it.
FREE_TEXT_RULES: tuple[FreeTextRule, ...] = (
    *en_free_text.FREE_TEXT_RULES, *es.FREE_TEXT_RULES, *fr.FREE_TEXT_RULES,
    *pt.FREE_TEXT_RULES)
