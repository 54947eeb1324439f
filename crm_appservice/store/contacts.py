"""Contacts as managers edit them, and who may see one."""

from __future__ import annotations

from typing import Any

import asyncpg

from .database import Conn, set_clause

_CONTACT = """id, platform, remote_id, phone, email, display_name, avatar_url, attributes,
    created_at, updated_at"""


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
