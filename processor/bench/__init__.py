"""Benchmarks behind `python -m processor bench`."""
