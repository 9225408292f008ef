"""The benchmark: ``python -m tests.bench`` (``make bench``), from the repository root."""
