"""``python -m tests.bench [--quick] [--only SECTION,...] [--baseline-worker DIR]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.bench.main import SECTIONS, run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.bench",
                                     description="the benchmark, against the local stack")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", default="", metavar="SECTION,...",
                        help=f"measure only these sections: {', '.join(SECTIONS)}")
    parser.add_argument("--baseline-worker", type=Path, default=None, metavar="DIR",
                        help="a checkout of another commit whose worker runs in every "
                             "throughput trial too, for CPU per record against it")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
