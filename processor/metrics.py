"""Prometheus metrics of the worker, in a registry of its own (tests can make many workers)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.records = Counter(
            "consent_gate_records", "Input records committed, by topic and outcome: decided, "
            "replayed (a stored decision answered again) or dead_lettered", ["topic", "outcome"],
            registry=r)
        self.outputs = Counter("consent_gate_outputs", "Output records by topic", ["topic"],
                               registry=r)
        self.batches = Counter("consent_gate_batches", "Committed batch transactions", [],
                               registry=r)
        self.aborted = Counter("consent_gate_batches_aborted",
                               "Batches not committed (retried later), by reason", ["reason"],
                               registry=r)
        self.batch_seconds = Histogram(
            "consent_gate_batch_seconds", "Decide and commit time of one partition batch",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=r)
        self.batch_phase_seconds = Histogram(
            "consent_gate_batch_phase_seconds",
            "A batch's time in its two phases, which add up to consent_gate_batch_seconds: "
            "decide (transaction begun, consent store loaded, decided and written, dead-letter "
            "limit checked) and commit (offsets added, outputs sent, transaction committed)",
            ["phase"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r)
        self.batch_record_age_seconds = Histogram(
            "consent_gate_batch_record_age_seconds",
            "How long a batch's newest and oldest records had been in Kafka when the batch "
            "began: the worker's clock minus the broker's append time (LogAppendTime), so clock "
            "skew between the hosts counts; records with no time (0 or less) are left out",
            ["record"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30),
            registry=r)
        self.assigned = Gauge("consent_gate_assigned_partitions", "Partitions owned", [],
                              registry=r)
        self.dlq_paused = Gauge("consent_gate_dlq_paused_partitions",
                                "Partitions stopped by the dead-letter limit", [], registry=r)
        self.redis_up = Gauge("consent_gate_redis_up", "Last Redis call succeeded", [],
                              registry=r)
        self.kafka_up = Gauge("consent_gate_kafka_up", "Last Kafka call succeeded", [],
                              registry=r)
        self.ready = Gauge("consent_gate_ready", "1 when /readyz answers 200", [], registry=r)
        self.consumer_lag = Gauge(
            "consent_gate_consumer_lag", "Input records of an owned partition not yet decided "
            "and committed: the partition's last stable offset (as of the last fetch) minus "
            "the committed offset", ["topic", "partition"], registry=r)
        self.order_checks = Counter(
            "consent_gate_order_checks", "End-offset checks that an idle input partition has "
            "nothing older than a record waiting to be decided", [], registry=r)
        self.order_wait_seconds = Histogram(
            "consent_gate_order_wait_seconds",
            "How long a partition number's next record waited for another input topic "
            "partition (decisions follow broker time across the input topics)",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120), registry=r)
        self.recoveries = Counter(
            "consent_gate_store_recoveries", "Partitions found with a consent store behind "
            "Kafka's committed offsets (lost writes) and rebuilt from the consent-state topic",
            [], registry=r)
        self.recovering = Gauge("consent_gate_recovering_partitions",
                                "Partitions being rebuilt from the consent-state topic "
                                "(deciding nothing meanwhile)", [], registry=r)
        self.ticks = Counter("consent_gate_window_ticks", "Expiry ticks sent by the timer", [],
                             registry=r)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
