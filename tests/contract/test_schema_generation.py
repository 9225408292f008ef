"""The committed schemas are generated from the record Structs: regenerating them changes
nothing (``python -m processor schemas`` writes them)."""

from __future__ import annotations

import pytest

from processor.codec import schema_gen
from processor.codec.schemas import SCHEMA_DIR

GENERATED = schema_gen.generate()


def test_every_committed_schema_is_generated_and_nothing_else_is_committed() -> None:
    committed = {path.name.removesuffix(".schema.json")
                 for path in SCHEMA_DIR.glob("*.schema.json")}
    assert committed == set(GENERATED)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_regenerating_a_schema_gives_the_committed_file(name: str) -> None:
    committed = (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
    assert schema_gen.render(GENERATED[name]) == committed
