"""Contacts as managers edit them, and who may see one."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from .database import Conn, set_clause

_CONTACT = """id, coalesce(display_name, phone, remote_id) AS name,
    platform, remote_id, phone, email, display_name, avatar_url, attributes, label_ids,
    owner_id, (SELECT m.name FROM managers m WHERE m.id = owner_id) AS owner_name,
    created_at, updated_at"""


async def get(conn: Conn, contact_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_CONTACT} FROM contacts WHERE id = $1 AND merged_into IS NULL", contact_id
    )


async def heir(conn: Conn, contact_id: int) -> int | None:
    """The contact a merged one became (following every merge since), or None for one that was
    never merged or does not exist: an old address of a contact leads to the person."""
    found: int | None = await conn.fetchval(
        """WITH RECURSIVE chain(id, merged_into, depth) AS (
               SELECT id, merged_into, 0 FROM contacts WHERE id = $1
               UNION ALL
               SELECT c.id, c.merged_into, chain.depth + 1
                 FROM contacts c JOIN chain ON c.id = chain.merged_into WHERE chain.depth < 50)
           SELECT id FROM chain WHERE merged_into IS NULL AND depth > 0""",
        contact_id,
    )
    return found


async def phones(conn: Conn, contact_id: int) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT phone, first_seen, last_seen FROM contact_phones WHERE contact_id = $1"
            " ORDER BY last_seen DESC, phone",
            contact_id,
        )
    )


async def update(conn: Conn, contact_id: int, changes: dict[str, Any]) -> asyncpg.Record | None:
    """`attributes` are merged into the contact's: a key with null is removed."""
    assert set(changes) <= {"display_name", "phone", "email", "attributes", "owner_id"}
    changes = dict(changes)
    attributes = changes.pop("attributes", None)
    sets, values = set_clause(changes)
    if attributes is not None:
        # Merged in the statement: two managers editing two attributes at once keep both.
        at = len(values) + 2
        sets = ", ".join(
            filter(None, [sets, f"attributes = jsonb_strip_nulls(attributes || ${at}::jsonb)"])
        )
        values.append(orjson.dumps(attributes).decode())
    updated = await conn.fetchval(
        f"UPDATE contacts SET {sets}, updated_at = now() WHERE id = $1 AND merged_into IS NULL"
        " RETURNING id",
        contact_id,
        *values,
    )
    return None if updated is None else await get(conn, contact_id)


async def conversation_ids(conn: Conn, contact_id: int) -> list[int]:
    rows = await conn.fetch("SELECT id FROM conversations WHERE contact_id = $1", contact_id)
    return [r["id"] for r in rows]


async def visible_to(conn: Conn, contact_id: int, manager_id: int) -> bool:
    """Whether a manager who sees only their own and unassigned conversations sees this
    contact: it is their customer, or one of its conversations is theirs or nobody's
    (conversations_contact_idx)."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1 AND owner_id = $2)"
        " OR EXISTS (SELECT 1 FROM conversations WHERE contact_id = $1"
        " AND (assignee_id IS NULL OR assignee_id = $2))",
        contact_id,
        manager_id,
    )
    return found
