"""Every route of the API (from the app's own route table), for each caller: nobody, an admin, a
manager who sees all, a manager who sees only their own and unassigned conversations (on their
own, and on a colleague's). Each cell is the status that caller must get; a route added without
its row fails here.

Each column works on its own copy of the data (a conversation with its contact, messages, note
and order), so what one caller changes never decides another's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import itertools
import re
from typing import Any

from aiohttp.test_utils import TestClient
import asyncpg
import pytest
from pytest_aiohttp import AiohttpClient

from crm_appservice.config import Settings
from crm_appservice.server import create_app

from . import factories as f
from .conftest import ConfigFactory, Homeserver, bearer, offline_settings

COLUMNS = ("anonymous", "admin", "manager", "restricted", "restricted_other")
PNG = {"msgtype": "m.image", "body": "p.png", "url": "mxc://crm.localhost/abcDEF123",
       "info": {"mimetype": "image/png", "size": 10}}  # fmt: skip
Row = tuple[str, str, Any, tuple[int, int, int, int, int]]


def anyone(ok: int) -> tuple[int, int, int, int, int]:
    """Every signed-in caller, whatever they may see."""
    return (401, ok, ok, ok, ok)


def visible(ok: int) -> tuple[int, int, int, int, int]:
    """Who may see the conversation (a colleague's is 404 to a restricted manager)."""
    return (401, ok, ok, ok, 404)


def admins(ok: int) -> tuple[int, int, int, int, int]:
    return (401, ok, 403, 403, 403)


C = "/api/v1/conversations/{conversation}"
W = "/api/v1/whatsapp"
STAGES = [{"name": "New"}, {"name": "Won", "kind": "won"}, {"name": "Lost", "kind": "lost"}]
NEW_MANAGER = {"email": "new{n}@example.com", "name": "New", "password": "long enough!"}
# (method, path, body, statuses in COLUMNS' order); placeholders name the column's objects.
MATRIX: list[Row] = [
    ("POST", "/api/v1/auth/login", {"email": "x@example.com", "password": "x"}, anyone(401)),
    ("POST", "/api/v1/auth/logout", None, anyone(200)),
    ("GET", "/api/v1/me", None, anyone(200)),
    ("PATCH", "/api/v1/me", {"name": "Still me"}, anyone(200)),
    ("GET", "/api/v1/tokens", None, anyone(200)),
    ("POST", "/api/v1/tokens", {"label": "x", "password": "wrong"}, anyone(403)),
    ("DELETE", "/api/v1/tokens/{token}", None, anyone(200)),
    ("GET", "/api/v1/openapi.json", None, anyone(200)),
    ("GET", "/api/v1/team", None, anyone(200)),
    ("GET", "/api/v1/managers", None, admins(200)),
    ("POST", "/api/v1/managers", NEW_MANAGER, admins(201)),
    ("PATCH", "/api/v1/managers/{colleague}", {"name": "Ola B"}, admins(200)),
    ("GET", "/api/v1/conversations", None, anyone(200)),
    ("GET", "/api/v1/conversations/counts", None, anyone(200)),
    ("GET", C, None, visible(200)),
    ("PATCH", C, {"status": "pending"}, visible(200)),
    ("GET", C + "/messages", None, visible(200)),
    ("POST", C + "/messages", {"client_txn_id": "t{n}", "body": "hello"}, visible(202)),
    ("POST", C + "/notes", {"body": "call back"}, visible(201)),
    ("PUT", C + "/draft", {"body": "half a thought"}, visible(200)),
    ("POST", C + "/read", None, visible(200)),
    ("GET", "/api/v1/numbers", None, anyone(200)),
    ("PUT", W + "/logins/{number}/name", {"name": "Shop"}, admins(200)),
    # No bridge configured here (a colleague's chat by number: test_whatsapp.py).
    ("POST", "/api/v1/conversations/new", {"phone": "+33 6 12 34 56 78"}, anyone(502)),
    # A colleague's reply: admins may change it, a manager only their own.
    ("PATCH", "/api/v1/messages/{sent}", {"body": "edited"}, (401, 202, 403, 202, 404)),
    ("DELETE", "/api/v1/messages/{sent}", None, (401, 202, 403, 202, 404)),
    ("POST", "/api/v1/messages/{message}/reactions", {"key": "👍"}, visible(202)),
    # (The row above added the reaction.)
    ("DELETE", "/api/v1/messages/{message}/reactions/{key}", None, visible(202)),
    ("POST", "/api/v1/messages/{failed}/retry", None, visible(202)),
    # The homeserver is not running here: the media proxy says so, to those who may see.
    ("GET", "/api/v1/media/{image}", None, visible(502)),
    ("GET", "/api/v1/media/{image}/thumbnail", None, visible(502)),
    ("GET", "/api/v1/contacts", None, anyone(200)),
    ("GET", "/api/v1/contacts/export.csv", None, anyone(200)),
    (
        "POST",
        "/api/v1/contacts/import/preview",
        {"csv": "name,email\nA,a{n}@example.com\n"},
        admins(200),
    ),
    ("POST", "/api/v1/contacts/import", {"csv": "name,email\nA,a{n}@example.com\n"}, admins(200)),
    ("GET", "/api/v1/contacts/{contact}", None, visible(200)),
    ("PATCH", "/api/v1/contacts/{contact}", {"display_name": "Lea B"}, visible(200)),
    ("GET", "/api/v1/contacts/{contact}/orders", None, visible(200)),
    ("GET", "/api/v1/contacts/{contact}/duplicates", None, visible(200)),
    # Into a contact the caller sees, of one that is not there (merges: test_contact_merges.py).
    ("POST", "/api/v1/contacts/{contact}/merge", {"contact_id": 999_999_999}, visible(422)),
    ("POST", "/api/v1/contact-merges/{missing}/undo", None, anyone(404)),
    ("GET", "/api/v1/contact-attributes", None, anyone(200)),
    ("POST", "/api/v1/contact-attributes", {"label": "Budget {n}", "kind": "number"}, admins(201)),
    ("PATCH", "/api/v1/contact-attributes/{missing}", {"label": "Size"}, admins(404)),
    ("DELETE", "/api/v1/contact-attributes/{missing}", None, admins(404)),
    ("GET", "/api/v1/quick-replies", None, anyone(200)),
    (
        "POST",
        "/api/v1/quick-replies",
        {"name": "Hi", "shortcut": "hi{n}", "body": "Hello", "personal": True},
        anyone(201),
    ),
    (
        "POST",
        "/api/v1/quick-replies",
        {"name": "Hi", "shortcut": "team{n}", "body": "Hello"},
        admins(201),
    ),
    ("PATCH", "/api/v1/quick-replies/{missing}", {"name": "Hey"}, anyone(404)),
    ("DELETE", "/api/v1/quick-replies/{missing}", None, anyone(404)),
    ("POST", "/api/v1/quick-replies/{missing}/files", None, anyone(404)),
    ("GET", "/api/v1/quick-replies/{missing}/files/{missing}", None, anyone(404)),
    ("DELETE", "/api/v1/quick-replies/{missing}/files/{missing}", None, anyone(404)),
    ("GET", C + "/quick-replies/{missing}", None, visible(404)),
    ("GET", "/api/v1/labels", None, anyone(200)),
    ("POST", "/api/v1/labels", {"name": "Label {n}", "colour": "#2E7D32"}, admins(201)),
    ("PATCH", "/api/v1/labels/{missing}", {"name": "VIP"}, admins(404)),
    ("DELETE", "/api/v1/labels/{missing}", None, admins(404)),
    # A label that is not there; taking off one it does not have changes nothing.
    ("POST", C + "/labels", {"label_id": 999_999_999}, visible(422)),
    ("DELETE", C + "/labels/{missing}", None, visible(200)),
    ("POST", "/api/v1/contacts/{contact}/labels", {"label_id": 999_999_999}, visible(422)),
    ("DELETE", "/api/v1/contacts/{contact}/labels/{missing}", None, visible(200)),
    # Another's conversation is skipped, not refused: the answer says so.
    ("POST", "/api/v1/conversations/bulk", {"ids": [1], "patch": {"status": "open"}}, anyone(200)),
    ("GET", "/api/v1/views", None, anyone(200)),
    ("POST", "/api/v1/views", {"name": "View {n}", "filters": {"waiting": True}}, anyone(201)),
    ("POST", "/api/v1/views", {"name": "Team {n}", "shared": True, "filters": {}}, admins(201)),
    ("PATCH", "/api/v1/views/{missing}", {"name": "Hot"}, anyone(404)),
    ("DELETE", "/api/v1/views/{missing}", None, anyone(404)),
    ("GET", "/api/v1/pipelines", None, anyone(200)),
    ("POST", "/api/v1/pipelines", {"name": "Pipeline {n}", "stages": STAGES}, admins(201)),
    ("PATCH", "/api/v1/pipelines/{missing}", {"name": "Renewals"}, admins(404)),
    ("PATCH", "/api/v1/pipelines/{pipeline}", {"currency": "EUR"}, admins(200)),
    ("DELETE", "/api/v1/pipelines/{missing}", None, admins(404)),
    ("GET", "/api/v1/pipelines/{pipeline}/board", None, anyone(200)),
    ("GET", "/api/v1/deals?stage_id={stage}", None, anyone(200)),
    # A customer the manager does not see is no customer for their deal (422, nothing told).
    (
        "POST",
        "/api/v1/deals",
        {"title": "Deal {n}", "contact_id": "{contact}"},
        (401, 201, 201, 201, 422),
    ),
    ("GET", "/api/v1/deals/{deal}", None, visible(200)),
    ("PATCH", "/api/v1/deals/{deal}", {"value": "12.50"}, visible(200)),
    ("POST", "/api/v1/deals/{deal}/move", {"stage_id": "{stage}"}, visible(200)),
    ("GET", "/api/v1/contacts/{contact}/deals", None, visible(200)),
    # Its owner's (the conversation's assignee's) or an admin's.
    ("DELETE", "/api/v1/deals/{deal}", None, (401, 200, 403, 200, 404)),
    ("POST", "/api/v1/contacts/{contact}/orders", {"number": "N{n}", "total": "5"}, visible(201)),
    ("PATCH", "/api/v1/orders/{order}", {"status": "paid"}, visible(200)),
    ("DELETE", "/api/v1/orders/{order}", None, visible(200)),
    # Its author's (the conversation's assignee's) only: the admin and Mo are not the author.
    ("PATCH", "/api/v1/notes/{note}", {"body": "call back"}, (401, 403, 403, 200, 404)),
    ("DELETE", "/api/v1/notes/{note}", None, (401, 403, 403, 200, 404)),
    # The WhatsApp login is the admins'; no bridge is configured here.
    ("GET", W, None, admins(502)),
    ("POST", W + "/login/{flow}", None, admins(502)),
    ("POST", W + "/login/{login}/cancel", None, admins(502)),
    ("POST", W + "/login/{login}/{step}/input", {"phone_number": "+33612345678"}, admins(502)),
    ("POST", W + "/login/{login}/{step}/wait", None, admins(502)),
    ("POST", W + "/logout/{login}", None, admins(502)),
    ("GET", "/api/v1/ws", None, anyone(400)),  # a GET that is not a WebSocket handshake
]


@dataclass
class Objects:
    """One column's data."""

    conversation: int
    contact: int
    message: int
    sent: int
    failed: int
    image: int
    order: int
    note: int
    deal: int
    pipeline: int
    stage: int


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    return offline_settings(make_config, {"web.managers_see": "assigned"})


_rooms = itertools.count(1)


async def objects(hs: Homeserver, db: asyncpg.Pool, assignee: int) -> Objects:
    n = next(_rooms)
    room, phone = f"!matrix{n}", f"3368000{n:04d}"
    customer = f.ghost(phone)
    await hs.ok([*f.portal(room, phone, f"Customer {n}"), f.text(room, customer, "hi"),
                 f.event(room, "m.room.message", customer, PNG)])  # fmt: skip
    row = await db.fetchrow("SELECT id, contact_id FROM conversations WHERE room_id = $1", room)
    await db.execute("UPDATE conversations SET assignee_id = $2 WHERE id = $1", row["id"],
                     assignee)  # fmt: skip
    message = await db.fetchval(
        "SELECT id FROM messages WHERE conversation_id = $1 AND kind = 'text'", row["id"]
    )
    image = await db.fetchval(
        "SELECT id FROM messages WHERE conversation_id = $1 AND kind = 'image'", row["id"]
    )
    # A reply that reached the chat, and one that did not.
    sent, failed = [
        await db.fetchval(
            "INSERT INTO messages (conversation_id, direction, kind, body, status, event_id,"
            " sender_manager_id, created_at) VALUES ($1, 'out', 'text', $2, $3, $4, $5, now())"
            " RETURNING id",
            row["id"],
            body,
            status,
            event_id,
            assignee,
        )
        for body, status, event_id in (("sent", "sent", f"$sent{n}"), ("lost", "failed", None))
    ]
    order = await db.fetchval(
        "INSERT INTO orders (contact_id, number, status, total) VALUES ($1, 'A-1', 'new', 1)"
        " RETURNING id",
        row["contact_id"],
    )
    # Written by the conversation's assignee: only they may change it.
    note = await db.fetchval(
        "INSERT INTO notes (conversation_id, author_id, body) VALUES ($1, $2, 'call')"
        " RETURNING id",
        row["id"],
        assignee,
    )
    # Owned by the conversation's assignee, in the pipeline a team starts with.
    pipeline, stage = await db.fetchrow(
        "SELECT pipeline_id, id FROM deal_stages WHERE kind = 'open' ORDER BY id LIMIT 1"
    )
    deal = await db.fetchval(
        "INSERT INTO deals (pipeline_id, stage_id, position, title, currency, contact_id,"
        " owner_id) VALUES ($1, $2, 0, 'Deal', 'EUR', $3, $4) RETURNING id",
        pipeline,
        stage,
        row["contact_id"],
        assignee,
    )
    return Objects(
        row["id"],
        row["contact_id"],
        message,
        sent,
        failed,
        image,
        order,
        note,
        deal,
        pipeline,
        stage,
    )


async def test_every_route_for_every_caller(
    client: TestClient,  # type: ignore[type-arg]
    hs: Homeserver,
    db: asyncpg.Pool,
    add_manager: Callable[..., Any],
    db_dsn: str,
    make_config: ConfigFactory,
    aiohttp_client: AiohttpClient,
) -> None:
    # The manager who sees all is served by an instance configured so, on the same database.
    sees_all = await aiohttp_client(
        create_app(offline_settings(make_config, {"web.managers_see": "all"}), db_dsn)
    )
    admin = await add_manager("anna@example.com", role="admin")
    mo = await add_manager("mo@example.com")
    ola = await add_manager("ola@example.com")
    table = {(m, _shape(p)) for m, p, _, _ in MATRIX}
    routes = {
        (r.method, _shape(r.resource.canonical))
        for r in client.app.router.routes()
        if r.resource and r.resource.canonical.startswith("/api/") and r.method != "HEAD"
    }
    assert routes == table, (routes - table, table - routes)

    found: list[str] = []
    callers = [(None, ola), (admin, ola), (mo, ola), (mo, mo), (mo, ola)]  # and whose data
    for column, (who, target_owner) in zip(COLUMNS, callers, strict=True):
        app = sees_all if column == "manager" else client
        mine = await objects(hs, db, target_owner)
        for method, path, body, statuses in MATRIX:
            expected = statuses[COLUMNS.index(column)]
            headers = await bearer(db, who) if who else {}
            token = await db.fetchval(
                "SELECT max(id) FROM sessions WHERE manager_id = $1", who or ola
            )
            n = next(_rooms)
            values = {**vars(mine), "token": token, "colleague": ola, "n": n, "key": "👍",
                      "flow": "qr", "login": "l1", "step": "s1",
                      "number": "15550000001", "missing": 424242}  # fmt: skip
            url = path.format(**values)
            payload = _fill(body, values)
            resp = await app.request(method, url, json=payload, headers=headers)
            if resp.status != expected:
                found.append(f"{column:16} {method} {path}: {resp.status} (expected {expected})"
                             f" {(await resp.text())[:120]}")  # fmt: skip
    assert not found, "\n".join(found)


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])


def _fill(body: Any, values: dict[str, Any]) -> Any:
    """The body with the column's objects: "{deal}" alone is the deal's id as a number."""
    if isinstance(body, dict):
        return {k: _fill(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill(v, values) for v in body]
    if isinstance(body, str) and re.fullmatch(r"\{\w+\}", body) and body[1:-1] != "n":
        return values[body[1:-1]]
    return body.format(**values) if isinstance(body, str) else body
