"""The aiohttp application built by the real factory, on a real database."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
import pytest
from pytest_aiohttp import AiohttpClient

from crm_appservice.config import load
from crm_appservice.server import POOL, create_app

from .conftest import AS_TOKEN, HS_TOKEN, ConfigFactory


@pytest.fixture
async def client(
    db_dsn: str, make_config: ConfigFactory, aiohttp_client: AiohttpClient
) -> TestClient:  # type: ignore[type-arg]
    _, settings = load(
        make_config({"appservice.as_token": AS_TOKEN, "appservice.hs_token": HS_TOKEN})
    )
    return await aiohttp_client(create_app(settings, db_dsn))


async def test_healthz(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "database": "ok"}


async def test_healthz_reports_a_lost_database(client: TestClient) -> None:  # type: ignore[type-arg]
    client.app[POOL].terminate()
    resp = await client.get("/healthz")
    assert resp.status == 503
    assert await resp.json() == {"status": "unavailable", "database": "unreachable"}
