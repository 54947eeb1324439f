"""The contact attributes a team's admins define (migrations/0021), and what their values are
checked against before a definition changes."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from ..attribute_kinds import Definition
from .database import Conn

_COLUMNS = "id, key, label, kind, choices, position, created_at, updated_at"


class KeyTaken(Exception):
    """Another attribute is stored under this key."""


def definition(row: asyncpg.Record) -> Definition:
    return Definition(row["key"], row["label"], row["kind"], tuple(row["choices"]))


async def all_of(conn: Conn) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(f"SELECT {_COLUMNS} FROM contact_attributes ORDER BY position, id")
    )


async def definitions(conn: Conn, *, held: bool = False) -> dict[str, Definition]:
    """Every definition by its key: what a contact's values are checked against.

    `held` (in a transaction that writes values): they stay as read until it ends. A
    definition changing meanwhile (a choice left out, a kind made over the values there) waits
    for it, and then sees its values: checked against the old definitions, they would
    otherwise be written after the new one looked at what is stored."""
    if held:
        await conn.execute("LOCK TABLE contact_attributes IN SHARE MODE")
    return {r["key"]: definition(r) for r in await all_of(conn)}


async def hold_definitions(conn: Conn) -> None:
    """For a change of the definitions: one at a time, after every transaction writing values
    by the old ones (`definitions(held=True)`) has ended, before any new one reads them. Taken
    first, so that it waits for no row a writer of values needs."""
    await conn.execute("LOCK TABLE contact_attributes IN SHARE ROW EXCLUSIVE MODE")


async def get(conn: Conn, attribute_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM contact_attributes WHERE id = $1", attribute_id
    )


async def create(
    conn: Conn, key: str, label: str, kind: str, choices: list[str]
) -> asyncpg.Record:
    """A new attribute, after the ones there are."""
    try:
        row = await conn.fetchrow(
            "INSERT INTO contact_attributes (key, label, kind, choices, position)"
            " VALUES ($1, $2, $3, $4, (SELECT coalesce(max(position), 0) + 1"
            " FROM contact_attributes)) RETURNING " + _COLUMNS,
            key,
            label,
            kind,
            choices,
        )
    except asyncpg.UniqueViolationError:
        raise KeyTaken(key) from None
    assert row is not None
    return row


async def update(conn: Conn, attribute_id: int, changes: dict[str, Any]) -> asyncpg.Record | None:
    assert set(changes) <= {"label", "choices", "position"}
    sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=2))
    return await conn.fetchrow(
        f"UPDATE contact_attributes SET {sets}, updated_at = now() WHERE id = $1"
        " RETURNING " + _COLUMNS,
        attribute_id,
        *changes.values(),
    )


async def delete(conn: Conn, attribute_id: int) -> bool:
    """The definition only: the values stay on the contacts, shown as other details (nothing
    a manager wrote is lost by an admin's tidying up)."""
    done = await conn.fetchval(
        "DELETE FROM contact_attributes WHERE id = $1 RETURNING id", attribute_id
    )
    return done is not None


async def values(conn: Conn, key: str) -> list[tuple[int, Any, bool]]:
    """(contact, value, live) of every contact with a value under `key`: a new definition's
    kind is checked against them (and they are converted to it) before it is made. A contact
    merged into another (`live` false) is nobody's to change: its value is converted if it can
    be, and never a reason to refuse."""
    rows = await conn.fetch(
        "SELECT ct.id, ct.attributes -> $1 AS value, ct.merged_into IS NULL AS live"
        " FROM contact_attribute_values v JOIN contacts ct ON ct.id = v.contact_id"
        " WHERE v.key = $1 ORDER BY ct.id",
        key,
    )
    return [(r["id"], orjson.loads(r["value"]), r["live"]) for r in rows]


async def convert(conn: Conn, key: str, converted: list[tuple[int, Any]]) -> None:
    """Store these contacts' values under `key` as their new kind has them ("1500" → 1500)."""
    if not converted:
        return
    await conn.execute(
        "UPDATE contacts ct SET attributes = jsonb_set(ct.attributes, ARRAY[$1], x.value)"
        " FROM (SELECT unnest($2::bigint[]) AS id, unnest($3::jsonb[]) AS value) x"
        " WHERE ct.id = x.id",
        key,
        [i for i, _ in converted],
        [orjson.dumps(v).decode() for _, v in converted],
    )


async def using_choice(conn: Conn, key: str, choices: list[str]) -> dict[str, int]:
    """How many contacts hold each of these choices of an attribute (a choice in use is not
    removed from it); merged contacts, whom nobody changes, are not counted."""
    rows = await conn.fetch(
        "SELECT v.txt, count(*) AS n FROM contact_attribute_values v"
        " JOIN contacts ct ON ct.id = v.contact_id AND ct.merged_into IS NULL"
        " WHERE v.key = $1 AND v.txt = ANY($2::text[]) GROUP BY v.txt",
        key,
        choices,
    )
    return {r["txt"]: r["n"] for r in rows}
