"""Notes, contacts, orders, managers and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import asyncpg

from crm_appservice.api import (
    contact_models,
    conversations,
    models,
    openapi,
    order_models,
    token_models,
)

from . import factories as f
from .conftest import API, PASSWORD, Homeserver, define
from .test_live import frames_until


async def _conversation(hs: Homeserver, db: asyncpg.Pool) -> tuple[int, int]:
    await hs.ok(f.portal("!r", "4915112345678", "Anna Schmidt"))
    row = await db.fetchrow("SELECT id, contact_id FROM conversations WHERE room_id = '!r'")
    assert row is not None
    return row["id"], row["contact_id"]


async def test_notes_are_added_and_pushed(api: API, hs: Homeserver, db: asyncpg.Pool) -> None:
    conv_id, _ = await _conversation(hs, db)
    async with api.client.ws_connect("/api/v1/ws") as ws:
        await ws.receive_json()
        status, note = await api.call(
            "POST", f"/api/v1/conversations/{conv_id}/notes", json={"body": "VIP, call back"}
        )
        assert status == 201
        assert (note["body"], note["author_name"]) == ("VIP, call back", "Anna")
        frames = await frames_until(ws, {"note.created"})
        assert frames[-1]["data"]["id"] == note["id"]
    bundle = await api.get(f"/api/v1/conversations/{conv_id}")
    assert [n["body"] for n in bundle["notes"]] == ["VIP, call back"]
    status, err = await api.call(
        "POST", f"/api/v1/conversations/{conv_id}/notes", json={"body": ""}
    )
    assert (status, err["error"]["field"]) == (422, "body")


async def test_contacts_and_orders(api: API, hs: Homeserver, db: asyncpg.Pool) -> None:
    _, contact_id = await _conversation(hs, db)
    await define(api, city="text", vip="boolean")
    contact = await api.get(f"/api/v1/contacts/{contact_id}")
    assert (contact["display_name"], contact["phone"]) == ("Anna Schmidt", "+4915112345678")
    status, edited = await api.call(
        "PATCH", f"/api/v1/contacts/{contact_id}",
        json={"email": "anna@example.de", "attributes": {"city": "Berlin", "vip": True}},
    )  # fmt: skip
    assert status == 200
    assert edited["email"] == "anna@example.de"
    assert edited["attributes"] == {"city": "Berlin", "vip": True}
    status, err = await api.call(
        "PATCH", f"/api/v1/contacts/{contact_id}", json={"email": "not-an-email"}
    )
    assert (status, err["error"]["field"]) == (422, "email")

    order = {"number": "A-100", "total": "149.90", "currency": "EUR",
             "items": [{"name": "Sofa", "quantity": 1, "price": "149.90"}]}  # fmt: skip
    status, created = await api.call("POST", f"/api/v1/contacts/{contact_id}/orders", json=order)
    assert status == 201, created
    assert (created["number"], created["total"], created["status"]) == ("A-100", "149.90", "new")
    status, err = await api.call("POST", f"/api/v1/contacts/{contact_id}/orders", json=order)
    assert (status, err["error"]["code"]) == (409, "conflict")
    status, paid = await api.call(
        "PATCH", f"/api/v1/orders/{created['id']}", json={"status": "paid"}
    )
    assert (status, paid["status"]) == (200, "paid")
    listed = await api.get(f"/api/v1/contacts/{contact_id}/orders")
    assert [o["status"] for o in listed["items"]] == ["paid"]
    status, err = await api.call("PATCH", f"/api/v1/orders/{created['id']}",
                                 json={"currency": "euro"})  # fmt: skip
    assert (status, err["error"]["field"]) == (422, "currency")
    assert (await api.call("GET", "/api/v1/contacts/999999"))[0] == 404


async def test_admins_manage_managers(
    api: API, client: Any, add_manager: Callable[..., Any]
) -> None:
    status, created = await api.call(
        "POST", "/api/v1/managers",
        json={"email": "Max@Example.com", "name": "Max", "password": "long enough pw"},
    )  # fmt: skip
    assert status == 201
    assert (created["email"], created["role"], created["is_active"]) == (
        "max@example.com", "manager", True)  # fmt: skip
    status, _ = await api.call("POST", "/api/v1/managers", json={
        "email": "max@example.com", "name": "Max", "password": "long enough pw"})  # fmt: skip
    assert status == 409
    listed = await api.get("/api/v1/managers")
    assert {m["email"] for m in listed["items"]} == {"anna@example.com", "max@example.com"}

    url = client.make_url
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.post(url("/api/v1/auth/login"), json={
                "email": "max@example.com", "password": "long enough pw"}) as resp:  # fmt: skip
            csrf = (await resp.json())["csrf_token"]
        async with browser.get(url("/api/v1/managers")) as resp:
            assert resp.status == 403  # not an admin
        async with browser.get(url("/api/v1/team")) as resp:  # but names are for everyone
            team = (await resp.json())["items"]
            assert {(m["name"], m["role"]) for m in team} == {
                ("Anna", "admin"),
                ("Max", "manager"),
            }
            assert "email" not in team[0]
        status, _ = await api.call(
            "PATCH", f"/api/v1/managers/{created['id']}", json={"is_active": False}
        )
        assert status == 200
        async with browser.get(url("/api/v1/me"), headers={"X-CSRF-Token": csrf}) as resp:
            assert resp.status == 401  # deactivated: every session ended
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    status, err = await api.call("PATCH", f"/api/v1/managers/{me}", json={"role": "manager"})
    assert (status, err["error"]["code"]) == (403, "forbidden")


async def test_openapi_document(api: API) -> None:
    doc = await api.get("/api/v1/openapi.json")
    # Anyone may ask for it: it is built once, not at every request (15 ms in the event loop).
    for _ in range(3):
        assert await api.get("/api/v1/openapi.json") == doc
    assert openapi._served.cache_info().misses == 1
    assert openapi.document.cache_info().misses == 1
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/conversations" in doc["paths"]
    schemas = doc["components"]["schemas"]
    assert {"ConversationOut", "MessageOut", "LoginBody", "OrderBody"} <= set(schemas)
    message = schemas["MessageOut"]["properties"]
    assert {"id", "direction", "sender", "media", "reactions", "status"} <= set(message)
    # Every API route of the app is documented.
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    for route in api.client.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/") and route.method != "HEAD":
            assert (route.method, path) in documented, (route.method, path)


def _documented_model(doc: dict[str, Any], method: str, path: str, status: str) -> type[Any]:
    schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]
    name = schema["schema"]["$ref"].rsplit("/", 1)[1]
    # The API's models live beside the routes they belong to.
    found = [
        getattr(m, name)
        for m in (models, contact_models, order_models, token_models, conversations)
        if hasattr(m, name)
    ]
    model = found[0]
    assert isinstance(model, type)
    return model


def _fields_of(model: type[Any], answer: Any) -> None:
    """`answer` has exactly the fields the model documents, at every level."""
    if isinstance(answer, dict) and hasattr(model, "model_fields"):
        assert set(answer) == set(model.model_fields), (model.__name__, sorted(answer))


async def test_every_answer_is_what_the_document_says(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    """The reads of the inbox answer with exactly the model their OpenAPI entry names: no
    undocumented answer, no field missing or added."""
    conv_id, contact_id = await _conversation(hs, db)
    await hs.ok([f.text("!r", f.ghost("4915112345678"), "Is the sofa in stock?")])
    status, _ = await api.call(
        "POST", f"/api/v1/contacts/{contact_id}/orders", json={"number": "A-1", "total": "5"}
    )
    assert status == 201
    await api.call("POST", f"/api/v1/conversations/{conv_id}/notes", json={"body": "Call back"})
    await api.call("POST", "/api/v1/tokens", json={"label": "script", "password": PASSWORD})
    doc = await api.get("/api/v1/openapi.json")
    reads = {
        "/api/v1/me": "/api/v1/me",
        "/api/v1/tokens": "/api/v1/tokens",
        "/api/v1/conversations": "/api/v1/conversations",
        "/api/v1/conversations/counts": "/api/v1/conversations/counts",
        "/api/v1/conversations/{conversation_id}": f"/api/v1/conversations/{conv_id}",
        "/api/v1/conversations/{conversation_id}/messages":
            f"/api/v1/conversations/{conv_id}/messages",
        "/api/v1/contacts": "/api/v1/contacts",
        "/api/v1/contacts/{contact_id}": f"/api/v1/contacts/{contact_id}",
        "/api/v1/contacts/{contact_id}/orders": f"/api/v1/contacts/{contact_id}/orders",
        "/api/v1/team": "/api/v1/team",
        "/api/v1/managers": "/api/v1/managers",
    }  # fmt: skip
    for documented, path in reads.items():
        answer = await api.get(path)
        model = _documented_model(doc, "get", documented, "200")
        model.model_validate(answer)
        _fields_of(model, answer)
    bundle = await api.get(f"/api/v1/conversations/{conv_id}")
    assert [o["number"] for o in bundle["orders"]] == ["A-1"]
    assert [n["body"] for n in bundle["notes"]] == ["Call back"]
    _fields_of(models.ConversationOut, bundle["conversation"])
    _fields_of(models.MessageOut, bundle["messages"]["items"][0])
    _fields_of(models.SenderOut, bundle["messages"]["items"][0]["sender"])
    # Every JSON read of the API names its answer's model (files and the socket are not JSON).
    for path, operations in doc["paths"].items():
        get = operations.get("get")
        if get and not path.startswith(("/api/v1/media/", "/api/v1/ws", "/api/v1/openapi")):
            assert "content" in get["responses"]["200"], path
