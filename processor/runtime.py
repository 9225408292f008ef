"""Process-wide tuning of the worker's interpreter.

CPython's cyclic garbage collector runs a young-generation pass every 700 net container
allocations, and each pass also walks whatever survived the last one. A batch allocates
hundreds of thousands of short-lived objects (decoded records, states, outputs) that plain
reference counting frees, so with the default threshold the collector runs hundreds of times
per batch and finds nothing: the pipeline benchmark measured 15-25% of its time there.

``tune_gc`` moves everything alive at start (modules, keyword tables, gateway config) out of
the collector's view for good (``gc.freeze``) and lets the young generation grow to
``YOUNG_THRESHOLD`` objects before a pass. Cycles are still collected, only less often; the
memory they can hold meanwhile is bounded by that count.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """Call once, after start-up allocations and before the first batch."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
