"""The consent store on a real Redis Cluster (three primaries started here, on loopback).

It proves what the single node cannot: a phone's keys share a slot, every script call touches
one slot only, scripts are reloaded after a flush (NOSCRIPT), and a batch spread over all three
nodes is decided and replayed exactly like on one node.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from processor import codec
from processor.adapters.redis_connection import HiredisPackingConnection
from processor.adapters.redis_store import RedisConsentStore
from processor.app import connect_redis
from processor.domain.models.enums import SendStatus
from processor.pipeline import BatchProcessor, InputRecord
from processor.ports import (
    ManualClock,
    PhoneWrite,
    Progress,
    StoreBehindError,
    VersionConflictError,
)
from processor.settings import Settings
from processor.topics import Topic
from tests.support.consent_helpers import gateways, inbound, send

pytestmark = pytest.mark.integration

PHONES = [f"+1202555{n:04d}" for n in range(100, 160)]


def free_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too, both below Linux's
    ephemeral range (32768+), where the client connections of other tests (or of other
    processes on this machine) cannot take them between this check and the server binding."""
    for _ in range(200):
        port = random.randint(20000, 22700)
        if all(_bindable(p) for p in (port, port + 10000)):
            return port
    raise RuntimeError("no free port pair between 20000 and 32700")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three cluster-mode redis-servers joined into one cluster; stopped afterwards."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    assert server and cli, "redis-server and redis-cli are installed by `make setup`"
    root = tmp_path_factory.mktemp("redis-cluster")
    ports = [free_port() for _ in range(3)]
    nodes = []
    for port in ports:
        home = root / str(port)
        home.mkdir()
        nodes.append(subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
             "--cluster-config-file", str(home / "nodes.conf"), "--dir", str(home),
             "--save", "", "--appendonly", "no", "--logfile", str(home / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
    try:
        for port, node in zip(ports, nodes, strict=True):
            log = root / str(port) / "redis.log"
            try:
                _wait_for(lambda p=port, n=node: n.poll() is None
                          and _cli(cli, p, "PING") == "PONG", f"answer from node {port}")
            except AssertionError as exc:
                tail = log.read_text()[-2000:] if log.exists() else "(no log)"
                raise AssertionError(f"{exc}; its log:\n{tail}") from None
        subprocess.run([cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
                        "--cluster-replicas", "0", "--cluster-yes"], check=True,
                       capture_output=True, timeout=30)
        _wait_for(lambda: all("cluster_state:ok" in _cli(cli, p, "CLUSTER", "INFO")
                              for p in ports), "cluster_state:ok")
        yield f"redis://127.0.0.1:{ports[0]}"
    finally:
        for node in nodes:
            node.terminate()
        for node in nodes:
            node.wait(timeout=10)


def _cli(cli: str, port: int, *command: str) -> str:
    done = subprocess.run([cli, "-p", str(port), *command], capture_output=True, text=True,
                          timeout=5, check=False)
    return done.stdout.strip()


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Redis Cluster: no {what} after {timeout}s")
        time.sleep(0.1)


@pytest.fixture
async def cluster(cluster_url: str) -> AsyncIterator[RedisCluster]:
    # The worker's own client (processor.app.connect_redis): hiredis packs on every node.
    client = connect_redis(Settings.from_env({"REDIS_URL": cluster_url,
                                              "CG_REDIS_CLUSTER": "true"}))
    assert isinstance(client, RedisCluster)
    await client.initialize()
    yield client
    await client.flushall(target_nodes=RedisCluster.PRIMARIES)
    await client.aclose()


def stop_or_send(offset: int, phone: str) -> InputRecord:
    """Every other phone texts STOP; the others are sent a message."""
    if offset % 2:
        value = codec.encode_inbound(inbound("STOP", phone=phone, message_id=f"m-{phone}"))
        return InputRecord(Topic.INBOUND, 0, offset, phone.encode(), value)
    value = codec.encode_send_request(send(phone=phone, request_id=f"r-{phone}"))
    return InputRecord(Topic.SEND_REQUESTS, 0, offset, phone.encode(), value)


def store_on(client: RedisCluster) -> RedisConsentStore:
    return RedisConsentStore(client, "cg", retention_ms=3_600_000, cluster=True)


async def test_a_batch_across_every_node_is_decided_and_replayed(cluster: RedisCluster) -> None:
    store = store_on(cluster)
    slots = {key_slot(store.state_key(p).encode()) for p in PHONES}
    owners = {cluster.get_node_from_key(store.state_key(p)).name for p in PHONES}
    assert len(slots) > 30 and len(owners) == 3  # the batch really spans the cluster
    processor = BatchProcessor(store, gateways(gw1={}), ManualClock())
    records = [stop_or_send(offset, phone) for offset, phone in enumerate(PHONES)]
    first = await processor.process(records, partition=0)
    assert (first.decided, first.replayed) == (len(PHONES), 0)
    again = await processor.process(records, partition=0)
    assert again.outputs == first.outputs
    assert (again.decided, again.replayed) == (0, len(PHONES))
    results = [codec.decode_send_result(o.value) for o in first.outputs
               if o.topic is Topic.SEND_RESULTS and o.value]
    assert {r.status for r in results} == {SendStatus.FORWARDED}
    loaded = await store.load({p: [] for p in PHONES[1::2]})
    assert all(loaded[p].state.get("gw1").status.value == "Opt-Out" for p in PHONES[1::2])
    # Every node, the ones found after start-up too, packed the script calls with hiredis.
    nodes = cluster.get_nodes()
    assert len(nodes) == 3
    assert {node.connection_class for node in nodes} == {HiredisPackingConnection}
    assert all(type(c) is HiredisPackingConnection for n in nodes for c in n._connections)


async def test_version_fencing_and_script_reload_on_a_cluster(cluster: RedisCluster) -> None:
    store = store_on(cluster)
    processor = BatchProcessor(store, gateways(gw1={}), ManualClock())
    phone = PHONES[0]
    stop = InputRecord(Topic.INBOUND, 0, 0, phone.encode(),
                       codec.encode_inbound(inbound("STOP", phone=phone, message_id="m-1")))
    await processor.process([stop], partition=0)
    stale = (await store.load({phone: []}))[phone].state.get("gw1")
    await cluster.script_flush()  # every primary: NOSCRIPT next time
    start = InputRecord(Topic.INBOUND, 0, 1, phone.encode(),
                        codec.encode_inbound(inbound("START", phone=phone, message_id="m-2")))
    await processor.process([start], partition=0)
    with pytest.raises(VersionConflictError):
        await store.commit([PhoneWrite(phone, [(stale, stale.version)])], partition=0)



async def test_the_progress_guards_a_batch_across_every_node(cluster: RedisCluster) -> None:
    store = store_on(cluster)
    processor = BatchProcessor(store, gateways(gw1={}), ManualClock())
    records = [stop_or_send(offset, phone) for offset, phone in enumerate(PHONES)]
    covered = Progress(covered={"sms.inbound": len(records)})
    await processor.process(records, partition=0, progress=covered)
    assert await store.progress(0) == {"sms.inbound": len(records)}
    # Every primary loses its data (a cluster restarted empty): the next batch is refused
    # whole, and nothing of it is written on any node.
    await cluster.flushall(target_nodes=RedisCluster.PRIMARIES)
    again = Progress(committed={"sms.inbound": len(records)},
                     covered={"sms.inbound": 2 * len(records)})
    with pytest.raises(StoreBehindError):
        await processor.process(records, partition=0, progress=again)
    assert await cluster.dbsize(target_nodes=RedisCluster.PRIMARIES) == 0
