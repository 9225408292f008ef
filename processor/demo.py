"""`python -m processor demo`: a produce/consume smoke through the real stack.

Replaced by the scripted consent conversation once the worker exists.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from processor.adapters.topic_admin import create_topics
from processor.settings import Settings
from processor.topics import Topic


async def smoke(settings: Settings) -> int:
    await create_topics(settings)
    topic = settings.topics(Topic.INBOUND)
    marker = f"smoke-{time.time_ns()}".encode()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, key=b"+15550000000", value=marker)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        from aiokafka import TopicPartition

        tp = TopicPartition(topic, meta.partition)
        consumer.assign([tp])
        consumer.seek(tp, meta.offset)
        rec = await asyncio.wait_for(consumer.getone(), 10)
    finally:
        await consumer.stop()
    print(f"produced and consumed {rec.value.decode()} on {topic}[{rec.partition}]@{rec.offset}")
    return 0


def main() -> int:
    return asyncio.run(smoke(Settings.from_env()))
