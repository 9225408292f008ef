"""The Redis URLs the README documents reach real servers the way production ones are set
up: a password, an ACL user, TLS with the server's CA, TLS with a client certificate. The
worker's own connection (processor.app.connect_redis) is used, and a wrong password is
refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import AuthenticationError, ResponseError

from processor.adapters.redis_connection import (
    HiredisPackingConnection,
    HiredisPackingSSLConnection,
)
from processor.app import connect_redis
from processor.settings import Settings
from tests.support.private_redis import start_secured_redis
from tests.support.tls import Certificates, make_certificates

pytestmark = pytest.mark.integration

PASSWORD = "redis-pw-6613"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


SERVERS = [
    pytest.param({"password": PASSWORD}, "redis://:", id="password"),
    pytest.param({"password": PASSWORD, "user": "consent-gate"}, "redis://consent-gate:",
                 id="acl-user"),
    pytest.param({"password": PASSWORD, "tls": True}, "rediss://:", id="tls"),
    pytest.param({"password": PASSWORD, "user": "consent-gate", "tls": True,
                  "client_certificates": True}, "rediss://consent-gate:",
                 id="tls-client-certificate-acl-user"),
]


@pytest.mark.parametrize(("server", "scheme"), SERVERS)
async def test_a_documented_url_reaches_the_server(server: dict[str, Any], scheme: str,
                                                   certificates: Certificates,
                                                   tmp_path: Path) -> None:
    options = {**server, "tls": certificates if server.get("tls") else None}
    redis = await start_secured_redis(tmp_path, **options)
    try:
        assert redis.url.startswith(f"{scheme}{PASSWORD}@127.0.0.1:")
        settings = Settings.from_env({"REDIS_URL": redis.url})
        client = connect_redis(settings)
        try:
            assert await client.set("k", "v")
            assert await client.get("k") == b"v"
            # The worker's script calls are packed by hiredis over TLS too.
            assert client.connection_pool.connection_class is (
                HiredisPackingSSLConnection if server.get("tls") else HiredisPackingConnection)
            values = [f"{i}:é".encode() * (i % 5 + 1) for i in range(3000)]
            script = client.register_script(
                "for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i]) end return #ARGV")
            keys = [f"k{i}" for i in range(len(values))]
            assert await script(keys=keys, args=values) == len(values)
            assert await client.mget(keys) == values
        finally:
            await client.aclose()
        assert PASSWORD not in repr(settings)

        wrong = connect_redis(Settings.from_env(
            {"REDIS_URL": redis.url.replace(PASSWORD, "wrong-pw")}))
        try:
            # redis-py reports a bad ACL user/password pair as a plain ResponseError
            with pytest.raises((AuthenticationError, ResponseError), match="pass"):
                await wrong.ping()
        finally:
            await wrong.aclose()
    finally:
        await redis.stop()
