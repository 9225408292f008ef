"""The layers the tree states: the pipeline (and its runner) reach Kafka and Redis through
processor.ports only. ruff enforces the same (processor/pipeline/ruff.toml); this test fails if
that file is dropped or loosened."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[2] / "processor" / "pipeline"
BANNED = ("aiokafka", "redis", "hiredis", "faust", "mode", "processor.adapters", "processor.app")


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PIPELINE.glob("*.py")), ids=lambda p: p.name)
def test_the_pipeline_imports_no_kafka_redis_or_adapter(path: Path) -> None:
    banned = {n for n in imported(path)
              if any(n == b or n.startswith(f"{b}.") for b in BANNED)}
    assert banned == set()


def test_ruff_bans_the_same_imports_in_the_pipeline() -> None:
    config = (PIPELINE / "ruff.toml").read_text()
    assert all(f'"{name}".msg' in config for name in BANNED)
