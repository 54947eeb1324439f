"""Each route's own body limit, refused before the body is read: nobody (signed in or not) can
make the CRM take in the media limit's 50 MiB where a few kilobytes of JSON are expected."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp.test_utils import TestClient
import pytest

from crm_appservice.api import bodies

from . import factories as f
from .conftest import API, Homeserver


async def raw_request(client: TestClient, head: str, body: bytes = b"") -> tuple[int, bytes]:  # type: ignore[type-arg]
    """Send a request's head (and maybe part of a body) and read the answer."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        async with asyncio.timeout(5):
            answer = await reader.read(65536)
    finally:
        writer.close()
    status = int(answer.split(b" ", 2)[1])
    return status, answer


@pytest.mark.parametrize(
    ("method", "path", "size"),
    [
        ("POST", "/api/v1/auth/login", 50 * bodies.MiB),  # the login, unauthenticated
        ("POST", "/api/v1/auth/login", bodies.LOGIN + 1),
        ("PATCH", "/api/v1/conversations/1", bodies.JSON + 1),
        ("POST", "/api/v1/conversations/1/messages", bodies.JSON + 1),  # JSON, not an upload
        ("PUT", "/_matrix/app/v1/transactions/1", 2 * bodies.MiB),  # max_body_size: 1 MiB
        ("PUT", "/transactions/1", 2 * bodies.MiB),
        ("POST", "/no/such/route", bodies.JSON + 1),
    ],
)
async def test_a_body_over_its_routes_limit_is_refused_before_it_is_read(
    client: TestClient,  # type: ignore[type-arg]
    method: str,
    path: str,
    size: int,
) -> None:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n"
    )
    # Only the head is sent: an answer that waited for the body would never come.
    status, answer = await raw_request(client, head)
    assert status == 413, answer
    if not path.startswith("/no/"):
        assert b"too_large" in answer or b"M_TOO_LARGE" in answer


async def test_a_chunked_body_is_cut_off_at_its_limit(client: TestClient) -> None:  # type: ignore[type-arg]
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "a@example.com", "password": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'"}'

    resp = await client.post(
        "/api/v1/auth/login", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "too_large"


async def test_an_upload_may_be_large_and_json_beside_it_may_not(
    api: API,
    hs: Homeserver,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    await hs.ok([*f.portal("!r", "3361000001", "Rita"), f.text("!r", f.ghost("3361000001"), "hi")])
    conversation = (await api.get("/api/v1/conversations"))["items"][0]["id"]
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("client_txn_id", "big-upload")
    form.add_field("file", b"\0" * (3 * bodies.MiB), filename="catalogue.pdf",
                   content_type="application/pdf")  # fmt: skip
    status, body = await api.call("POST", f"/api/v1/conversations/{conversation}/messages",
                                  data=form)  # fmt: skip
    assert status == 202, body
    text = {"client_txn_id": "big-text", "body": "x" * (bodies.JSON + 1)}
    status, body = await api.call("POST", f"/api/v1/conversations/{conversation}/messages",
                                  json=text)  # fmt: skip
    assert (status, body["error"]["code"]) == (413, "too_large")
