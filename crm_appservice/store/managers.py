"""Managers: the people who log in to the inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from . import feed
from .database import Conn, Pool, set_clause, transaction

ROLES = ("admin", "manager")
RIGHTS_CHANGED = feed.RIGHTS_CHANGED
_RIGHTS = {"role", "is_active", "password_hash"}


async def _rights_changed(conn: Conn, manager_id: int, revoke: bool, keep: int | None) -> None:
    """Record a change of rights; `revoke` also ends every session and API token but `keep`:
    whoever held the old password, or the deactivated account, holds nothing any more."""
    ended = []
    if revoke:
        ended = await conn.fetch(
            "DELETE FROM sessions WHERE manager_id = $1 AND id IS DISTINCT FROM $2 RETURNING id",
            manager_id,
            keep,
        )
    # The ended sessions first: their connections close as ended (the login shows), the
    # manager's others (the one kept) as changed.
    events = [(feed.SESSION_ENDED, r["id"]) for r in ended]
    await feed.record(conn, [*events, (RIGHTS_CHANGED, manager_id)])


class ManagerExists(Exception):
    """A manager with that e-mail address already exists."""


@dataclass(frozen=True)
class Manager:
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Manager:
        return cls(
            id=row["id"],
            email=row["email"],
            name=row["name"],
            role=row["role"],
            is_active=row["is_active"],
            created_at=row["created_at"],
        )


_COLUMNS = "id, email, name, role, is_active, created_at"


async def create(
    db: Conn | Pool,
    email: str,
    name: str,
    role: str,
    password_hash: str,
    update_existing: bool = False,
) -> tuple[Manager, bool]:
    """Insert a manager; returns it and whether it was created (False: updated)."""
    if update_existing:
        async with transaction(db) as conn:
            row = await conn.fetchrow(
                f"""
                INSERT INTO managers (email, name, role, password_hash) VALUES ($1, $2, $3, $4)
                ON CONFLICT (email) DO UPDATE
                   SET name = excluded.name, role = excluded.role,
                       password_hash = excluded.password_hash, is_active = true,
                       updated_at = now()
                RETURNING {_COLUMNS}, (xmax = 0) AS created
                """,
                email,
                name,
                role,
                password_hash,
            )
            if row is not None and not row["created"]:  # a new password: old sessions end
                await _rights_changed(conn, row["id"], True, None)
    else:
        row = await db.fetchrow(
            f"""
            INSERT INTO managers (email, name, role, password_hash) VALUES ($1, $2, $3, $4)
            ON CONFLICT (email) DO NOTHING
            RETURNING {_COLUMNS}, true AS created
            """,
            email,
            name,
            role,
            password_hash,
        )
    if row is None:
        raise ManagerExists(email)
    return Manager.from_row(row), bool(row["created"])


async def credentials(
    conn: asyncpg.Connection | asyncpg.Pool, email: str
) -> tuple[int, str] | None:
    """(id, password hash) of an active manager, for the login check."""
    row = await conn.fetchrow(
        "SELECT id, password_hash FROM managers WHERE email = $1 AND is_active", email
    )
    return (row["id"], row["password_hash"]) if row else None


async def exists(conn: Conn, manager_id: int) -> bool:
    """Whether there is such a manager, active or not (a saved view may name a former one)."""
    return bool(await conn.fetchval("SELECT 1 FROM managers WHERE id = $1", manager_id))


async def list_all(conn: asyncpg.Connection | asyncpg.Pool) -> list[Manager]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM managers ORDER BY name, id")
    return [Manager.from_row(r) for r in rows]


async def update(
    db: Conn | Pool, manager_id: int, changes: dict[str, object], keep: int | None = None
) -> Manager | None:
    """Change a manager. A new role, password or deactivation ends their live connections on
    every instance; a password or deactivation also every session and API token but `keep`
    (the admin's own, when they change their own password)."""
    assert set(changes) <= {"name", "role", "is_active", "password_hash"}
    sets, values = set_clause(dict(changes))
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            f"UPDATE managers SET {sets}, updated_at = now() WHERE id = $1 RETURNING {_COLUMNS}",
            manager_id,
            *values,
        )
        if row is not None and _RIGHTS & set(changes):
            revoke = "password_hash" in changes or changes.get("is_active") is False
            await _rights_changed(conn, manager_id, revoke, keep)
    return Manager.from_row(row) if row else None
