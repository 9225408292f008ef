"""Domain records: frozen msgspec Structs, free of I/O, and the one definition of each topic record.

Each record is declared once, in this package: its fields in wire order, their wire names
(``from``, ``to``), their limits as msgspec ``Meta`` constraints and their descriptions. The
codec decodes and encodes the records with msgspec from these declarations, and
``schemas/*.schema.json`` are generated from them (``python -m processor schemas``). Only what
JSON cannot say is left to the codec: phones read in the gateway's region, keywords normalised
like the classifier spells them, and the command's cross-field rules.

Times are integer milliseconds since the Unix epoch (UTC) inside the domain; on the wire they
are RFC 3339 strings (the codec converts). Phones are E.164 strings (``+15551234567``).

By family: ``inputs`` (inbound message, send request, command), ``outputs`` (outbound message,
send result, consent event, command result, notice, dead letter), ``subscription`` (the
consent state of one subscription), ``enums`` (the statuses, sources and kinds the records
carry) and ``wire`` (versions, patterns, the constrained field types and the ``Record`` base).
"""
