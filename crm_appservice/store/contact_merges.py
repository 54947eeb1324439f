"""Managers' merges of two contacts into one, each recorded so that it can be undone; and the
contacts that look like the same person (suggested merges).

A merge moves everything of the merged contact to the kept one (people.merge_contacts: ghosts,
conversations with their notes, numbers, orders, and the contacts merged into it before) and
the kept one takes the name, number and e-mail it lacked. The record says what moved and what
the kept contact had before, so an undo moves exactly that back, with what arrived since through
the merged contact's ghosts, and leaves what managers changed since alone.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from .database import Conn
from .people import merge_contacts

_FIELDS = ("display_name", "phone", "email", "avatar_url")


class MergeRefused(Exception):
    """A merge or an undo that cannot be done, with the reason a manager reads."""


async def _lock(conn: Conn, ids: list[int]) -> dict[int, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT * FROM contacts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE", ids
    )
    return {r["id"]: r for r in rows}


def _attributes(row: asyncpg.Record) -> dict[str, Any]:
    value = row["attributes"]
    return dict(orjson.loads(value) if isinstance(value, str) else value)


async def merge(conn: Conn, kept: int, gone: int, manager_id: int) -> tuple[int, list[int]]:
    """Merge `gone` into `kept` (in the caller's transaction); the merge's id and the
    conversations whose contact changed."""
    if kept == gone:
        raise MergeRefused("A contact cannot be merged with itself")
    rows = await _lock(conn, [kept, gone])
    if len(rows) < 2 or any(r["merged_into"] is not None for r in rows.values()):
        raise MergeRefused("One of the contacts was merged into another already")
    moved = {
        "ghosts": [r["mxid"] for r in await conn.fetch(
            "SELECT mxid FROM ghosts WHERE contact_id = $1", gone)],
        "conversations": [r["id"] for r in await conn.fetch(
            "SELECT id FROM conversations WHERE contact_id = $1", gone)],
        "phones": [r["phone"] for r in await conn.fetch(
            "SELECT phone FROM contact_phones p WHERE contact_id = $1 AND NOT EXISTS"
            " (SELECT 1 FROM contact_phones k WHERE k.contact_id = $2 AND k.phone = p.phone)",
            gone, kept)],
        "orders": [r["id"] for r in await conn.fetch(
            "SELECT id FROM orders o WHERE contact_id = $1 AND NOT EXISTS"
            " (SELECT 1 FROM orders k WHERE k.contact_id = $2 AND k.number = o.number)",
            gone, kept)],
        "contacts": [r["id"] for r in await conn.fetch(
            "SELECT id FROM contacts WHERE merged_into = $1", gone)],
    }  # fmt: skip
    before = {f: rows[kept][f] for f in _FIELDS}
    before["attributes"] = _attributes(rows[kept])
    changed = await merge_contacts(conn, kept, gone)
    merge_id: int = await conn.fetchval(
        "INSERT INTO contact_merges (kept_id, gone_id, merged_by, moved, kept_before)"
        " VALUES ($1, $2, $3, $4::jsonb, $5::jsonb) RETURNING id",
        kept,
        gone,
        manager_id,
        orjson.dumps(moved).decode(),
        orjson.dumps(before).decode(),
    )
    return merge_id, changed


async def get(conn: Conn, merge_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM contact_merges WHERE id = $1", merge_id)


# What a merge recorded as moved, moved back from the kept contact ($1) to the gone one ($2):
# (statement, the record's list of what moved). Conversations follow by their own rule.
_MOVE_BACK = (
    ("UPDATE ghosts SET contact_id = $2 WHERE contact_id = $1 AND mxid = ANY($3::text[])",
     "ghosts"),
    ("UPDATE contact_phones SET contact_id = $2"
     " WHERE contact_id = $1 AND phone = ANY($3::text[])", "phones"),
    ("UPDATE orders SET contact_id = $2, updated_at = now()"
     " WHERE contact_id = $1 AND id = ANY($3::bigint[])", "orders"),
    ("UPDATE contacts SET merged_into = $2, updated_at = now()"
     " WHERE merged_into = $1 AND id = ANY($3::bigint[])", "contacts"),
)  # fmt: skip


async def undo(conn: Conn, merge_id: int, manager_id: int) -> tuple[int, list[int]]:
    """Undo a merge (in the caller's transaction): the contact that comes back, and the
    conversations whose contact changed."""
    record = await conn.fetchrow("SELECT * FROM contact_merges WHERE id = $1 FOR UPDATE", merge_id)
    if record is None:
        raise LookupError(merge_id)
    if record["undone_at"] is not None:
        raise MergeRefused("This merge was undone already")
    kept, gone = record["kept_id"], record["gone_id"]
    rows = await _lock(conn, [kept, gone])
    if rows[gone]["merged_into"] != kept or rows[kept]["merged_into"] is not None:
        raise MergeRefused("The contact was merged again since: undo the later merge first")
    moved = orjson.loads(record["moved"])
    before = orjson.loads(record["kept_before"])
    # Ghosts first: the conversations follow the gone contact's ghosts.
    for statement, key in _MOVE_BACK:
        await conn.execute(statement, kept, gone, moved[key])
    # The merged contact's conversations, and any its ghosts started since the merge.
    back = await conn.fetch(
        """UPDATE conversations c SET contact_id = $2, updated_at = now()
            WHERE c.contact_id = $1
              AND (c.id = ANY($3::bigint[])
                   OR c.kind = 'dm' AND EXISTS (
                       SELECT 1 FROM ghosts g WHERE g.contact_id = $2
                          AND g.platform = c.platform AND g.remote_id = c.customer_remote_id))
           RETURNING c.id""",
        kept, gone, moved["conversations"],
    )  # fmt: skip
    # A ghost that joined one of those chats since (the bridge re-keyed it to the customer's
    # LID) is the gone contact's too: left with the kept one, the bridge's next state of the
    # room would merge the kept contact into the gone one.
    await conn.execute(
        """UPDATE ghosts g SET contact_id = $2
            WHERE g.contact_id = $1 AND EXISTS (
                SELECT 1 FROM conversations c WHERE c.id = ANY($3::bigint[]) AND c.kind = 'dm'
                   AND c.platform = g.platform AND c.customer_remote_id = g.remote_id)""",
        kept, gone, [r["id"] for r in back],
    )  # fmt: skip
    await conn.execute(
        "UPDATE contacts SET merged_into = NULL, updated_at = now() WHERE id = $1", gone
    )
    # What the kept contact took from the merged one goes back to what it was, unless a
    # manager changed it since; attributes it took (and nobody changed) go.
    now_kept, was_gone = rows[kept], rows[gone]
    restore = {
        f: before[f] for f in _FIELDS
        if before[f] != now_kept[f] and now_kept[f] == was_gone[f]
    }  # fmt: skip
    attributes = _attributes(now_kept)
    for name, value in _attributes(was_gone).items():
        if name not in before["attributes"] and attributes.get(name) == value:
            del attributes[name]
    sets = ", ".join(f"{f} = ${i + 3}" for i, f in enumerate(restore))
    await conn.execute(
        f"UPDATE contacts SET attributes = $2::jsonb{', ' + sets if sets else ''},"
        " updated_at = now() WHERE id = $1",
        kept,
        orjson.dumps(attributes).decode(),
        *restore.values(),
    )
    await conn.execute(
        "UPDATE contact_merges SET undone_at = now(), undone_by = $2 WHERE id = $1",
        merge_id,
        manager_id,
    )
    changed = sorted({r["id"] for r in back} | set(moved["conversations"]))
    return gone, changed


async def of_contact(conn: Conn, contact_id: int) -> list[asyncpg.Record]:
    """The merges into this contact, newest first, with the names a manager reads."""
    return list(
        await conn.fetch(
            """SELECT m.id, m.gone_id, coalesce(g.display_name, g.phone, g.remote_id) AS gone_name,
                      m.merged_by, (SELECT name FROM managers WHERE id = m.merged_by)
                          AS merged_by_name, m.merged_at, m.undone_at,
                      g.merged_into IS NOT DISTINCT FROM m.kept_id AS still_merged
                 FROM contact_merges m JOIN contacts g ON g.id = m.gone_id
                WHERE m.kept_id = $1 ORDER BY m.merged_at DESC, m.id DESC LIMIT 50""",
            contact_id,
        )
    )


# Contacts that look like this one's person: a number either has had, the same e-mail address,
# or the same name (with a number that ends alike, or without a number to tell them apart).
_DUPLICATES = """
WITH me AS (
    SELECT * FROM contacts WHERE id = $1
), mine AS (
    SELECT phone FROM contact_phones WHERE contact_id = $1
), by_phone AS (
    SELECT p.contact_id AS id, 'phone' AS reason
      FROM contact_phones p JOIN mine USING (phone) WHERE p.contact_id <> $1
), by_email AS (
    SELECT c.id, 'email' AS reason
      FROM contacts c, me
     WHERE me.email IS NOT NULL AND lower(c.email) = lower(me.email) AND c.email IS NOT NULL
       AND c.id <> $1
), by_name AS (
    SELECT c.id, 'name' AS reason
      FROM contacts c, me
     WHERE me.display_name IS NOT NULL AND c.sort_name = me.sort_name
       AND c.merged_into IS NULL AND c.id <> $1
       AND (c.phone IS NULL OR me.phone IS NULL OR right(c.phone, 7) = right(me.phone, 7))
     LIMIT 50
), found AS (
    SELECT id, array_agg(DISTINCT reason ORDER BY reason) AS reasons
      FROM (SELECT * FROM by_phone UNION ALL SELECT * FROM by_email
            UNION ALL SELECT * FROM by_name) x
     GROUP BY id
)
SELECT c.id, coalesce(c.display_name, c.phone, c.remote_id) AS name, c.display_name, c.phone,
       c.email, c.avatar_url, f.reasons
  FROM found f JOIN contacts c ON c.id = f.id
 WHERE c.merged_into IS NULL
   AND NOT EXISTS (SELECT 1 FROM own_logins l WHERE l.platform = c.platform
                                                AND l.login_id = c.remote_id)
   -- A manager who sees only their own conversations is suggested only contacts they see.
   AND ($2::bigint IS NULL OR c.owner_id = $2 OR EXISTS (
           SELECT 1 FROM conversations cv WHERE cv.contact_id = c.id
              AND (cv.assignee_id IS NULL OR cv.assignee_id = $2)))
 ORDER BY cardinality(f.reasons) DESC, c.id
 LIMIT 20
"""


async def duplicates(conn: Conn, contact_id: int, visible_to: int | None) -> list[asyncpg.Record]:
    return list(await conn.fetch(_DUPLICATES, contact_id, visible_to))
