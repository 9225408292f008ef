"""Test certificates made with openssl: a CA, a server certificate for 127.0.0.1 and a
client certificate, for the private Kafka broker's and Redis server's TLS listeners."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificates:
    """PEM files: a CA, a server certificate (for 127.0.0.1) and a client certificate
    whose key is encrypted with ``key_password``."""

    ca: Path
    server_key: Path
    server_cert: Path
    client_key: Path
    client_cert: Path
    key_password: str
    other_ca: Path  # a CA that signed nothing here: a client trusting it must fail


def _openssl(*args: str) -> None:
    executable = shutil.which("openssl")
    assert executable is not None, "openssl is not on PATH (make setup installs it)"
    done = subprocess.run([executable, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"openssl {' '.join(args[:2])} failed:\n{done.stderr}"


def make_certificates(directory: Path) -> Certificates:
    """Makes the files in `directory` (a fraction of a second: EC keys)."""
    directory.mkdir(parents=True, exist_ok=True)
    password = secrets.token_hex(8)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")
    for name in ("ca", "other-ca"):
        _openssl("req", "-x509", *ec, "-nodes", "-days", "2",
                       "-subj", f"/CN=consent-gate test {name}",
                       "-keyout", str(directory / f"{name}.key"),
                       "-out", str(directory / f"{name}.pem"))
    # Java 17 cannot read OpenSSL 3's encrypted keys (PBES2/AES): the server key is plain.
    for name, extensions, key_options in (
            ("server", "subjectAltName=IP:127.0.0.1,DNS:localhost", ("-nodes",)),
            ("client", "extendedKeyUsage=clientAuth", ("-passout", f"pass:{password}"))):
        _openssl("req", *ec, *key_options,
                       "-subj", f"/CN=consent-gate test {name}",
                       "-keyout", str(directory / f"{name}.key"),
                       "-out", str(directory / f"{name}.csr"))
        extfile = directory / f"{name}.ext"
        extfile.write_text(extensions + "\n")
        _openssl("x509", "-req", "-days", "2", "-in", str(directory / f"{name}.csr"),
                       "-CA", str(directory / "ca.pem"), "-CAkey", str(directory / "ca.key"),
                       "-CAcreateserial", "-extfile", str(extfile),
                       "-out", str(directory / f"{name}.pem"))
    return Certificates(ca=directory / "ca.pem", server_key=directory / "server.key",
                        server_cert=directory / "server.pem", client_key=directory / "client.key",
                        client_cert=directory / "client.pem", key_password=password,
                        other_ca=directory / "other-ca.pem")
