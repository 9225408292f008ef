"""A redis-server of a test's own with the connection options production Redis servers use:
a password, an ACL user, TLS. Its URL is the one the README tells users to write."""

from __future__ import annotations

import asyncio
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from tests.support.stack import free_port_below_ephemeral, wait_for_port
from tests.support.tls import Certificates


@dataclass
class SecuredRedis:
    url: str
    process: asyncio.subprocess.Process

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


async def start_secured_redis(directory: Path, *, password: str | None = None,
                              user: str | None = None, tls: Certificates | None = None,
                              client_certificates: bool = False) -> SecuredRedis:
    """`password` alone is ``requirepass`` (``redis://:password@``); with `user` it is an ACL
    user and the default user is off (``redis://user:password@``); `tls` serves TLS only
    (``rediss://...?ssl_ca_certs=ca.pem``), asking clients for a certificate signed by the CA
    with `client_certificates` (``&ssl_certfile=...&ssl_keyfile=...&ssl_password=...``)."""
    executable = shutil.which("redis-server")
    assert executable is not None, "redis-server is not on PATH (make setup installs it)"
    port = free_port_below_ephemeral()
    args = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)]
    if tls is None:
        args += ["--port", str(port)]
    else:
        args += ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(tls.server_cert),
                 "--tls-key-file", str(tls.server_key), "--tls-ca-cert-file", str(tls.ca),
                 "--tls-auth-clients", "yes" if client_certificates else "no"]
    if user is not None:
        assert password is not None
        args += ["--user", "default", "off",
                 "--user", user, "on", f">{password}", "~*", "&*", "+@all"]
    elif password is not None:
        args += ["--requirepass", password]
    process = await asyncio.create_subprocess_exec(
        executable, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    server = SecuredRedis(_url(port, password, user, tls, client_certificates), process)
    try:
        await wait_for_port(port, timeout=10.0)
    except BaseException:
        await server.stop()
        raise
    return server


def _url(port: int, password: str | None, user: str | None, tls: Certificates | None,
         client_certificates: bool) -> str:
    credentials = f"{user or ''}:{password}@" if password is not None else ""
    if tls is None:
        return f"redis://{credentials}127.0.0.1:{port}/0"
    url = f"rediss://{credentials}127.0.0.1:{port}/0?ssl_ca_certs={tls.ca}"
    if client_certificates:
        url += (f"&ssl_certfile={tls.client_cert}&ssl_keyfile={tls.client_key}"
                f"&ssl_password={tls.key_password}")
    return url
