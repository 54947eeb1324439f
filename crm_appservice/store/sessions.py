"""Login sessions and API tokens. Only a SHA-256 of each secret is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import hashlib
import secrets

import asyncpg

from . import feed
from .database import Conn
from .managers import Manager

# A session's expiry and last-seen time are written at most this often, not on every request.
TOUCH_INTERVAL = timedelta(minutes=1)
SESSION_ENDED = feed.SESSION_ENDED


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Session:
    id: int
    kind: str
    csrf_token: str | None
    manager: Manager


async def create(
    conn: Conn,
    manager_id: int,
    kind: str,
    lifetime: timedelta | None,
    label: str | None = None,
) -> tuple[str, Session]:
    """A new session or API token; returns the secret (shown once) and the session."""
    prefix = "crm_" if kind == "api_token" else ""
    token = prefix + secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "cookie" else None
    row = await conn.fetchrow(
        """
        WITH s AS (
            INSERT INTO sessions (token_hash, manager_id, kind, label, csrf_token, expires_at)
            VALUES ($1, $2, $3, $4, $5, now() + $6::interval)
            RETURNING id, kind, csrf_token, manager_id
        )
        SELECT s.id, s.kind, s.csrf_token, m.id AS manager_id, m.email, m.name, m.role,
               m.is_active, m.created_at
          FROM s JOIN managers m ON m.id = s.manager_id
        """,
        token_hash(token),
        manager_id,
        kind,
        label,
        csrf,
        lifetime,
    )
    assert row is not None
    return token, _session(row)


def _session(row: asyncpg.Record) -> Session:
    manager = Manager(
        id=row["manager_id"],
        email=row["email"],
        name=row["name"],
        role=row["role"],
        is_active=row["is_active"],
        created_at=row["created_at"],
    )
    return Session(
        id=row["id"],
        kind=row["kind"],
        csrf_token=row["csrf_token"],
        manager=manager,
    )


async def resolve(conn: Conn, token: str, lifetime: timedelta) -> Session | None:
    """The live session of an active manager for `token`; cookie sessions slide their expiry."""
    row = await conn.fetchrow(
        """
        SELECT s.id, s.kind, s.csrf_token, s.last_seen_at, m.id AS manager_id, m.email, m.name,
               m.role, m.is_active, m.created_at
          FROM sessions s JOIN managers m ON m.id = s.manager_id
         WHERE s.token_hash = $1 AND (s.expires_at IS NULL OR s.expires_at > now())
           AND m.is_active
        """,
        token_hash(token),
    )
    if row is None:
        return None
    last_seen: datetime = row["last_seen_at"]
    if datetime.now(last_seen.tzinfo) - last_seen > TOUCH_INTERVAL:
        await conn.execute(
            """
            UPDATE sessions SET last_seen_at = now(),
                   expires_at = CASE WHEN kind = 'cookie' THEN now() + $2::interval
                                     ELSE expires_at END
             WHERE id = $1
            """,
            row["id"],
            lifetime,
        )
    return _session(row)


async def delete(conn: Conn, session_id: int) -> None:
    """End one session; its live connections close on every instance."""
    async with conn.transaction():
        deleted = await conn.fetchval(
            "DELETE FROM sessions WHERE id = $1 RETURNING id", session_id
        )
        if deleted is not None:
            await feed.record(conn, [(SESSION_ENDED, session_id)])


async def delete_token(conn: Conn, manager_id: int, token_id: int) -> bool:
    async with conn.transaction():
        deleted = await conn.fetchval(
            "DELETE FROM sessions WHERE id = $1 AND manager_id = $2 AND kind = 'api_token'"
            " RETURNING id",
            token_id,
            manager_id,
        )
        if deleted is not None:
            await feed.record(conn, [(SESSION_ENDED, token_id)])
    return deleted is not None


async def valid_until(
    conn: Conn, session_ids: list[int]
) -> dict[int, tuple[datetime | None, str]]:
    """Which of these sessions an active manager still holds: until when (None: no end), and
    the manager's role now."""
    rows = await conn.fetch(
        """
        SELECT s.id, s.expires_at, m.role FROM sessions s JOIN managers m ON m.id = s.manager_id
         WHERE s.id = ANY($1::bigint[]) AND (s.expires_at IS NULL OR s.expires_at > now())
           AND m.is_active
        """,
        session_ids,
    )
    return {r["id"]: (r["expires_at"], r["role"]) for r in rows}


async def expires_at(conn: Conn, session_id: int) -> datetime | None:
    found: datetime | None = await conn.fetchval(
        "SELECT expires_at FROM sessions WHERE id = $1", session_id
    )
    return found


async def list_tokens(conn: Conn, manager_id: int) -> list[dict[str, object]]:
    rows = await conn.fetch(
        "SELECT id, label, created_at, last_seen_at, expires_at FROM sessions"
        " WHERE manager_id = $1 AND kind = 'api_token' ORDER BY id",
        manager_id,
    )
    return [dict(r) for r in rows]
