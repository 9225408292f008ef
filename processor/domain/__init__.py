"""Pure domain: classification, consent transitions, the send decision. No I/O imports here
(enforced by ruff's banned-api rule in processor/domain/ruff.toml, which every sub-package uses).

``classify/`` the keyword classifier, ``consent/`` the state and the rule tables (inbound,
command, send), ``gateways/`` the gateway modes and configuration, ``models/`` the records;
``engine.decide`` is the one entry point for every input.
"""
