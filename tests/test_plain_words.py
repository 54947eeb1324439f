"""What the API says when a manager got something wrong: the field's name and what it takes,
in words, never a pattern; amounts as people type them; notes their authors change or take
back; orders deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from crm_appservice.api import wording

from . import factories as f
from .conftest import API, Homeserver, bearer
from .test_live import frames_until


async def _contact(hs: Homeserver, db: asyncpg.Pool) -> tuple[int, int]:
    await hs.ok(f.portal("!w", "4915112345678", "Anna Schmidt"))
    row = await db.fetchrow("SELECT id, contact_id FROM conversations WHERE room_id = '!w'")
    assert row is not None
    return row["id"], row["contact_id"]


async def test_errors_name_the_field_and_say_what_it_takes(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    conversation, contact = await _contact(hs, db)
    orders = f"/api/v1/contacts/{contact}/orders"
    cases: list[tuple[str, str, Any, str, str]] = [
        ("POST", orders, {"number": "A-1", "currency": "euro"}, "currency",
         "Currency: three letters, like EUR"),
        ("POST", orders, {"currency": "EUR"}, "number", "Number: this is required"),
        ("POST", orders, {"number": "A-1", "total": "lots"}, "total",
         "Total: an amount, like 12.50"),
        ("POST", orders, {"number": "A-1", "items": [{"name": "Sofa", "price": "x"}]},
         "items.0.price", "Item 1, price: an amount, like 12.50"),
        ("PATCH", f"/api/v1/contacts/{contact}", {"phone": "call me"}, "phone",
         "Phone: a phone number with its country code, like +49 151 2345 6789"),
        ("PATCH", f"/api/v1/contacts/{contact}", {"email": "anna@"}, "email",
         "E-mail: an e-mail address, like name@example.com"),
        ("PATCH", f"/api/v1/contacts/{contact}", {"display_name": ""}, "display_name",
         "Name: cannot be empty"),
        ("PATCH", f"/api/v1/conversations/{conversation}", {"status": "done"}, "status",
         "Status: one of open, pending, resolved or snoozed"),
        ("GET", "/api/v1/conversations?limit=500", None, "limit", "Limit: at most 100"),
        ("POST", orders, {"number": "A-1", "colour": "red"}, "colour",
         "Colour: not a field this request takes"),
    ]  # fmt: skip
    for method, path, body, field, message in cases:
        status, answer = await api.call(method, path, json=body)
        assert status == 422, (path, body, answer)
        assert answer["error"]["field"] == field
        assert answer["error"]["message"] == message
    # A model's own rule keeps its words.
    status, answer = await api.call("PATCH", f"/api/v1/conversations/{conversation}",
                                    json={"snoozed_until": "2999-01-01T00:00:00Z"})  # fmt: skip
    assert status == 422
    assert answer["error"]["message"] == "The request: snoozed_until goes with status snoozed"


def test_every_message_is_a_sentence_about_a_field() -> None:
    """Whatever pydantic reports, the message starts with a label and has no regex in it."""
    for kind in ("string_pattern_mismatch", "enum", "url_parsing", "uuid_parsing", "frozen_set"):
        message, field = wording.explain({"type": kind, "loc": ("some_field",), "msg": "^[a]$"})
        assert message == "Some field: not in the expected form" and field == "some_field"


async def test_amounts_with_a_decimal_comma(api: API, hs: Homeserver, db: asyncpg.Pool) -> None:
    _, contact = await _contact(hs, db)
    orders = f"/api/v1/contacts/{contact}/orders"
    typed_and_stored = [("A-1", "12,50", "12.50"), ("A-2", "1.234,50", "1234.50"),
                        ("A-3", "1,234.50", "1234.50"), ("A-4", " 99 ", "99.00")]  # fmt: skip
    for number, typed, stored in typed_and_stored:
        status, order = await api.call("POST", orders, json={"number": number, "total": typed})
        assert status == 201, order
        assert order["total"] == stored


async def test_notes_changed_and_deleted_by_their_author_only(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    conversation, contact = await _contact(hs, db)
    _, note = await api.call("POST", f"/api/v1/conversations/{conversation}/notes",
                             json={"body": "Call back on Monday"})  # fmt: skip
    ben = await bearer(db, await add_manager("ben@example.com", name="Ben"))
    path = f"/api/v1/notes/{note['id']}"
    status, answer = await api.call("PATCH", path, json={"body": "Never mind"}, headers=ben)
    assert status == 403 and answer["error"]["message"] == (
        "Only its author may change or delete a note"
    )
    assert (await api.call("DELETE", path, headers=ben))[0] == 403
    async with api.client.ws_connect("/api/v1/ws") as ws:
        await ws.receive_json()
        status, edited = await api.call("PATCH", path, json={"body": "Call back on Tuesday"})
        assert status == 200 and edited["body"] == "Call back on Tuesday"
        assert edited["edited_at"] is not None
        [frame] = await frames_until(ws, {"note.updated"})
        assert frame["data"]["body"] == "Call back on Tuesday"
        status, deleted = await api.call("DELETE", path)
        assert status == 200 and deleted["deleted_at"] is not None
        [frame] = await frames_until(ws, {"note.updated"})
        assert frame["data"]["deleted_at"] is not None
    bundle = await api.get(f"/api/v1/conversations/{conversation}")
    assert bundle["notes"] == []
    assert (await api.call("DELETE", path))[0] == 404

    _, order = await api.call("POST", f"/api/v1/contacts/{contact}/orders",
                              json={"number": "A-9", "total": "5"})  # fmt: skip
    assert (await api.call("DELETE", f"/api/v1/orders/{order['id']}"))[0] == 200
    assert (await api.get(f"/api/v1/contacts/{contact}/orders"))["items"] == []
    assert (await api.call("DELETE", f"/api/v1/orders/{order['id']}"))[0] == 404
