"""The shipped nginx config (docker/nginx/nginx.conf), run by a real nginx (Debian's package) in
front of the CRM: the appservice's paths stay closed however they are spelt, the inbox and its
API pass, and the client address the CRM counts failed logins by is the client's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import os
import shutil
import tempfile
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
import pytest

from crm_appservice.api import ratelimit
from crm_appservice.config import Settings
from testbed.synapse import free_port

from .conftest import HS_TOKEN, PASSWORD, REPO, ConfigFactory, offline_settings

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE = os.path.join(REPO, "docker", "nginx", "nginx.conf")
MAIN = """worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    # nginx reaches the CRM from 127.0.0.1; the test's clients come from 127.0.0.2 and .3.
    return offline_settings(make_config, {"web.trusted_proxies": ["127.0.0.1/32"]})


@pytest.fixture
async def nginx(client: TestClient) -> AsyncIterator[str]:  # type: ignore[type-arg]
    """The shipped site config with only its two addresses changed, in front of the CRM."""
    directory = tempfile.mkdtemp(prefix="crm-nginx-")
    os.chmod(directory, 0o777)  # nginx's workers run as nobody when started by root
    with open(SITE) as shipped:
        site = shipped.read()
    assert "server crm:29340;" in site and "listen 80;" in site
    port = free_port()
    site = site.replace("server crm:29340;", f"server 127.0.0.1:{client.server.port};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    with open(os.path.join(directory, "site.conf"), "w") as f:
        f.write(site)
    with open(os.path.join(directory, "nginx.conf"), "w") as f:
        f.write(MAIN.format(dir=directory))
    conf = os.path.join(directory, "nginx.conf")
    check = await asyncio.create_subprocess_exec(
        NGINX, "-t", "-c", conf, stderr=asyncio.subprocess.PIPE
    )
    _, errors = await check.communicate()
    assert check.returncode == 0, errors.decode()
    proc = await asyncio.create_subprocess_exec(
        NGINX, "-c", conf, "-g", "daemon off;", stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    break
                except OSError:
                    await asyncio.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        await proc.wait()
        shutil.rmtree(directory, ignore_errors=True)


async def raw(address: str, request_line: str, headers: str = "") -> tuple[int, str]:
    """One request exactly as written (no client library normalises its path)."""
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port), local_addr=("127.0.0.2", 0))
    body = b'{"events": []}'
    writer.write(
        f"{request_line} HTTP/1.1\r\nHost: crm.example.com\r\nConnection: close\r\n"
        f"Authorization: Bearer {HS_TOKEN}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{headers}\r\n".encode()
        + body
    )
    async with asyncio.timeout(10):
        answer = (await reader.read()).decode("latin-1")
    writer.close()
    return int(answer.split(" ", 2)[1]), answer


CLOSED = [
    "PUT /_matrix/app/v1/transactions/1",
    "PUT /%5Fmatrix/app/v1/transactions/2",
    "PUT /%5fmatrix/app/v1/transactions/3",
    "PUT //_matrix/app/v1/transactions/4",
    "PUT /_matrix//app/v1/transactions/5",
    "PUT /api/../_matrix/app/v1/transactions/6",
    "PUT /api/..%2F_matrix/app/v1/transactions/7",
    "PUT /api/%2E%2E/_matrix/app/v1/transactions/8",
    "PUT /_MATRIX/app/v1/transactions/9",
    "PUT /transactions/10",
    "PUT /%74ransactions/11",
    "PUT /Transactions/12",
    "GET /users/@whatsapp_123:crm.localhost",
    "GET /rooms/%23alias:crm.localhost",
    "POST /_matrix/app/v1/ping",
    "GET /metrics",
    "GET /%6Detrics",
    "GET /assets/..%2F..%2Fconfig.yaml",
]


@pytest.mark.parametrize("request_line", CLOSED)
async def test_the_appservice_and_metrics_are_closed_however_spelt(
    nginx: str,
    db: Any,
    request_line: str,
) -> None:
    status, answer = await raw(nginx, request_line)
    assert status in (400, 404), answer
    assert "Server: nginx" in answer  # nginx's own answer: the CRM never saw the request
    assert await db.fetchval("SELECT count(*) FROM raw_events") == 0


@pytest.mark.parametrize(
    ("request_line", "status"),
    [
        ("GET /", 200),  # the inbox's page
        ("GET /conversations/42", 200),
        ("GET /api/v1/me", 401),  # the API, asking for a login
        ("GET /api/v1/conversations?q=1%2F2", 401),  # an encoded slash in the query is fine
        ("GET /readyz", 503),  # the bare status (the homeserver is not running here)
        ("GET /healthz", 200),
    ],
)
async def test_the_inbox_and_its_api_pass(nginx: str, request_line: str, status: int) -> None:
    got, answer = await raw(nginx, request_line)
    assert got == status, answer


async def test_failed_logins_count_for_the_client_behind_nginx(
    nginx: str, add_manager: Callable[..., Any]
) -> None:
    """nginx appends the address it was reached from to X-Forwarded-For: the CRM counts that
    one, not nginx's own (everyone's) and not what the client wrote before it."""
    await add_manager("eve@example.com")
    url = f"http://{nginx}/api/v1/auth/login"

    async def login(client_ip: str, password: str, forged: str | None = None) -> int:
        connector = aiohttp.TCPConnector(local_addr=(client_ip, 0))
        headers = {"X-Forwarded-For": forged} if forged else {}
        async with aiohttp.ClientSession(connector=connector) as http:
            body = {"email": "eve@example.com", "password": password}
            async with http.post(url, json=body, headers=headers) as resp:
                return resp.status

    for i in range(ratelimit.PER_CLIENT):
        assert await login("127.0.0.2", "guess", f"198.51.100.{i}") == 401
    assert await login("127.0.0.2", PASSWORD, "198.51.100.99") == 429
    assert await login("127.0.0.3", PASSWORD) == 200  # a colleague elsewhere: not locked out
