"""Quick replies (migrations/0022): the team's and each manager's own, their files, and the
values their variables take in a conversation."""

from __future__ import annotations

from typing import Any

import asyncpg

from .database import Conn

_COLUMNS = "q.id, q.owner_id, q.name, q.shortcut, q.body, q.created_at, q.updated_at"
_FILES = """coalesce((SELECT jsonb_agg(jsonb_build_object(
        'id', f.id, 'filename', f.filename, 'mimetype', f.mimetype, 'size', f.size,
        'width', f.width, 'height', f.height) ORDER BY f.id)
    FROM quick_reply_files f WHERE f.quick_reply_id = q.id), '[]'::jsonb) AS files"""


class ShortcutTaken(Exception):
    """Another quick reply of the same set (the team's, or the manager's own) has it."""


async def visible(conn: Conn, manager_id: int) -> list[asyncpg.Record]:
    """The team's quick replies and the manager's own, by shortcut (the team's first)."""
    return list(
        await conn.fetch(
            f"SELECT {_COLUMNS}, {_FILES} FROM quick_replies q"
            " WHERE q.owner_id IS NULL OR q.owner_id = $1"
            " ORDER BY q.shortcut, q.owner_id NULLS FIRST, q.id",
            manager_id,
        )
    )


async def get(conn: Conn, quick_reply_id: int, manager_id: int) -> asyncpg.Record | None:
    """One the manager sees (the team's, or their own): someone else's own is not there."""
    return await conn.fetchrow(
        f"SELECT {_COLUMNS}, {_FILES} FROM quick_replies q WHERE q.id = $1"
        " AND (q.owner_id IS NULL OR q.owner_id = $2)",
        quick_reply_id,
        manager_id,
    )


async def count(conn: Conn, owner_id: int | None) -> int:
    found: int = await conn.fetchval(
        "SELECT count(*) FROM quick_replies WHERE owner_id IS NOT DISTINCT FROM $1", owner_id
    )
    return found


async def create(
    conn: Conn, owner_id: int | None, created_by: int, name: str, shortcut: str, body: str
) -> int:
    try:
        found: int = await conn.fetchval(
            "INSERT INTO quick_replies (owner_id, created_by, name, shortcut, body)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            owner_id,
            created_by,
            name,
            shortcut,
            body,
        )
    except asyncpg.UniqueViolationError:
        raise ShortcutTaken(shortcut) from None
    return found


async def update(conn: Conn, quick_reply_id: int, changes: dict[str, Any]) -> None:
    assert changes and set(changes) <= {"name", "shortcut", "body"}
    sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=2))
    try:
        await conn.execute(
            f"UPDATE quick_replies SET {sets}, updated_at = now() WHERE id = $1",
            quick_reply_id,
            *changes.values(),
        )
    except asyncpg.UniqueViolationError:
        raise ShortcutTaken(changes.get("shortcut", "")) from None


async def delete(conn: Conn, quick_reply_id: int) -> None:
    await conn.execute("DELETE FROM quick_replies WHERE id = $1", quick_reply_id)


async def lock(conn: Conn, quick_reply_id: int) -> bool:
    """Its files are counted and added one at a time (two uploads at once stay in the limit);
    false if it is gone (removed while the file was read)."""
    found = await conn.fetchval(
        "SELECT 1 FROM quick_replies WHERE id = $1 FOR UPDATE", quick_reply_id
    )
    return found is not None


async def file_count(conn: Conn, quick_reply_id: int) -> int:
    found: int = await conn.fetchval(
        "SELECT count(*) FROM quick_reply_files WHERE quick_reply_id = $1", quick_reply_id
    )
    return found


async def add_file(
    conn: Conn,
    quick_reply_id: int,
    filename: str,
    mimetype: str,
    data: bytes,
    width: int | None,
    height: int | None,
) -> None:
    await conn.execute(
        "INSERT INTO quick_reply_files (quick_reply_id, filename, mimetype, size, width, height,"
        " data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        quick_reply_id,
        filename,
        mimetype,
        len(data),
        width,
        height,
        data,
    )
    await conn.execute("UPDATE quick_replies SET updated_at = now() WHERE id = $1", quick_reply_id)


async def remove_file(conn: Conn, quick_reply_id: int, file_id: int) -> bool:
    done = await conn.fetchval(
        "DELETE FROM quick_reply_files WHERE id = $1 AND quick_reply_id = $2 RETURNING id",
        file_id,
        quick_reply_id,
    )
    if done is not None:
        await conn.execute(
            "UPDATE quick_replies SET updated_at = now() WHERE id = $1", quick_reply_id
        )
    return done is not None


async def file(conn: Conn, file_id: int, manager_id: int) -> asyncpg.Record | None:
    """A file of a quick reply the manager sees, with its bytes."""
    return await conn.fetchrow(
        "SELECT f.id, f.quick_reply_id, f.filename, f.mimetype, f.size, f.width, f.height,"
        " f.data FROM quick_reply_files f JOIN quick_replies q ON q.id = f.quick_reply_id"
        " WHERE f.id = $1 AND (q.owner_id IS NULL OR q.owner_id = $2)",
        file_id,
        manager_id,
    )


async def values(conn: Conn, conversation_id: int) -> asyncpg.Record | None:
    """What the variables are in a conversation: its contact, and the contact's latest order."""
    return await conn.fetchrow(
        """
        SELECT ct.display_name, ct.phone, ct.email, ct.attributes,
               o.number AS order_number, o.total AS order_total, o.currency AS order_currency,
               o.status AS order_status
          FROM conversations c
          JOIN contacts ct ON ct.id = c.contact_id
          LEFT JOIN LATERAL (
              SELECT number, total, currency, status FROM orders
               WHERE contact_id = ct.id ORDER BY created_at DESC, id DESC LIMIT 1
          ) o ON true
         WHERE c.id = $1
        """,
        conversation_id,
    )
