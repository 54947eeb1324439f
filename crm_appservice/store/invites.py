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


# Due invites, leased to the claiming connection in one statement (no transaction stays open
# while the homeserver is asked to join): other instances skip them until the lease runs out or
# the connection is gone.
_CLAIM = """
WITH due AS (
    SELECT room_id FROM room_invites i
     WHERE state = 'pending'
       AND updated_at <= now() - make_interval(secs => least(power(2, attempts), 300))
                                + interval '1 second'
       AND (i.leased_until IS NULL OR i.leased_until < now()
            OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = i.leased_by))
     ORDER BY invited_at
     LIMIT $1
       FOR UPDATE SKIP LOCKED
)
UPDATE room_invites i
   SET leased_until = now() + make_interval(secs => $2), leased_by = pg_backend_pid()
  FROM due WHERE i.room_id = due.room_id
RETURNING i.room_id, i.inviter, i.accept, i.attempts, i.invited_at
"""


async def claim_due(conn: Conn, lease: float, limit: int = 20) -> list[Invite]:
    """Lease due invites to this connection (keep it until they are handled and released)."""
    rows = sorted(await conn.fetch(_CLAIM, limit, lease), key=lambda r: r["invited_at"])
    return [Invite(r["room_id"], r["inviter"], r["accept"], r["attempts"]) for r in rows]


async def release(conn: Conn, room_ids: list[str]) -> None:
    await conn.execute(
        "UPDATE room_invites SET leased_until = NULL, leased_by = NULL"
        " WHERE room_id = ANY($1::text[]) AND leased_by = pg_backend_pid()",
        room_ids,
    )


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
