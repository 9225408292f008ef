"""Thin adapters to Kafka and Redis. The domain never imports from here."""
