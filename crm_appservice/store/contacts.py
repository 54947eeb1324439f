"""Contacts, their orders, and notes on conversations: what managers edit by hand."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from .database import Conn, set_clause

_CONTACT = """id, platform, remote_id, phone, email, display_name, avatar_url, attributes,
    created_at, updated_at"""
_ORDER = "id, contact_id, number, status, total, currency, items, created_at, updated_at"
_NOTE = """n.id, n.conversation_id, n.body, n.author_id, m.name AS author_name, n.created_at,
    n.edited_at, n.deleted_at"""


async def get(conn: Conn, contact_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_CONTACT} FROM contacts WHERE id = $1", contact_id)


async def update(conn: Conn, contact_id: int, changes: dict[str, Any]) -> asyncpg.Record | None:
    assert set(changes) <= {"display_name", "phone", "email", "attributes"}
    sets, values = set_clause(changes, jsonb=frozenset({"attributes"}))
    return await conn.fetchrow(
        f"UPDATE contacts SET {sets}, updated_at = now() WHERE id = $1 RETURNING {_CONTACT}",
        contact_id,
        *values,
    )


async def learn_phone(conn: Conn, contact_id: int, phone: str) -> bool:
    """The number a contact known only by its LID was reached at (the bridge's answer to
    opening a chat with it); a number the contact already has stays."""
    return bool(await conn.fetchval(
        "UPDATE contacts SET phone = $2, updated_at = now()"
        " WHERE id = $1 AND phone IS NULL RETURNING true", contact_id, phone))  # fmt: skip


async def conversation_ids(conn: Conn, contact_id: int) -> list[int]:
    rows = await conn.fetch("SELECT id FROM conversations WHERE contact_id = $1", contact_id)
    return [r["id"] for r in rows]


async def visible_to(conn: Conn, contact_id: int, manager_id: int) -> bool:
    """Whether a manager who sees only their own and unassigned conversations sees this
    contact: one of its conversations is theirs or nobody's (conversations_contact_idx)."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM conversations WHERE contact_id = $1"
        " AND (assignee_id IS NULL OR assignee_id = $2))",
        contact_id,
        manager_id,
    )
    return found


async def order_contact(conn: Conn, order_id: int) -> int | None:
    found: int | None = await conn.fetchval(
        "SELECT contact_id FROM orders WHERE id = $1", order_id
    )
    return found


async def orders(conn: Conn, contact_id: int) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {_ORDER} FROM orders WHERE contact_id = $1 ORDER BY created_at DESC, id DESC",
            contact_id,
        )
    )


async def add_order(
    conn: Conn, contact_id: int, manager_id: int, fields: dict[str, Any]
) -> asyncpg.Record | None:
    """None when the contact already has an order with that number."""
    return await conn.fetchrow(
        f"""
        INSERT INTO orders (contact_id, number, status, total, currency, items, created_by)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
        ON CONFLICT (contact_id, number) DO NOTHING
        RETURNING {_ORDER}
        """,
        contact_id,
        fields["number"],
        fields["status"],
        fields["total"],
        fields["currency"],
        orjson.dumps(fields["items"]).decode(),
        manager_id,
    )


async def update_order(
    conn: Conn, order_id: int, changes: dict[str, Any]
) -> asyncpg.Record | None:
    assert set(changes) <= {"number", "status", "total", "currency", "items"}
    sets, values = set_clause(changes, jsonb=frozenset({"items"}))
    return await conn.fetchrow(
        f"UPDATE orders SET {sets}, updated_at = now() WHERE id = $1 RETURNING {_ORDER}",
        order_id,
        *values,
    )


async def add_note(conn: Conn, conversation_id: int, author_id: int, body: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        WITH n AS (
            INSERT INTO notes (conversation_id, author_id, body) VALUES ($1, $2, $3)
            RETURNING *
        )
        SELECT {_NOTE} FROM n LEFT JOIN managers m ON m.id = n.author_id
        """,
        conversation_id,
        author_id,
        body,
    )
    assert row is not None
    return row


async def notes(conn: Conn, conversation_id: int) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {_NOTE} FROM notes n LEFT JOIN managers m ON m.id = n.author_id"
            " WHERE n.conversation_id = $1 AND n.deleted_at IS NULL ORDER BY n.created_at, n.id",
            conversation_id,
        )
    )


async def note(conn: Conn, note_id: int) -> asyncpg.Record | None:
    """A note that is not deleted, with its conversation's assignee (who may see it)."""
    return await conn.fetchrow(
        "SELECT n.id, n.author_id, n.conversation_id, c.assignee_id AS conversation_assignee_id"
        " FROM notes n JOIN conversations c ON c.id = n.conversation_id"
        " WHERE n.id = $1 AND n.deleted_at IS NULL",
        note_id,
    )


async def change_note(conn: Conn, note_id: int, body: str | None) -> None:
    """A new text for the note, or (None) the note deleted."""
    if body is None:
        await conn.execute("UPDATE notes SET deleted_at = now() WHERE id = $1", note_id)
    else:
        await conn.execute(
            "UPDATE notes SET body = $2, edited_at = now() WHERE id = $1", note_id, body
        )


async def delete_order(conn: Conn, order_id: int) -> bool:
    result: str = await conn.execute("DELETE FROM orders WHERE id = $1", order_id)
    return result.endswith(" 1")


async def notes_by_ids(conn: Conn, ids: list[int]) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {_NOTE}, c.assignee_id AS conversation_assignee_id FROM notes n"
            " JOIN conversations c ON c.id = n.conversation_id"
            " LEFT JOIN managers m ON m.id = n.author_id WHERE n.id = ANY($1::bigint[])",
            ids,
        )
    )
