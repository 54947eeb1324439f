"""Saved views (migrations/0024): named sets of the inbox list's filters, the team's (owner_id
NULL) and each manager's own. The filters are kept as the API validated them and read back
through the same model, so a view never holds a filter the list would refuse."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from .database import Conn, set_clause

_COLUMNS = "id, owner_id, name, filters, created_by, created_at, updated_at"


class NameTaken(Exception):
    """Another view of the same set (the team's, or the manager's own) has this name."""


def filters_of(row: asyncpg.Record) -> dict[str, Any]:
    found: dict[str, Any] = orjson.loads(row["filters"])
    return found


async def visible(conn: Conn, manager_id: int) -> list[asyncpg.Record]:
    """The team's views and the manager's own, in the order the inbox shows them."""
    return list(
        await conn.fetch(
            f"SELECT {_COLUMNS} FROM saved_views WHERE owner_id IS NULL OR owner_id = $1"
            " ORDER BY owner_id IS NOT NULL, lower(name), id",
            manager_id,
        )
    )


async def get(conn: Conn, view_id: int, lock: bool = False) -> asyncpg.Record | None:
    """The view; with `lock`, held until the transaction ends (a change, a deletion)."""
    held = " FOR UPDATE" if lock else ""
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM saved_views WHERE id = $1{held}", view_id)


async def by_ids(conn: Conn, ids: list[int]) -> list[asyncpg.Record]:
    return list(await conn.fetch(f"SELECT {_COLUMNS} FROM saved_views WHERE id = ANY($1)", ids))


async def count(conn: Conn, owner_id: int | None) -> int:
    """How many views the set holds (the team's: owner_id None)."""
    found: int = await conn.fetchval(
        "SELECT count(*) FROM saved_views WHERE owner_id IS NOT DISTINCT FROM $1", owner_id
    )
    return found


async def lock(conn: Conn) -> None:
    """Until the transaction ends, views are added one after the other (counted, then added)."""
    await conn.execute("LOCK TABLE saved_views IN SHARE ROW EXCLUSIVE MODE")


async def create(
    conn: Conn, owner_id: int | None, name: str, filters: dict[str, Any], created_by: int
) -> asyncpg.Record:
    try:
        row = await conn.fetchrow(
            "INSERT INTO saved_views (owner_id, name, filters, created_by)"
            f" VALUES ($1, $2, $3::jsonb, $4) RETURNING {_COLUMNS}",
            owner_id,
            name,
            orjson.dumps(filters).decode(),
            created_by,
        )
    except asyncpg.UniqueViolationError:
        raise NameTaken from None
    assert row is not None
    return row


async def update(conn: Conn, view_id: int, changes: dict[str, Any]) -> asyncpg.Record | None:
    assert set(changes) <= {"name", "filters"}
    sets, values = set_clause(changes, first_param=2, jsonb=frozenset({"filters"}))
    try:
        return await conn.fetchrow(
            f"UPDATE saved_views SET {sets}, updated_at = now() WHERE id = $1"
            f" RETURNING {_COLUMNS}",
            view_id,
            *values,
        )
    except asyncpg.UniqueViolationError:
        raise NameTaken from None


async def delete(conn: Conn, view_id: int) -> bool:
    return (
        await conn.fetchval("DELETE FROM saved_views WHERE id = $1 RETURNING id", view_id)
        is not None
    )


async def drop_label(conn: Conn, label_id: int) -> list[int]:
    """Take a removed label out of every view's filters (with it its any/all choice once no
    label is left); the ids of the views changed."""
    # Computed from the row being updated (not a sub-select's copy of it), so a view changed
    # at the same moment is stripped as it is after that change, not put back as it was.
    kept = (
        "coalesce((SELECT jsonb_agg(x) FROM jsonb_array_elements(filters -> 'label') AS x"
        " WHERE x <> to_jsonb($1::bigint)), '[]'::jsonb)"
    )
    rows = await conn.fetch(
        f"""
        UPDATE saved_views
           SET filters = CASE WHEN {kept} = '[]'::jsonb THEN filters - 'label' - 'label_match'
                              ELSE jsonb_set(filters, '{{label}}', {kept}) END,
               updated_at = now()
         WHERE filters -> 'label' @> to_jsonb(ARRAY[$1::bigint])
        RETURNING id
        """,
        label_id,
    )
    return [r["id"] for r in rows]
