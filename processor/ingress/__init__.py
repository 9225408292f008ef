"""The HTTP doors of consent-gate (``python -m processor ingress``): carrier webhooks into
``sms.inbound``, send requests into ``sms.send-requests``, commands into ``sms.commands`` and
the read-only consent API. Stateless: it only publishes records and reads the worker's store."""
