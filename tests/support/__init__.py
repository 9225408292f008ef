"""Helpers the test suites share: the stack, harnesses, records, workloads, and test doubles
of the ports (processor.ports): an in-memory ConsentStore, a Source and a Sink that need no
broker, held to the real adapters' behaviour by the contract tests that run against both
(tests/integration/test_pipeline.py)."""
