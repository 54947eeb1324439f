"""The built web inbox served by the CRM: the page for every inbox path, hashed assets cached
for good, the API untouched."""

from __future__ import annotations

import os

from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from crm_appservice.config import load
from crm_appservice.server import create_app

from .conftest import AS_TOKEN, HS_TOKEN, ConfigFactory


async def test_page_assets_and_api(
    db_dsn: str, make_config: ConfigFactory, aiohttp_client: AiohttpClient, workdir: str
) -> None:
    dist = os.path.join(workdir, "dist")
    os.makedirs(os.path.join(dist, "assets"))
    with open(os.path.join(dist, "index.html"), "w") as f:
        f.write('<!doctype html><script src="/assets/index-abc123.js"></script>')
    with open(os.path.join(dist, "assets", "index-abc123.js"), "w") as f:
        f.write("console.log(1)")
    _, settings = load(make_config({
        "appservice.as_token": AS_TOKEN, "appservice.hs_token": HS_TOKEN,
        "web.static_dir": dist,
    }))  # fmt: skip
    client: TestClient = await aiohttp_client(create_app(settings, db_dsn))  # type: ignore[type-arg]

    for path in ("/", "/conversations/42", "/team"):
        resp = await client.get(path)
        assert resp.status == 200, path
        assert resp.headers["Content-Type"].startswith("text/html")
        assert resp.headers["Cache-Control"] == "no-cache"
        assert "index-abc123.js" in await resp.text()
    resp = await client.get("/assets/index-abc123.js")
    assert resp.status == 200 and await resp.text() == "console.log(1)"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert (await client.get("/assets/missing.js")).status == 404
    assert (await client.get("/assets/..%2Findex.html")).status == 404
    # The API's own paths are never the page.
    resp = await client.get("/api/v1/nothing-here")
    assert resp.status in (401, 404) and resp.headers["Content-Type"].startswith(
        "application/json"
    )
    assert (await client.get("/healthz")).status == 200


async def test_not_built_says_how(
    db_dsn: str, make_config: ConfigFactory, aiohttp_client: AiohttpClient, workdir: str
) -> None:
    _, settings = load(make_config({
        "appservice.as_token": AS_TOKEN, "appservice.hs_token": HS_TOKEN,
        "web.static_dir": os.path.join(workdir, "nothing"),
    }))  # fmt: skip
    client: TestClient = await aiohttp_client(create_app(settings, db_dsn))  # type: ignore[type-arg]
    resp = await client.get("/")
    assert resp.status == 503 and "npm run build" in await resp.text()


async def test_security_headers_on_every_answer(
    db_dsn: str, make_config: ConfigFactory, aiohttp_client: AiohttpClient
) -> None:
    """The page gets the strict policy (its use in a browser: test_browser_security.py), every
    other answer one under which nothing runs; HSTS only with an https public URL."""
    for public_url, hsts in (("https://crm.example.com", "max-age=31536000"), (None, None)):
        extra = {"web.public_url": public_url} if public_url else {}
        _, settings = load(make_config({"appservice.as_token": AS_TOKEN,
                                         "appservice.hs_token": HS_TOKEN, **extra}))  # fmt: skip
        client: TestClient = await aiohttp_client(create_app(settings, db_dsn))  # type: ignore[type-arg]
        for path, policy in [("/", "script-src 'self'"), ("/api/v1/me", "default-src 'none'"),
                             ("/healthz", "default-src 'none'")]:  # fmt: skip
            resp = await client.get(path)
            assert policy in resp.headers["Content-Security-Policy"], path
            assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert resp.headers.get("Strict-Transport-Security") == hsts, (public_url, path)
        await client.close()
