"""Invites of the CRM's user, claimed by the worker that joins or declines them."""

from __future__ import annotations

from dataclasses import dataclass

from .database import Conn

MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class Invite:
    room_id: str
    inviter: str
    accept: bool
    attempts: int


async def claim_due(conn: Conn, limit: int = 20) -> list[Invite]:
    """Lock due invites for this worker (other instances skip them). Call in a transaction."""
    rows = await conn.fetch(
        """
        SELECT room_id, inviter, accept, attempts FROM room_invites
         WHERE state = 'pending'
           AND updated_at <= now() - make_interval(secs => least(power(2, attempts), 300))
                                    + interval '1 second'
         ORDER BY invited_at
         LIMIT $1
           FOR UPDATE SKIP LOCKED
        """,
        limit,
    )
    return [Invite(r["room_id"], r["inviter"], r["accept"], r["attempts"]) for r in rows]


async def mark_done(conn: Conn, room_id: str) -> None:
    await conn.execute(
        "UPDATE room_invites SET state = 'done', last_error = NULL, updated_at = now()"
        " WHERE room_id = $1",
        room_id,
    )


async def mark_failed_attempt(conn: Conn, room_id: str, error: str) -> None:
    await conn.execute(
        """
        UPDATE room_invites
           SET attempts = attempts + 1, last_error = $2, updated_at = now(),
               state = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE 'pending' END
         WHERE room_id = $1
        """,
        room_id,
        error[:500],
        MAX_ATTEMPTS,
    )


async def has_conversation(conn: Conn, room_id: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM conversations WHERE room_id = $1", room_id))
