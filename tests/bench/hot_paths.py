"""Figures 2 and 3: the classifier and the codec, each next to a naive same-run baseline.

Baselines: an exact keyword lookup (``body.strip().upper() in keywords``) over the same kind
of bodies, and plain ``orjson.loads``/``orjson.dumps`` of the same kind of bytes and dicts.
The ratios show what the real work costs over the bare minimum on this machine today.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from processor import codec
from processor.domain.classify import languages
from processor.domain.consent.state import PhoneState
from processor.domain.engine import decide
from processor.pipeline.batch import encode_decision
from processor.topics import Topic
from tests.bench.classify import bench_classify, sample_messages
from tests.bench.codec import bench_codec
from tests.bench.report import median
from tests.support.workload import Workload, bench_gateways

# Every default keyword of every language, as an exact-match set.
_EXACT_KEYWORDS = frozenset(
    word.upper() for table in (languages.OPT_OUT, languages.OPT_IN, languages.HELP)
    for words in table.values() for word in words)

# bench_codec's operations and the topic whose records the baseline uses for each.
_DECODED = {"decode_inbound": Topic.INBOUND, "decode_send_request": Topic.SEND_REQUESTS}
_ENCODED = {"encode_outbound": Topic.OUTBOUND, "encode_send_result": Topic.SEND_RESULTS,
            "encode_consent_event": Topic.CONSENT_EVENTS}


def classifier_section(n: int, trials: int) -> dict[str, Any]:
    """Classifications per second (median of ``trials``) and the exact-lookup baseline."""
    bodies = sample_messages(n)
    rates, baselines = [], []
    for _ in range(trials):
        rates.append(bench_classify(n))
        baselines.append(_rate(lambda body: body.strip().upper() in _EXACT_KEYWORDS, bodies))
    return {"n": n, "rate": median(rates), "baseline_rate": median(baselines),
            "trials": rates, "baseline_trials": baselines}


def codec_section(n: int, trials: int, workload: Workload) -> dict[str, Any]:
    """Records per second per codec operation (median of ``trials``) and the orjson baseline
    on the same kind of records: the workload's inputs and the outputs decided from them."""
    samples = _output_samples(workload)
    inputs = {topic: [r.value for r in workload.records if r.topic is topic]
              for topic in _DECODED.values()}
    loads = {op: _cycle(inputs[topic], n) for op, topic in _DECODED.items()}
    dumps = {op: _cycle([orjson.loads(v) for v in samples[topic]], n)
             for op, topic in _ENCODED.items()}
    runs: list[dict[str, float]] = []
    baselines: list[dict[str, float]] = []
    for _ in range(trials):
        runs.append(bench_codec(n))
        baselines.append({**{op: _rate(orjson.loads, values) for op, values in loads.items()},
                          **{op: _rate(orjson.dumps, values) for op, values in dumps.items()}})
    operations = [*_DECODED, *_ENCODED]
    return {
        "n": n,
        "rate": {op: median([run[op] for run in runs]) for op in operations},
        "baseline_rate": {op: median([b[op] for b in baselines]) for op in operations},
        "trials": runs, "baseline_trials": baselines,
    }


def _output_samples(workload: Workload) -> dict[Topic, list[bytes]]:
    """Encoded outputs of the workload, decided by the pure domain (no store)."""
    gateways = bench_gateways()
    states: dict[str, PhoneState] = {}
    outputs: dict[Topic, list[bytes]] = {topic: [] for topic in _ENCODED.values()}
    for record in workload.input_records():
        item = codec.decode_input(record.topic, record.value, gateways.regions)
        state = states.get(item.phone) or PhoneState(item.phone)
        decision = decide(state, item, gateways, record.timestamp)
        states[item.phone] = state.with_changes(decision.changed)
        for output, _ in encode_decision(decision):
            if output.topic in outputs and output.value is not None:
                outputs[output.topic].append(output.value)
    empty = [str(topic) for topic, values in outputs.items() if not values]
    if empty:
        raise ValueError(f"the workload is too small to produce {', '.join(empty)} records")
    return outputs


def _cycle(values: Sequence[Any], n: int) -> list[Any]:
    return list(itertools.islice(itertools.cycle(values), n))


def _rate(work: Callable[[Any], object], items: Sequence[Any]) -> float:
    started = time.perf_counter()
    for item in items:
        work(item)
    return len(items) / (time.perf_counter() - started)
