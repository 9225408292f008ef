"""The keyword classifier: does an inbound text mean stop, start, help, or nothing?

``classifier.classify`` is the entry point (its docstring lists the rules in order);
``keyword_sets.KeywordSet`` is a gateway's keywords; the word data is in ``words/``.
"""
