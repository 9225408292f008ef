"""A private Kafka broker for one test module: the local stack's node (deploy/local/kafka.sh)
on ports of its own, with SASL and TLS listeners (certificates from tests/support/tls.py) and SCRAM
users created when its storage is formatted.

It starts in a few seconds, so a module starts one (module-scoped fixture) and its tests share
it; it is stopped by its process id.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from processor.adapters.kafka.clients import KafkaUnreachableError, probe_kafka
from processor.settings import Settings
from tests.support.stack import ROOT, free_port_below_ephemeral
from tests.support.tls import Certificates

KAFKA_SH = ROOT / "deploy" / "local" / "kafka.sh"
HOST = "127.0.0.1"


@dataclass
class PrivateKafka:
    """A running private broker: one port per listener (PLAINTEXT is for the broker itself)."""

    directory: Path
    ports: dict[str, int]
    scram_users: Mapping[str, str]
    plain_users: Mapping[str, str]
    certificates: Certificates | None
    process: asyncio.subprocess.Process | None = None
    log_files: list[Path] = field(default_factory=list)

    def bootstrap(self, listener: str) -> str:
        return f"{HOST}:{self.ports[listener]}"

    def connection(self, listener: str, mechanism: str = "SCRAM-SHA-512") -> dict[str, Any]:
        """Settings fields of a client this listener accepts: the first user of the
        mechanism's kind on SASL listeners, the CA on TLS ones, the client certificate on
        SSL (whose listener asks for one); one broker, so one replica."""
        values: dict[str, Any] = {"kafka_bootstrap": self.bootstrap(listener),
                                  "kafka_security_protocol": listener,
                                  "replication_factor": 1, "min_insync_replicas": 1}
        if listener.startswith("SASL_"):
            users = self.plain_users if mechanism == "PLAIN" else self.scram_users
            user, password = next(iter(users.items()))
            values.update(kafka_sasl_mechanism=mechanism, kafka_sasl_username=user,
                          kafka_sasl_password=password)
        if listener in {"SSL", "SASL_SSL"}:
            assert self.certificates is not None
            values["kafka_ssl_cafile"] = self.certificates.ca
        if listener == "SSL":
            assert self.certificates is not None
            values.update(kafka_ssl_certfile=self.certificates.client_cert,
                          kafka_ssl_keyfile=self.certificates.client_key,
                          kafka_ssl_key_password=self.certificates.key_password)
        return values

    def settings(self, listener: str, mechanism: str = "SCRAM-SHA-512",
                 **overrides: Any) -> Settings:
        """Settings that reach this broker through `listener` (overrides win)."""
        return Settings.from_env({}, **{**self.connection(listener, mechanism), **overrides})

    def log_tail(self, lines: int = 40) -> str:
        tails = []
        for path in self.log_files:
            with contextlib.suppress(OSError):
                text = path.read_text(errors="replace").splitlines()
                tails.append(f"--- {path.name}\n" + "\n".join(text[-lines:]))
        return "\n".join(tails)

    async def add_scram_user(self, user: str, password: str) -> None:
        """Creates SCRAM-SHA-512 credentials while the broker runs (Kafka's own tool: aiokafka
        has no AlterUserScramCredentials)."""
        tool_logs = self.directory / "logs" / "tools"
        tool_logs.mkdir(exist_ok=True)
        process = await asyncio.create_subprocess_exec(
            "java", "-cp", str(ROOT / "deploy" / "kafka" / "libs" / "*"),
            f"-Dlog4j.configuration=file:{ROOT / 'deploy' / 'kafka' / 'log4j.properties'}",
            f"-Dkafka.logs.dir={tool_logs}", "kafka.admin.ConfigCommand",
            "--bootstrap-server", self.bootstrap("PLAINTEXT"), "--alter",
            "--add-config", f"SCRAM-SHA-512=[password={password}]",
            "--entity-type", "users", "--entity-name", user,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await process.communicate()
        assert process.returncode == 0, f"kafka-configs failed:\n{out.decode()}"

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


def _listener_properties(kafka: PrivateKafka) -> str:
    ports = kafka.ports
    names = [name for name in ports if name != "CONTROLLER"]
    lines = [
        "listeners=" + ",".join(f"{name}://{HOST}:{port}" for name, port in ports.items()),
        "advertised.listeners=" + ",".join(f"{name}://{HOST}:{ports[name]}" for name in names),
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,"
        + ",".join(f"{name}:{name}" for name in names),
        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
    ]
    plain_users = " ".join(f'user_{user}="{password}"'
                           for user, password in kafka.plain_users.items())
    for listener in (n for n in names if n.startswith("SASL_")):
        prefix = f"listener.name.{listener.lower()}"
        for mechanism in ("scram-sha-256", "scram-sha-512"):
            lines.append(f"{prefix}.{mechanism}.sasl.jaas.config="
                         "org.apache.kafka.common.security.scram.ScramLoginModule required;")
        lines.append(f"{prefix}.plain.sasl.jaas.config="
                     f"org.apache.kafka.common.security.plain.PlainLoginModule required "
                     f"{plain_users};")
    certificates = kafka.certificates
    if certificates is not None:
        keystore = kafka.directory / "broker-keystore.pem"
        keystore.write_text(certificates.server_key.read_text()
                            + certificates.server_cert.read_text())
        lines += [
            "ssl.keystore.type=PEM", f"ssl.keystore.location={keystore}",
            "ssl.truststore.type=PEM", f"ssl.truststore.location={certificates.ca}",
            # The SSL listener asks every client for a certificate signed by the CA.
            "listener.name.ssl.ssl.client.auth=required",
        ]
    return "\n".join(lines) + "\n"


def _run(*args: str, log: Path) -> None:
    with log.open("ab") as out:
        code = subprocess.run(args, stdout=out, stderr=out, check=False).returncode
    assert code == 0, f"{' '.join(args[:3])} failed ({code}):\n{log.read_text(errors='replace')}"


def prepare_private_kafka(directory: Path, *, listeners: tuple[str, ...],
                          scram_users: Mapping[str, str] | None = None,
                          plain_users: Mapping[str, str] | None = None,
                          certificates: Certificates | None = None,
                          ports: Mapping[str, int] | None = None) -> PrivateKafka:
    """Writes the properties of a broker with a PLAINTEXT listener (the broker's own) plus
    `listeners` and formats its storage; SCRAM users get SCRAM-SHA-256 and -512
    credentials. Nothing runs yet."""
    directory.mkdir(parents=True, exist_ok=True)
    chosen = {name: (ports or {}).get(name) or free_port_below_ephemeral()
              for name in ("PLAINTEXT", "CONTROLLER", *listeners)}
    kafka = PrivateKafka(directory, chosen, scram_users or {}, plain_users or {}, certificates)
    logs = directory / "logs"
    logs.mkdir(exist_ok=True)
    kafka.log_files = [logs / "stdout.log", logs / "server.log"]
    extra = directory / "listeners.properties"
    extra.write_text(_listener_properties(kafka))
    props = directory / "server.properties"
    with props.open("wb") as out:
        subprocess.run(["bash", str(KAFKA_SH), "properties", str(directory / "data"), HOST,
                        str(chosen["PLAINTEXT"]), str(chosen["CONTROLLER"]), str(extra)],
                       stdout=out, check=True)
    scram = [arg for user, password in kafka.scram_users.items()
             for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512")
             for arg in ("--add-scram", f"{mechanism}=[name={user},password={password}]")]
    _run("bash", str(KAFKA_SH), "format", str(props), str(logs), *scram, log=kafka.log_files[0])
    return kafka


async def start_private_kafka(directory: Path, *, listeners: tuple[str, ...],
                              timeout: float = 90.0, **options: Any) -> PrivateKafka:
    """Prepares (see prepare_private_kafka) and launches a broker."""
    kafka = prepare_private_kafka(directory, listeners=listeners, **options)
    await launch_private_kafka(kafka, timeout)
    return kafka


async def launch_private_kafka(kafka: PrivateKafka, timeout: float = 90.0) -> None:
    """Starts a prepared broker; returns once a client gets metadata through every
    listener."""
    with kafka.log_files[0].open("ab") as out:
        kafka.process = await asyncio.create_subprocess_exec(
            "bash", str(KAFKA_SH), "exec", str(kafka.directory / "server.properties"),
            str(kafka.directory / "logs"),
            env={**os.environ, "KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m"},
            stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL)
    try:
        await _wait_until_answering(kafka, timeout)
    except BaseException:
        await kafka.stop()
        raise


async def _wait_until_answering(kafka: PrivateKafka, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for listener in (name for name in kafka.ports if name != "CONTROLLER"):
        settings = kafka.settings(listener)
        while True:
            assert kafka.process is not None
            if kafka.process.returncode is not None:
                raise AssertionError(f"the private broker exited with "
                                     f"{kafka.process.returncode}:\n{kafka.log_tail()}")
            try:
                await probe_kafka(settings, timeout_s=2.0)
                break
            except KafkaUnreachableError as exc:
                if time.monotonic() > deadline:
                    raise AssertionError(f"private broker: {exc.reason} after {timeout}s:\n"
                                         f"{kafka.log_tail()}") from None
                await asyncio.sleep(0.3)
