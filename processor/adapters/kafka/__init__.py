"""Kafka adapters: clients, topic layout, the consumer side (positioning, rebalance, order)
and the per-partition transactional sink."""
