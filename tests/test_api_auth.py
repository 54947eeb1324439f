"""Managers, sessions, tokens and CSRF: who may call the inbox API."""

from __future__ import annotations

from collections.abc import Callable
import re
import statistics
import time
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
import asyncpg
from pytest_aiohttp import AiohttpClient

from crm_appservice import passwords
from crm_appservice.config import load
from crm_appservice.server import create_app

from .conftest import API, AS_TOKEN, HS_TOKEN, PASSWORD, PASSWORD_HASH, ConfigFactory, bearer


async def test_login_sets_a_safe_cookie_and_me_works(
    client: TestClient,
    add_manager: Callable[..., Any],  # type: ignore[type-arg]
) -> None:
    await add_manager("bob@example.com", name="Bob")
    resp = await client.post(
        "/api/v1/auth/login", json={"email": " Bob@Example.com ", "password": PASSWORD}
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["manager"] == {
        "id": body["manager"]["id"],
        "email": "bob@example.com",
        "name": "Bob",
        "role": "manager",
    }
    cookie = next(h for h in resp.headers.getall("Set-Cookie") if h.startswith("crm_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert re.search(r"Max-Age=\d+", cookie)
    assert "Secure" not in cookie  # the public URL is http
    me = await client.get("/api/v1/me")
    assert (await me.json())["manager"]["email"] == "bob@example.com"


async def test_secure_cookie_behind_https(
    db_dsn: str, make_config: ConfigFactory, aiohttp_client: AiohttpClient
) -> None:
    settings = load(make_config({"appservice.as_token": AS_TOKEN, "appservice.hs_token": HS_TOKEN,
                                 "web.public_url": "https://crm.example.com",
                                 "web.cookie_samesite": "Strict"}))[1]  # fmt: skip
    client = await aiohttp_client(create_app(settings, db_dsn))
    from crm_appservice.keys import POOL
    from crm_appservice.store import managers

    await managers.create(client.app[POOL], "c@example.com", "C", "manager", PASSWORD_HASH)
    resp = await client.post(
        "/api/v1/auth/login", json={"email": "c@example.com", "password": PASSWORD}
    )
    cookie = next(h for h in resp.headers.getall("Set-Cookie") if h.startswith("crm_session="))
    assert "Secure" in cookie and "SameSite=Strict" in cookie


async def test_wrong_password_and_unknown_email_look_the_same(
    client: TestClient,
    add_manager: Callable[..., Any],  # type: ignore[type-arg]
) -> None:
    # The product's own hash: the unknown e-mail is checked against a hash of the same cost.
    await add_manager("dan@example.com", hashed=passwords.hash_password(PASSWORD))

    async def attempt(email: str) -> tuple[int, Any, float]:
        start = time.perf_counter()
        resp = await client.post("/api/v1/auth/login", json={"email": email, "password": "nope"})
        return resp.status, await resp.json(), time.perf_counter() - start

    known = [await attempt("dan@example.com") for _ in range(3)]
    unknown = [await attempt("nobody@example.com") for _ in range(3)]
    for status, body, _ in known + unknown:
        assert status == 401
        assert body["error"]["code"] == "invalid_credentials"
    known_time = statistics.median(t for *_, t in known)
    unknown_time = statistics.median(t for *_, t in unknown)
    # Both verify an argon2id hash: neither answer is instant, and they take alike.
    assert 0.5 < known_time / unknown_time < 2.0


async def test_repeated_failures_are_rate_limited(
    client: TestClient,
    add_manager: Callable[..., Any],  # type: ignore[type-arg]
) -> None:
    await add_manager("eve@example.com")
    for _ in range(10):
        resp = await client.post(
            "/api/v1/auth/login", json={"email": "eve@example.com", "password": "guess"}
        )
        assert resp.status == 401
    resp = await client.post(
        "/api/v1/auth/login", json={"email": "eve@example.com", "password": PASSWORD}
    )
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert (await resp.json())["error"]["code"] == "rate_limited"


async def test_session_is_rotated_at_login_and_ends_at_logout(
    client: TestClient,
    add_manager: Callable[..., Any],  # type: ignore[type-arg]
) -> None:
    await add_manager("fay@example.com")
    api = API(client)
    await api.login("fay@example.com", PASSWORD)
    first = client.session.cookie_jar.filter_cookies(client.make_url("/"))["crm_session"].value
    await api.login("fay@example.com", PASSWORD)
    second = client.session.cookie_jar.filter_cookies(client.make_url("/"))["crm_session"].value
    assert first != second
    status, _ = await api.call("POST", "/api/v1/auth/logout")
    assert status == 200
    client.session.cookie_jar.clear()
    for old in (first, second):
        resp = await client.get("/api/v1/me", headers={"Cookie": f"crm_session={old}"})
        assert resp.status == 401


async def test_csrf_is_required_for_changes_by_cookie(api: API) -> None:
    token = {"label": "x", "password": PASSWORD}
    status, body = await api.call(
        "POST", "/api/v1/tokens", json=token, headers={"X-CSRF-Token": "wrong"}
    )
    assert (status, body["error"]["code"]) == (403, "csrf_failed")
    resp = await api.client.post("/api/v1/tokens", json=token)
    assert resp.status == 403
    status, _ = await api.call(
        "POST", "/api/v1/tokens", json={"label": "script", "password": PASSWORD}
    )
    assert status == 201


async def test_api_tokens(api: API) -> None:
    status, created = await api.call(
        "POST", "/api/v1/tokens", json={"label": "nightly export", "password": PASSWORD}
    )
    assert status == 201
    token = created["token"]
    listed = await api.get("/api/v1/tokens")
    assert [t["label"] for t in listed["items"]] == ["nightly export"]
    assert "token" not in listed["items"][0]
    bearer = {"Authorization": f"Bearer {token}"}
    url = api.client.make_url
    async with aiohttp.ClientSession() as script:  # a script: no cookies at all
        async with script.get(url("/api/v1/me"), headers=bearer) as me:
            assert (await me.json())["manager"]["email"] == "anna@example.com"
        # No CSRF header needed with a token: a browser never sends one by itself.
        async with script.post(
            url("/api/v1/tokens"), json={"label": "2", "password": PASSWORD}, headers=bearer
        ) as r:
            assert r.status == 201
        status, _ = await api.call("DELETE", f"/api/v1/tokens/{created['id']}")
        assert status == 200
        async with script.get(url("/api/v1/me"), headers=bearer) as me:
            assert me.status == 401


async def test_validation_errors_name_the_field(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.post("/api/v1/auth/login", json={"email": "a@b.c"})
    body = await resp.json()
    assert resp.status == 422
    assert body["error"]["code"] == "invalid"
    assert body["error"]["field"] == "password"
    resp = await client.post(
        "/api/v1/auth/login", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status == 422


async def test_every_route_requires_authentication(client: TestClient) -> None:  # type: ignore[type-arg]
    """Walks the whole route table: only login, /healthz, /readyz and the web inbox's page and
    assets (its login screen: no data) answer without credentials (/metrics has its own token)."""
    public = {
        ("POST", "/api/v1/auth/login"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/"),
        ("GET", "/assets/{name}"),
        ("GET", "/{path}"),
    }
    checked = 0
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("path") or info.get("formatter")
        if not template or route.method == "HEAD":
            continue
        path = re.sub(r"\{[^}:]+:[^}]*\}", "1", template)
        path = re.sub(r"\{[^}]+\}", "x", path)
        resp = await client.request(route.method, path, json={})
        checked += 1
        if (route.method, template) in public:
            assert resp.status != 401, template
        elif template.startswith("/api/"):
            assert resp.status == 401, (route.method, template, resp.status)
            assert (await resp.json())["error"]["code"] == "unauthorized"
        else:
            assert resp.status in (401, 403), (route.method, template, resp.status)
    assert checked >= 20


async def test_a_manager_changes_their_own_name_and_password(
    api: API, client: Any, db: asyncpg.Pool
) -> None:
    status, me = await api.call("PATCH", "/api/v1/me", json={"name": "Anna Berg"})
    assert status == 200 and me["manager"]["name"] == "Anna Berg"
    assert (await api.get("/api/v1/me"))["manager"]["name"] == "Anna Berg"
    anna = await db.fetchval("SELECT id FROM managers WHERE email = 'anna@example.com'")
    script = await bearer(db, anna)
    new = "a longer new password"
    status, err = await api.call("PATCH", "/api/v1/me", json={"password": new})
    assert (status, err["error"]["field"]) == (422, "current_password")
    status, err = await api.call(
        "PATCH", "/api/v1/me", json={"password": new, "current_password": "guess"}
    )
    assert (status, err["error"]["code"]) == (403, "wrong_password")
    status, err = await api.call("PATCH", "/api/v1/me", json={"password": "short"})
    assert (status, err["error"]["message"]) == (422, "Password: at least 8 characters")
    status, _ = await api.call(
        "PATCH", "/api/v1/me", json={"password": new, "current_password": PASSWORD}
    )
    assert status == 200
    assert (await api.call("GET", "/api/v1/me"))[0] == 200  # this session stays
    status, _ = await api.call("GET", "/api/v1/me", headers=script)
    assert status == 401  # every other one ended with the old password
    # Nobody changes their role or activity here.
    status, _ = await api.call("PATCH", "/api/v1/me", json={"role": "admin"})
    assert status == 422
    fresh = API(client)
    assert (await fresh.login("anna@example.com", PASSWORD))[0] == 401
    assert (await fresh.login("anna@example.com", new))[0] == 200
