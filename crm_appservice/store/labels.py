"""Labels (migrations/0023): the team's list of them, and their ids on conversations and
contacts. Adding and removing are single UPDATEs on the rows' arrays, so two managers labelling
the same conversation at once both keep their label, and bulk changes are the same statement
over many ids."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from .database import Conn, set_clause

# Where labels go: the table of each kind of labelled row.
Target = Literal["conversation", "contact"]
_TABLE: dict[Target, str] = {"conversation": "conversations", "contact": "contacts"}
_COLUMNS = "id, name, colour, created_at"
# How many labels one conversation or contact holds at most (the arrays' CHECK).
PER_ROW = 50


def condition(column: str, all_labels: bool) -> str:
    """A list's label filter on `column` (a row's label_ids), for sql.Where with the ids as its
    {0}: any of them (&&), or every one (@>). `<> '{}'` is what lets the planner use the
    partial GIN indexes (conversations_labels_idx, contacts_labels_idx)."""
    op = "@>" if all_labels else "&&"
    return f"{column} <> '{{{{}}}}' AND {column} {op} {{0}}::bigint[]"


class NameTaken(Exception):
    """Another label has this name (compared without case)."""


class TooMany(Exception):
    """The row holds PER_ROW labels already."""


async def all_labels(conn: Conn) -> list[asyncpg.Record]:
    """Every label, by name: the order chips and menus show them in."""
    return list(await conn.fetch(f"SELECT {_COLUMNS} FROM labels ORDER BY lower(name), id"))


async def by_ids(conn: Conn, ids: list[int]) -> list[asyncpg.Record]:
    return list(await conn.fetch(f"SELECT {_COLUMNS} FROM labels WHERE id = ANY($1)", ids))


async def count(conn: Conn) -> int:
    found: int = await conn.fetchval("SELECT count(*) FROM labels")
    return found


async def create(conn: Conn, name: str, colour: str, created_by: int) -> asyncpg.Record:
    try:
        row = await conn.fetchrow(
            f"INSERT INTO labels (name, colour, created_by) VALUES ($1, $2, $3)"
            f" RETURNING {_COLUMNS}",
            name,
            colour,
            created_by,
        )
    except asyncpg.UniqueViolationError:
        raise NameTaken from None
    assert row is not None
    return row


async def update(conn: Conn, label_id: int, changes: dict[str, Any]) -> asyncpg.Record | None:
    assert set(changes) <= {"name", "colour"}
    sets, values = set_clause(changes, first_param=2)
    try:
        return await conn.fetchrow(
            f"UPDATE labels SET {sets} WHERE id = $1 RETURNING {_COLUMNS}", label_id, *values
        )
    except asyncpg.UniqueViolationError:
        raise NameTaken from None


async def delete(conn: Conn, label_id: int) -> list[int] | None:
    """Remove the label and take it off every conversation, contact and deal; the
    conversations it was on (None: no such label). Taking the row's lock first makes a
    concurrent add wait, or this wait for it: either way no array keeps the id."""
    if await conn.fetchval("DELETE FROM labels WHERE id = $1 RETURNING id", label_id) is None:
        return None
    for table, bump in (("contacts", ""), ("deals", ", version = version + 1")):
        await conn.execute(
            f"UPDATE {table} SET label_ids = array_remove(label_ids, $1), updated_at = now()"
            f"{bump}"
            " WHERE label_ids @> ARRAY[$1]::bigint[] AND label_ids <> '{}'",
            label_id,
        )
    rows = await conn.fetch(
        "UPDATE conversations SET label_ids = array_remove(label_ids, $1), updated_at = now()"
        " WHERE label_ids @> ARRAY[$1]::bigint[] AND label_ids <> '{}' RETURNING id",
        label_id,
    )
    return [r["id"] for r in rows]


async def missing(conn: Conn, ids: list[int]) -> list[int]:
    """Of these labels, the ids of none; the others are kept so until the transaction ends (a
    deletion waits), as a label is held while it is put on rows or named by a saved view."""
    found = await conn.fetch(
        "SELECT id FROM labels WHERE id = ANY($1::bigint[]) FOR KEY SHARE", ids
    )
    there = {r["id"] for r in found}
    return sorted(set(ids) - there)


async def hold(conn: Conn, label_id: int) -> bool:
    """Whether the label exists, keeping it so until the transaction ends (see `missing`)."""
    return not await missing(conn, [label_id])


async def lock(conn: Conn) -> None:
    """Until the transaction ends, labels are added one after the other (counted, then added);
    putting them on rows is not held up."""
    await conn.execute("LOCK TABLE labels IN SHARE ROW EXCLUSIVE MODE")


async def of_contact(conn: Conn, contact_id: int) -> list[int]:
    found = await conn.fetchval("SELECT label_ids FROM contacts WHERE id = $1", contact_id)
    return list(found or [])


async def add(conn: Conn, target: Target, ids: list[int], label_id: int) -> list[int]:
    """Put a held label (see `hold`) on these rows; the ids of those that did not have it."""
    try:
        rows = await conn.fetch(
            f"UPDATE {_TABLE[target]} SET label_ids = label_ids || $2::bigint, updated_at = now()"
            " WHERE id = ANY($1::bigint[]) AND NOT label_ids @> ARRAY[$2]::bigint[] RETURNING id",
            ids,
            label_id,
        )
    except asyncpg.CheckViolationError:
        raise TooMany from None
    return [r["id"] for r in rows]


async def remove(conn: Conn, target: Target, ids: list[int], label_id: int) -> list[int]:
    """Take the label off these rows; the ids of those that had it."""
    rows = await conn.fetch(
        f"UPDATE {_TABLE[target]} SET label_ids = array_remove(label_ids, $2), updated_at = now()"
        " WHERE id = ANY($1::bigint[]) AND label_ids @> ARRAY[$2]::bigint[] RETURNING id",
        ids,
        label_id,
    )
    return [r["id"] for r in rows]


async def open_counts(conn: Conn, visible_to: int | None) -> dict[int, int]:
    """How many open conversations (those the tabs count) hold each label, of those the manager
    sees; from conversations_open_labels_idx alone."""
    rows = await conn.fetch(
        """
        SELECT l.id, count(*) AS n
          FROM conversations c CROSS JOIN LATERAL unnest(c.label_ids) AS l(id)
         WHERE c.status = 'open' AND NOT c.is_archived AND c.merged_into IS NULL
           AND c.label_ids <> '{}'
           AND ($1::bigint IS NULL OR c.assignee_id IS NULL OR c.assignee_id = $1)
         GROUP BY l.id
        """,
        visible_to,
    )
    return {r["id"]: r["n"] for r in rows}
