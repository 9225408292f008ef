"""Waits until the Kafka broker answers a metadata request and Redis answers PING.

Exit 0 when both answer within --timeout seconds, 1 otherwise. Reads KAFKA_BOOTSTRAP and
REDIS_URL from the environment (deploy/local/common.sh sets them).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time

import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient


async def kafka_answers(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return bool(cluster.get("brokers"))
    except Exception:
        return False
    finally:
        await admin.close()


async def redis_answers(url: str) -> bool:
    client = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


async def main(timeout: float) -> int:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:16379/0")
    deadline = time.monotonic() + timeout
    kafka_ok = redis_ok = False
    while time.monotonic() < deadline:
        kafka_ok = kafka_ok or await kafka_answers(bootstrap)
        redis_ok = redis_ok or await redis_answers(redis_url)
        if kafka_ok and redis_ok:
            return 0
        await asyncio.sleep(0.5)
    print(f"not ready: kafka={'ok' if kafka_ok else 'no answer'} "
          f"redis={'ok' if redis_ok else 'no answer'}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)  # aiokafka logs every refused connection while we poll
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=90.0)
    sys.exit(asyncio.run(main(parser.parse_args().timeout)))
