"""Private notes of the team on a conversation (never sent to the customer)."""

from __future__ import annotations

import asyncpg

from .database import Conn

_NOTE = """n.id, n.conversation_id, n.body, n.author_id, m.name AS author_name, n.created_at,
    n.edited_at, n.deleted_at"""


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


async def notes_by_ids(conn: Conn, ids: list[int]) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {_NOTE}, c.assignee_id AS conversation_assignee_id FROM notes n"
            " JOIN conversations c ON c.id = n.conversation_id"
            " LEFT JOIN managers m ON m.id = n.author_id WHERE n.id = ANY($1::bigint[])",
            ids,
        )
    )
