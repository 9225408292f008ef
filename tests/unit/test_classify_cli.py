"""`python -m processor classify`, run as a subprocess the way people run it on their logs."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import orjson

from processor.cli.classify import classify_lines
from processor.domain.classify.keyword_sets import DEFAULT_KEYWORDS

ROOT = Path(__file__).resolve().parents[2]
ADDED = {"intent", "keyword", "scope", "language", "confidence", "rule", "review"}

GATEWAYS_YAML = """\
defaults:
  keywords: {languages: [en, es]}
gateways:
  shortcode-12345:
    mode: default
    keywords:
      opt_out: [ENDALL]
      opt_in: [JOIN]
      help: [SUPPORT]
      campaign: [VOLUNTEER, DONATE2026]
      verification: "YES"
      exclude: [INFO]
"""


def run_cli(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "processor", "classify", *args], input=stdin,
                          capture_output=True, cwd=ROOT, timeout=120, check=False)


def lines_of(*records: object) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def test_answers_every_line_in_order_and_carries_fields_through() -> None:
    stdin = (lines_of({"body": "STOP", "id": 1, "from": "+15551230001"})
             + b"this is not json\n"
             + lines_of({"body": "Yes please", "id": 3}, [1, 2], {"id": 5}, {"body": 6, "id": 6})
             + b"\n"
             + lines_of({"body": "I can't stop laughing", "id": 8, "nested": {"a": [1]}}))
    done = run_cli(stdin)
    assert done.returncode == 0, done.stderr
    out = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 8
    assert out[0]["id"] == 1 and out[0]["from"] == "+15551230001"
    assert (out[0]["intent"], out[0]["keyword"], out[0]["confidence"]) == ("opt_out", "STOP", 1.0)
    assert set(out[0]) >= ADDED
    assert out[1]["line"] == 2 and out[1]["error"].startswith("invalid JSON")
    assert (out[2]["id"], out[2]["intent"], out[2]["keyword"]) == (3, "opt_in", "YES")
    assert out[3] == {"error": "expected a JSON object, got list", "line": 4}
    assert out[4] == {"id": 5, "error": "body is missing", "line": 5}
    assert out[5] == {"body": 6, "id": 6, "error": "body is not a string", "line": 6}
    assert out[6] == {"error": "empty line", "line": 7}
    assert out[7]["nested"] == {"a": [1]} and out[7]["intent"] == "none"


def test_a_byte_order_mark_on_the_first_line_is_ignored() -> None:
    done = run_cli("\ufeff".encode() + lines_of({"body": "STOP"}))
    assert orjson.loads(done.stdout)["intent"] == "opt_out"


def test_free_text_output_fields() -> None:
    done = run_cli(lines_of({"body": "please stop texting me"}, {"body": "Yes?"}))
    first, second = (orjson.loads(line) for line in done.stdout.splitlines())
    assert first["intent"] == "opt_out" and first["rule"] == "free_text:stop_texting_me"
    assert first["keyword"] is None and first["confidence"] < 1
    assert (second["intent"], second["review"]) == ("none", True)


def test_the_only_gateway_of_a_config_is_used(tmp_path: Path) -> None:
    config = tmp_path / "gateways.yaml"
    config.write_text(GATEWAYS_YAML, encoding="utf-8")
    bodies = ["STOP VOLUNTEER", "volunteer", "ENDALL", "join", "support", "INFO", "ARRET", "PARAR"]
    done = run_cli(lines_of(*({"body": body} for body in bodies)), "--config", str(config))
    assert done.returncode == 0, done.stderr
    got = [(r["intent"], r["keyword"], r["scope"])
           for r in map(orjson.loads, done.stdout.splitlines())]
    assert got == [
        ("opt_out", "STOP", "VOLUNTEER"), ("opt_in", "VOLUNTEER", "VOLUNTEER"),
        ("opt_out", "ENDALL", None), ("opt_in", "JOIN", None), ("help", "SUPPORT", None),
        ("none", None, None),  # excluded
        ("none", None, None),  # French is off: the defaults say [en, es]
        ("opt_out", "PARAR", None),
    ]


def test_a_gateway_is_named_when_there_are_several(tmp_path: Path) -> None:
    config = tmp_path / "gateways.yaml"
    config.write_text("gateways:\n  a: {keywords: {opt_in: [JOIN]}}\n  b: {}\n", encoding="utf-8")
    ambiguous = run_cli(b"", "--config", str(config))
    assert ambiguous.returncode == 2 and b"--gateway" in ambiguous.stderr
    unknown = run_cli(b"", "--config", str(config), "--gateway", "c")
    assert unknown.returncode == 2 and b"'c'" in unknown.stderr and b"a, b" in unknown.stderr
    chosen = run_cli(lines_of({"body": "JOIN"}), "--config", str(config), "--gateway", "a")
    assert chosen.returncode == 0 and orjson.loads(chosen.stdout)["intent"] == "opt_in"


def test_a_keyword_with_two_meanings_stops_the_command(tmp_path: Path) -> None:
    config = tmp_path / "gateways.yaml"
    config.write_text("gateways:\n  g:\n    keywords: {opt_in: [STOP]}\n", encoding="utf-8")
    done = run_cli(lines_of({"body": "STOP"}), "--config", str(config))
    assert done.returncode == 2 and b"STOP" in done.stderr and done.stdout == b""


def test_unusable_configuration_exits_2(tmp_path: Path) -> None:
    missing = run_cli(b"", "--config", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and b"cannot read" in missing.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("gateways: [unclosed\n", encoding="utf-8")
    assert run_cli(b"", "--config", str(broken)).returncode == 2
    unquoted = tmp_path / "unquoted.yaml"
    unquoted.write_text("gateways:\n  g: {keywords: {verification: YES}}\n", encoding="utf-8")
    done = run_cli(b"", "--config", str(unquoted))
    assert done.returncode == 2 and b"quote" in done.stderr
    assert run_cli(b"", "--gateway", "g").returncode == 2


def test_classify_lines_is_fast() -> None:
    """The audit use: a hundred thousand lines in a few seconds (here 20k, generously timed)."""
    bodies = [b'{"body": "Stop texting me"}\n', b'{"body": "see you at 5, thanks!"}\n',
              b'{"body": "STOP"}\n', b'{"body": "Can you pick up milk on the way home?"}\n']
    lines = bodies * 5000
    out = io.BytesIO()
    start = time.perf_counter()
    assert classify_lines(lines, out, DEFAULT_KEYWORDS) == len(lines)
    assert time.perf_counter() - start < 10
    assert out.getvalue().count(b"\n") == len(lines)
