"""Operating the CRM: readiness and the Prometheus metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient
import pytest
from pytest_aiohttp import AiohttpClient

from crm_appservice.config import Settings, load

from . import factories as f
from .conftest import API, PASSWORD, ConfigFactory, Homeserver, offline_settings

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    return offline_settings(
        make_config, {"web.metrics_token": TOKEN, "outbox.retry_initial_delay": 5}
    )


async def test_readiness_names_what_is_missing_to_admins_only(
    client: TestClient,  # type: ignore[type-arg]
    api: API,
    add_manager: Callable[..., Any],
    aiohttp_client: AiohttpClient,
) -> None:
    assert (await client.get("/healthz")).status == 200  # alive: the database answers
    details = {"status": "unavailable", "database": "ok", "homeserver": "unreachable"}
    for headers in ({"Authorization": f"Bearer {TOKEN}"}, {}):  # the token, the admin's cookie
        resp = await client.get("/readyz", headers=headers)
        assert (resp.status, await resp.json()) == (503, details)
    # Anyone else learns whether it is ready, and nothing of what is inside.
    await add_manager("mo@example.com")
    manager = API(await aiohttp_client(client.server))
    await manager.login("mo@example.com", PASSWORD)
    anonymous = await aiohttp_client(client.server)
    for who, headers in [(manager.client, {}), (anonymous, {}),
                         (anonymous, {"Authorization": "Bearer wrong-\udcff"}),
                         (anonymous, {"Cookie": "crm_session=forged"})]:  # fmt: skip
        resp = await who.get("/readyz", headers=headers)
        assert (resp.status, await resp.json()) == (503, {"status": "unavailable"}), headers


async def test_metrics(api: API, hs: Homeserver, client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/metrics")).status == 401
    bad = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert bad.status == 401
    ghost = f.ghost("3364000001")
    await hs.ok([*f.portal("!ops", "3364000001", "Ops"), f.text("!ops", ghost, "hi"),
                 f.text("!ops", ghost, "there")])  # fmt: skip
    conversation = (await api.get("/api/v1/conversations"))["items"][0]["id"]
    status, _ = await api.call("POST", f"/api/v1/conversations/{conversation}/messages",
                               json={"client_txn_id": "m1", "body": "hello"})  # fmt: skip
    assert status == 202
    async with client.ws_connect("/api/v1/ws") as ws:
        await ws.receive_json()
        resp = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()

    def value(line_start: str) -> float:
        line = next(x for x in text.splitlines() if x.startswith(line_start))
        return float(line.rsplit(" ", 1)[1])

    assert value("crm_appservice_transactions_total") == 1
    assert value('crm_appservice_events_total{type="m.room.message"}') == 2
    assert value('crm_appservice_events_total{type="m.room.member"}') == 2
    assert value("crm_appservice_transaction_seconds_count") == 1
    assert value('crm_outbox_depth{channel="matrix"}') == 1  # waits for the homeserver
    assert value("crm_websocket_connections") == 1
    assert value("crm_database_pool_in_use") >= 1
    assert "crm_media_cache_bytes" in text


def test_json_logs_from_the_example_config(make_config: ConfigFactory) -> None:
    import importlib
    import json
    import logging

    settings = load(make_config({"logging.handlers.console.formatter": "json"}))[1]
    assert settings.logging["handlers"]["console"]["formatter"] == "json"
    module, _, name = settings.logging["formatters"]["json"]["()"].rpartition(".")
    formatter = getattr(importlib.import_module(module), name)()
    record = logging.makeLogRecord({
        "name": "crm.test", "levelno": logging.WARNING, "levelname": "WARNING",
        "msg": "Message %d sent", "args": (7,), "message_id": 7,
    })  # fmt: skip
    entry = json.loads(formatter.format(record))
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "WARNING", "crm.test", "Message 7 sent")  # fmt: skip
    assert entry["message_id"] == 7 and entry["time"].endswith("+00:00")
