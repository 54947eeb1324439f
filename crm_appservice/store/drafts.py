"""A manager's unsent replies, one per conversation (migrations/0014)."""

from __future__ import annotations

from .database import Conn


async def get(conn: Conn, manager_id: int, conversation_id: int) -> str | None:
    body: str | None = await conn.fetchval(
        "SELECT body FROM drafts WHERE manager_id = $1 AND conversation_id = $2",
        manager_id,
        conversation_id,
    )
    return body


async def put(conn: Conn, manager_id: int, conversation_id: int, body: str) -> None:
    """Keep the draft; an empty one is no draft."""
    if not body.strip():
        await remove(conn, manager_id, conversation_id)
        return
    await conn.execute(
        "INSERT INTO drafts (manager_id, conversation_id, body) VALUES ($1, $2, $3)"
        " ON CONFLICT (manager_id, conversation_id)"
        " DO UPDATE SET body = excluded.body, updated_at = now()",
        manager_id,
        conversation_id,
        body,
    )


async def remove(conn: Conn, manager_id: int, conversation_id: int) -> None:
    await conn.execute(
        "DELETE FROM drafts WHERE manager_id = $1 AND conversation_id = $2",
        manager_id,
        conversation_id,
    )
