"""Gateways: their modes (``modes``: where a gateway mode is declared, with the rule families it
uses), their configuration (``config``), reply templates (``templates``) and the parsing of the
YAML mapping (``parsing``; the file is read by ``processor.config``)."""
