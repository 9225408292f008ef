"""Helpers the test suites share: the stack, harnesses, records, workloads."""
