"""The classifier's word data, as plain tables: one module per language (``en``, ``es``, ``fr``,
``pt``; English's free-text rules in ``en_free_text``), the words subscribers mix across
languages (``mixed``) and look-alike characters (``characters``). No logic: the classifier
modules read these (``processor.domain.classify.languages`` assembles the per-language ones).

Keywords are written the way a subscriber would type them; ``KeywordSet.build`` normalises them
exactly like message bodies (case, accents, full-width letters, punctuation). Phrases are
written in the classifier's token form: lower case, accents folded, apostrophes dropped
("don't" -> "dont"; French elisions split: "m'envoyer" -> "m envoyer"), single spaces.
"""
