"""Contacts from a CSV file into the database: who of them exists already (by any number a
person has had, or their e-mail address), whose e-mail address each owner is, and the import
itself, in one transaction (all the good rows, or none when anything fails).

A new contact with a number is WhatsApp's (`remote_id` the number's digits, as the bridge's
phone ghost names it), so the customer writing later is this contact; one with only an e-mail
address is `email`'s. An existing contact keeps what it has and takes what it lacks; the file's
attributes are added to its own (the file's value where both have one), its number is one more
of the person's.
"""

from __future__ import annotations

from typing import Any

from ..contact_csv import Row
from .batch import dumps
from .database import Conn
from .sql import records

_MATCHES = f"""
SELECT x.line, m.id, m.name, m.by
  FROM {records("$1", "x", "line int, phone text, email text")}
  CROSS JOIN LATERAL (
      SELECT ct.id, coalesce(ct.display_name, ct.phone, ct.remote_id) AS name, 'phone' AS by
        FROM contact_phones cp JOIN contacts ct ON ct.id = cp.contact_id
       WHERE cp.phone = x.phone AND ct.merged_into IS NULL
      UNION ALL
      SELECT ct.id, coalesce(ct.display_name, ct.phone, ct.remote_id), 'email'
        FROM contacts ct
       WHERE ct.email IS NOT NULL AND lower(ct.email) = lower(x.email) AND ct.merged_into IS NULL
      LIMIT 1
  ) m
"""


async def matches(conn: Conn, rows: list[Row]) -> dict[int, dict[str, Any]]:
    """The existing contact of each row that has one, by line: {id, name, by}."""
    keys = [{"line": r.line, "phone": r.phone, "email": r.email} for r in rows]
    if not keys:
        return {}
    found = await conn.fetch(_MATCHES, dumps(keys))
    return {r["line"]: {"id": r["id"], "name": r["name"], "by": r["by"]} for r in found}


async def owners(conn: Conn, emails: set[str]) -> dict[str, int]:
    """Active managers by their e-mail address (lower case)."""
    if not emails:
        return {}
    rows = await conn.fetch(
        "SELECT lower(email) AS email, id FROM managers"
        " WHERE lower(email) = ANY($1::text[]) AND is_active",
        sorted(emails),
    )
    return {r["email"]: r["id"] for r in rows}


_COLUMNS = (
    "line int, id bigint, platform text, remote_id text, display_name text, phone text,"
    " email text, attributes jsonb, owner_id bigint"
)

_UPDATE = f"""
WITH x AS (SELECT * FROM {records("$1", "x", _COLUMNS)}),
changed AS (
    UPDATE contacts ct
       SET display_name = coalesce(ct.display_name, x.display_name),
           phone = coalesce(ct.phone, x.phone), email = coalesce(ct.email, x.email),
           attributes = ct.attributes || coalesce(x.attributes, '{{}}'::jsonb),
           owner_id = coalesce(x.owner_id, ct.owner_id), updated_at = now()
      FROM x WHERE ct.id = x.id
    RETURNING ct.id
), phones AS (
    INSERT INTO contact_phones (contact_id, phone)
    SELECT id, phone FROM x WHERE phone IS NOT NULL
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM changed
"""

_INSERT = f"""
WITH x AS (SELECT * FROM {records("$1", "x", _COLUMNS)}),
made AS (
    INSERT INTO contacts AS ct (platform, remote_id, display_name, phone, email, attributes,
                                owner_id)
    SELECT platform, remote_id, display_name, phone, email,
           coalesce(attributes, '{{}}'::jsonb), owner_id
      FROM x ORDER BY line
    -- A contact of that remote id found by neither (a merged one's, an e-mail changed since):
    -- it takes what it lacks, as a matched one does.
    ON CONFLICT (platform, remote_id) DO UPDATE
       SET display_name = coalesce(ct.display_name, excluded.display_name),
           phone = coalesce(ct.phone, excluded.phone), email = coalesce(ct.email, excluded.email),
           attributes = ct.attributes || excluded.attributes,
           owner_id = coalesce(excluded.owner_id, ct.owner_id), updated_at = now()
    RETURNING id, phone, xmax = 0 AS inserted
), phones AS (
    INSERT INTO contact_phones (contact_id, phone)
    SELECT id, phone FROM made WHERE phone IS NOT NULL
    ON CONFLICT DO NOTHING
)
SELECT count(*) FILTER (WHERE inserted) AS created, count(*) FILTER (WHERE NOT inserted)
       AS updated
  FROM made
"""


def _fields(row: Row, owner_id: int | None, contact_id: int | None) -> dict[str, Any]:
    platform, remote_id = (
        ("whatsapp", row.phone.removeprefix("+"))
        if row.phone
        else ("email", str(row.email).lower())
    )
    return {
        "line": row.line, "id": contact_id, "platform": platform, "remote_id": remote_id,
        "display_name": row.display_name, "phone": row.phone, "email": row.email,
        "attributes": row.attributes or None, "owner_id": owner_id,
    }  # fmt: skip


async def store(
    conn: Conn, rows: list[Row], found: dict[int, dict[str, Any]], owner_ids: dict[str, int]
) -> tuple[int, int, list[int]]:
    """Import `rows` (in the caller's transaction): (created, updated, the conversations of
    the updated contacts, whose names the inbox shows)."""
    updates, inserts = [], []
    for row in rows:
        owner = owner_ids.get(row.owner) if row.owner else None
        match = found.get(row.line)
        if match is not None:
            updates.append(_fields(row, owner, match["id"]))
        else:
            inserts.append(_fields(row, owner, None))
    updated: int = await conn.fetchval(_UPDATE, dumps(updates)) if updates else 0
    created = 0
    if inserts:
        made = await conn.fetchrow(_INSERT, dumps(inserts))
        assert made is not None
        created, updated = made["created"], updated + made["updated"]
    conversations = []
    if updates:
        conversations = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM conversations WHERE contact_id = ANY($1::bigint[])",
                [u["id"] for u in updates],
            )
        ]
    return created, updated, conversations
