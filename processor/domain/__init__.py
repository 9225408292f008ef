"""Pure domain: classification, consent transitions, the send decision. No I/O imports here
(enforced by ruff's banned-api rule in pyproject.toml)."""
