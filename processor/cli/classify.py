"""`python -m processor classify [--config gateways.yaml] [--gateway ID]`: classify JSON Lines.

Each stdin line is a JSON object with a string ``body``; other fields are carried through. Each
stdout line is that object with ``intent``, ``keyword``, ``scope``, ``language``,
``confidence``, ``rule`` and ``review`` added (they replace input fields of the same name).
Output line N always answers input line N, so outputs can be pasted next to inputs: a line that
cannot be classified (invalid JSON, not an object, ``body`` missing or not a string, or blank)
becomes ``{"error": ..., "line": N}``, keeping the input's fields when it was an object, and
processing goes on. Exit status: 0 once every line is answered, 2 when the configuration or the
arguments cannot be used (the reason is on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import orjson

from processor.domain.classify.classification import KeywordConfigError
from processor.domain.classify.classifier import classify
from processor.domain.classify.keyword_sets import DEFAULT_KEYWORDS, KeywordSet
from processor.domain.gateways.parsing import GatewayConfigError
from processor.settings import load_gateways

# Lines are written in batches: one write per this many lines keeps the output buffered.
BATCH_LINES = 2048
_BOM = "\ufeff".encode()


class UsageError(Exception):
    """The command cannot run as asked; the message says why (exit status 2)."""


def run(args: argparse.Namespace) -> int:
    """Classifies stdin to stdout with the keyword set of ``args.config``/``args.gateway``."""
    try:
        keywords = keyword_set(args.config, args.gateway)
    except (UsageError, KeywordConfigError) as exc:
        print(f"classify: {exc}", file=sys.stderr)
        return 2
    try:
        classify_lines(sys.stdin.buffer, sys.stdout.buffer, keywords)
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Unix tools do, and keep the
        # interpreter's final flush from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def classify_lines(lines: Iterable[bytes], out: BinaryIO, keywords: KeywordSet) -> int:
    """Writes one answer per input line, in order; returns how many lines were answered."""
    batch: list[bytes] = []
    count = 0
    for count, line in enumerate(lines, start=1):
        # Files saved on Windows often start with a byte-order mark.
        batch.append(answer(line.removeprefix(_BOM) if count == 1 else line, count, keywords))
        if len(batch) >= BATCH_LINES:
            out.write(b"".join(batch))
            batch.clear()
    out.write(b"".join(batch))
    out.flush()
    return count


def answer(line: bytes, number: int, keywords: KeywordSet) -> bytes:
    """The output line (newline included) for input line ``number``."""
    if not line.strip():
        return _error({}, "empty line", number)
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return _error({}, f"invalid JSON: {exc}", number)
    if not isinstance(record, dict):
        return _error({}, f"expected a JSON object, got {type(record).__name__}", number)
    body = record.get("body")
    if not isinstance(body, str):
        problem = "missing" if body is None and "body" not in record else "not a string"
        return _error(record, f"body is {problem}", number)
    found = classify(body, keywords)
    record.update(intent=found.intent.value, keyword=found.keyword, scope=found.scope,
                  language=found.language, confidence=found.confidence, rule=found.rule,
                  review=found.review)
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def _error(record: dict[str, object], reason: str, number: int) -> bytes:
    record.update(error=reason, line=number)
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def keyword_set(config: Path | None, gateway: str | None) -> KeywordSet:
    """The defaults without a config; else the named gateway's keyword set, read by the same
    loader the worker uses. The only gateway is used when none is named."""
    if config is None:
        if gateway is not None:
            raise UsageError("--gateway needs --config")
        return DEFAULT_KEYWORDS
    try:
        gateways = load_gateways(config)
    except GatewayConfigError as exc:
        raise UsageError(str(exc)) from None
    known = sorted(gateways.by_id)
    if gateway is None:
        if len(known) != 1:
            raise UsageError(f"{config} has {len(known)} gateways; pick one with --gateway "
                             f"({', '.join(known)})")
        gateway = known[0]
    if gateway not in gateways.by_id:
        raise UsageError(f"unknown gateway {gateway!r}; {config} has: {', '.join(known)}")
    return gateways.by_id[gateway].keywords
