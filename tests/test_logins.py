"""Logins and credentials an attacker cannot bend: the failure count behind a proxy, concurrent
guesses, another site's form, odd headers, and API tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient
import asyncpg
import pytest

from crm_appservice.api import ratelimit
from crm_appservice.config import Settings
from crm_appservice.keys import SESSIONS

from .conftest import API, PASSWORD, PASSWORD_HASH, ConfigFactory, offline_settings

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    # The tests' client reaches the CRM from 127.0.0.1: here that is the proxy in front of it.
    return offline_settings(make_config, {"web.trusted_proxies": ["127.0.0.1/32"]})


async def attempt(
    client: TestClient,  # type: ignore[type-arg]
    email: str,
    password: str,
    forwarded: str | None = None,
) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    resp = await client.post(LOGIN, json={"email": email, "password": password}, headers=headers)
    client.session.cookie_jar.clear()
    return resp.status


async def test_behind_the_proxy_failures_count_per_client_and_account(
    client: TestClient,  # type: ignore[type-arg]
    add_manager: Callable[..., Any],
) -> None:
    """Everyone reaches the CRM from nginx's address: ten bad guesses from one client must
    neither lock out that account for its other clients nor any other account."""
    await add_manager("eve@example.com")
    await add_manager("kim@example.com")
    for _ in range(ratelimit.PER_CLIENT):
        # What a client writes before nginx appends its address is not believed.
        assert await attempt(client, "eve@example.com", "guess", "10.9.9.9, 203.0.113.5") == 401
    assert await attempt(client, "eve@example.com", PASSWORD, "203.0.113.5") == 429
    assert await attempt(client, "eve@example.com", PASSWORD, "10.9.9.9, 203.0.113.5") == 429
    assert await attempt(client, "eve@example.com", PASSWORD, "198.51.100.7") == 200
    assert await attempt(client, "kim@example.com", PASSWORD, "203.0.113.5") == 200


async def test_forwarded_for_from_an_untrusted_peer_is_not_believed(
    make_config: ConfigFactory,
    db_dsn: str,
    aiohttp_client: Any,
) -> None:
    """Without a trusted proxy, a guesser cannot dodge the count by inventing addresses."""
    from crm_appservice.keys import POOL
    from crm_appservice.server import create_app
    from crm_appservice.store import managers

    client = await aiohttp_client(create_app(offline_settings(make_config, {}), db_dsn))
    hashed = PASSWORD_HASH
    await managers.create(client.app[POOL], "eve@example.com", "Eve", "manager", hashed)
    for i in range(ratelimit.PER_CLIENT):
        assert await attempt(client, "eve@example.com", "guess", f"203.0.113.{i}") == 401
    assert await attempt(client, "eve@example.com", PASSWORD, "203.0.113.200") == 429


async def test_concurrent_guesses_cannot_get_past_the_count(
    client: TestClient,  # type: ignore[type-arg]
    add_manager: Callable[..., Any],
) -> None:
    await add_manager("eve@example.com")
    statuses = await asyncio.gather(
        *(attempt(client, "eve@example.com", f"guess {i}", "203.0.113.5") for i in range(25))
    )
    assert statuses.count(401) == ratelimit.PER_CLIENT
    assert statuses.count(429) == 25 - ratelimit.PER_CLIENT


async def test_guesses_from_many_addresses_lock_that_account_only(
    client: TestClient,  # type: ignore[type-arg]
    add_manager: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ratelimit, "PER_ACCOUNT", 4)
    await add_manager("eve@example.com")
    await add_manager("kim@example.com")
    for i in range(4):
        assert await attempt(client, "eve@example.com", "guess", f"203.0.113.{i}") == 401
    assert await attempt(client, "eve@example.com", PASSWORD, "198.51.100.7") == 429
    assert await attempt(client, "kim@example.com", PASSWORD, "198.51.100.7") == 200


async def test_every_instance_shares_the_count(
    client: TestClient,  # type: ignore[type-arg]
    add_manager: Callable[..., Any],
    db_dsn: str,
    settings: Settings,
    aiohttp_client: Any,
) -> None:
    from crm_appservice.server import create_app

    other = await aiohttp_client(create_app(settings, db_dsn))
    await add_manager("eve@example.com")
    for i in range(ratelimit.PER_CLIENT):
        target = client if i % 2 else other
        assert await attempt(target, "eve@example.com", "guess", "203.0.113.5") == 401
    assert await attempt(client, "eve@example.com", PASSWORD, "203.0.113.5") == 429
    assert await attempt(other, "eve@example.com", PASSWORD, "203.0.113.5") == 429


async def test_a_right_password_clears_that_clients_failures(
    client: TestClient,  # type: ignore[type-arg]
    add_manager: Callable[..., Any],
) -> None:
    await add_manager("eve@example.com")
    for _ in range(ratelimit.PER_CLIENT - 1):
        assert await attempt(client, "eve@example.com", "typo", "203.0.113.5") == 401
    assert await attempt(client, "eve@example.com", PASSWORD, "203.0.113.5") == 200
    for _ in range(ratelimit.PER_CLIENT - 1):
        assert await attempt(client, "eve@example.com", "typo", "203.0.113.5") == 401
    assert await attempt(client, "eve@example.com", PASSWORD, "203.0.113.5") == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_login_takes_json_only(
    client: TestClient,  # type: ignore[type-arg]
    add_manager: Callable[..., Any],
    content_type: str,
) -> None:
    """A form on another site can post text/plain (no preflight): it must not sign in."""
    await add_manager("eve@example.com")
    body = f'{{"email": "eve@example.com", "password": "{PASSWORD}"}}'
    resp = await client.post(LOGIN, data=body, headers={"Content-Type": content_type})
    assert resp.status == 415
    assert (await resp.json())["error"]["code"] == "unsupported_media_type"
    assert "crm_session" not in {c.key for c in client.session.cookie_jar}


async def test_a_non_ascii_csrf_token_is_refused_not_an_error(api: API) -> None:
    for sent in ("é", "\u2603" * 10, api.csrf + "ü"):  # type: ignore[operator]
        resp = await api.client.post(
            "/api/v1/auth/logout", headers={"X-CSRF-Token": sent.encode().decode("latin-1")}
        )
        assert resp.status == 403, sent
        assert (await resp.json())["error"]["code"] == "csrf_failed"
    assert (await api.call("GET", "/api/v1/me"))[0] == 200


async def test_minting_a_token_needs_the_password_again(api: API, db: asyncpg.Pool) -> None:
    """A stolen session cookie (and its CSRF token) alone cannot mint a lasting credential."""
    status, body = await api.call("POST", "/api/v1/tokens", json={"label": "x"})
    assert (status, body["error"]["field"]) == (422, "password")
    status, body = await api.call("POST", "/api/v1/tokens",
                                  json={"label": "x", "password": "stolen cookie"})  # fmt: skip
    assert (status, body["error"]["code"]) == (403, "wrong_password")
    assert await db.fetchval("SELECT count(*) FROM sessions WHERE kind = 'api_token'") == 0
    # Wrong passwords here count as failed logins: the cookie cannot be used to guess it.
    failures = await db.fetchval("SELECT count(*) FROM login_failures")
    assert failures == 2


async def test_a_token_may_expire(api: API, db: asyncpg.Pool) -> None:
    status, made = await api.call(
        "POST", "/api/v1/tokens", json={"label": "x", "password": PASSWORD, "expires_in_days": 7}
    )
    assert status == 201
    listed = (await api.get("/api/v1/tokens"))["items"]
    assert listed[0]["expires_at"] == made["expires_at"] is not None
    days = await db.fetchval(
        "SELECT extract(epoch FROM expires_at - now()) / 86400 FROM sessions WHERE id = $1",
        made["id"],
    )
    assert 6.99 < days <= 7
    bearer = {"Authorization": f"Bearer {made['token']}"}
    assert (await api.call("GET", "/api/v1/me", headers=bearer))[0] == 200
    await db.execute("UPDATE sessions SET expires_at = now() WHERE id = $1", made["id"])
    api.client.app[SESSIONS].drop_session(made["id"])  # past the lookup cache's few seconds
    assert (await api.call("GET", "/api/v1/me", headers=bearer))[0] == 401
    status, body = await api.call("POST", "/api/v1/tokens",
                                  json={"label": "x", "password": PASSWORD,
                                        "expires_in_days": 0})  # fmt: skip
    assert (status, body["error"]["field"]) == (422, "expires_in_days")
