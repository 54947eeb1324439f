"""The Contacts page's reads: every customer, by name or newest first, found by a part of their
name, number, e-mail address or attributes.

Pages are keyset on (sort_name, id) or (created_at DESC, id DESC), each served by its partial
index of migrations/0019 (merged contacts are in none), so page 2,000 costs what page 1 does. A
search is one trigram index over `search_text` and one over every number a person has had.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
import re
from typing import Literal

import asyncpg

from . import labels
from .database import Conn
from .search import terms
from .sql import Where

Sort = Literal["name", "newest"]
Op = Literal["has", "=", ">=", "<="]
# A key of the sort order and the id after which the next page starts.
Cursor = tuple[str | datetime, int]

_ROW = """
    ct.id, coalesce(ct.display_name, ct.phone, ct.remote_id) AS name, ct.display_name,
    ct.phone, ct.email, ct.avatar_url, ct.owner_id, ct.label_ids,
    (SELECT m.name FROM managers m WHERE m.id = ct.owner_id) AS owner_name, ct.created_at,
    ct.sort_name,
    (SELECT count(*) FROM conversations cv
      WHERE cv.contact_id = ct.id AND cv.merged_into IS NULL {visible}) AS conversation_count,
    (SELECT max(cv.last_message_at) FROM conversations cv
      WHERE cv.contact_id = ct.id AND cv.merged_into IS NULL {visible}) AS last_message_at
"""
# An export's row: the list's, with what a spreadsheet of customers holds besides.
_EXPORT = (
    _ROW
    + """, ct.attributes,
    (SELECT m.email FROM managers m WHERE m.id = ct.owner_id) AS owner_email,
    ARRAY(SELECT cp.phone FROM contact_phones cp WHERE cp.contact_id = ct.id
           AND cp.phone IS DISTINCT FROM ct.phone ORDER BY cp.last_seen DESC) AS other_phones
"""
)
_ORDER: dict[Sort, tuple[str, str]] = {
    "name": ("ORDER BY ct.sort_name, ct.id", "(ct.sort_name, ct.id) > ({0}, {1})"),
    "newest": ("ORDER BY ct.created_at DESC, ct.id DESC", "(ct.created_at, ct.id) < ({0}, {1})"),
}
# What a search typed as a phone number is: digits, and the signs people write numbers with.
_PHONE_LIKE = re.compile(r"^[0-9\s()+\-./]+$")


def phone_digits(q: str) -> str | None:
    """The digits of a search that looks like (a part of) a phone number, when there are at
    least three of them: "+49 (151) 23" finds +4915123…. Leading zeros are a trunk or an
    international prefix ("0151 23", "0049 151"), which no stored number (E.164) has, so a
    number written the local way is found too. None for any other search."""
    if not _PHONE_LIKE.match(q):
        return None
    digits = re.sub(r"[^0-9]", "", q).lstrip("0")
    return digits if len(digits) >= 3 else None


@dataclass(frozen=True)
class AttributeFilter:
    """One attribute's condition: `op` "has" (any value), "=", ">=" or "<=" against a number
    (`num`) or a stored text (`txt`: text, a choice, a date, "true"/"false")."""

    key: str
    op: Op
    num: Decimal | None = None
    txt: str | None = None
    # A text longer than the index keeps (stored_text): compared whole on the contact too.
    whole: str | None = None


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    sort: Sort = "name"
    owner: int | None = None
    unowned: bool = False
    number: str | None = None  # a WhatsApp login: contacts with a conversation on it
    # Set for a manager who sees only their own and unassigned conversations: the contacts
    # they own, or with a conversation of theirs or nobody's.
    visible_to: int | None = None
    attributes: tuple[AttributeFilter, ...] = ()
    labels: tuple[int, ...] = ()  # with any of them, or with `all_labels` every one
    all_labels: bool = False


def _attribute(where: Where, a: AttributeFilter) -> None:
    """An EXISTS on contact_attribute_values: its primary key per contact when the list is
    walked in order, its (key, num) or (key, txt) index when few contacts match."""
    sql = "EXISTS (SELECT 1 FROM contact_attribute_values v WHERE v.contact_id = ct.id"
    if a.op == "has":
        where.add(sql + " AND v.key = {0})", a.key)
    elif a.num is not None:
        where.add(sql + f" AND v.key = {{0}} AND v.num {a.op} {{1}}::numeric)", a.key, a.num)
    elif a.whole is not None:
        where.add(sql + " AND v.key = {0} AND v.txt = {1} AND ct.attributes ->> {0} = {2})",
                  a.key, a.txt, a.whole)  # fmt: skip
    else:
        where.add(sql + f" AND v.key = {{0}} AND v.txt {a.op} {{1}})", a.key, a.txt)


@dataclass(frozen=True)
class Found:
    """Contacts collected by id from the indexes (see `_found`): the page is read by id."""

    ids: list[int]
    searched: bool  # the search's matches are among them (its condition is not needed again)


def _where(f: Filters, found: Found | None = None) -> Where:
    # A contact's conversations are looked up per contact (conversations_contact_idx): LIMIT 1
    # in EXISTS, and a scalar sub-select beside an OR, keep the planner from hashing the whole
    # conversations table instead.
    where = Where()
    where.add("ct.merged_into IS NULL")
    # The business's own numbers speak in its chats (the bridge's ghost of the logged-in
    # account) but are nobody's customer.
    where.add(
        "NOT EXISTS (SELECT 1 FROM own_logins l WHERE l.platform = ct.platform"
        " AND l.login_id = ct.remote_id)"
    )
    if found is not None:
        where.add("ct.id = ANY({0}::bigint[])", found.ids)
    if f.q and not (found and found.searched):
        pattern, _ = terms(f.q)
        digits = phone_digits(f.q)
        if digits is not None:
            where.add(
                "(ct.search_text ILIKE {0} OR ct.id IN (SELECT cp.contact_id FROM contact_phones"
                " cp WHERE cp.phone LIKE {1}))",
                pattern,
                f"%{digits}%",
            )
        else:
            where.add("ct.search_text ILIKE {0}", pattern)
    if f.unowned:
        where.add("ct.owner_id IS NULL")
    elif f.owner is not None:
        where.add("ct.owner_id = {0}", f.owner)
    if f.number:
        where.add(
            "EXISTS (SELECT 1 FROM conversations cv WHERE cv.contact_id = ct.id"
            " AND cv.receiver = {0} AND cv.merged_into IS NULL LIMIT 1)",
            f.number,
        )
    for a in f.attributes:
        _attribute(where, a)
    if f.labels:
        where.add(labels.condition("ct.label_ids", f.all_labels), list(f.labels))
    if f.visible_to is not None:
        where.add(
            "(ct.owner_id = {0} OR coalesce((SELECT true FROM conversations cv"
            " WHERE cv.contact_id = ct.id AND (cv.assignee_id IS NULL OR cv.assignee_id = {0})"
            " LIMIT 1), false))",
            f.visible_to,
        )
    return where


# A search's (or an attribute's) matches collected by id up to this many; more are broad,
# walked in order.
SEARCH_CAP = 2_000


async def _search_ids(conn: Conn, q: str) -> list[int] | None:
    pattern, _ = terms(q)
    digits = phone_digits(q)
    sql = "SELECT id FROM contacts WHERE search_text ILIKE $1 AND merged_into IS NULL"
    args: list[object] = [pattern]
    if digits is not None:
        sql += " UNION SELECT contact_id FROM contact_phones WHERE phone LIKE $2"
        args.append(f"%{digits}%")
    rows = await conn.fetch(f"{sql} LIMIT {SEARCH_CAP + 1}", *args)
    return [r["id"] for r in rows] if len(rows) <= SEARCH_CAP else None


async def _attribute_ids(conn: Conn, a: AttributeFilter) -> list[int] | None:
    """In the order of contact_attribute_values' (key, num) or (key, txt) index, so that it is
    read from the index, however many rows the planner expects to match."""
    column = "num" if a.num is not None else "txt"
    limit = SEARCH_CAP + 1
    if a.op == "has":  # either kind of value: one index each
        sql = " UNION ALL ".join(
            f"(SELECT contact_id FROM contact_attribute_values WHERE key = $1"
            f" AND {c} IS NOT NULL ORDER BY {c} LIMIT {limit})"
            for c in ("num", "txt")
        )
        args: list[object] = [a.key]
    else:
        sql = (f"SELECT contact_id FROM contact_attribute_values WHERE key = $1"
               f" AND {column} {a.op} $2{'::numeric' if column == 'num' else ''}"
               f" ORDER BY {column} LIMIT {limit}")  # fmt: skip
        args = [a.key, a.num if a.num is not None else a.txt]
    rows = await conn.fetch(sql, *args)
    return [r["contact_id"] for r in rows] if len(rows) <= SEARCH_CAP else None


async def _found(conn: Conn, f: Filters) -> Found | None:
    """The contacts a search, or an attribute's condition, matches, from their indexes alone,
    when they are few (at most SEARCH_CAP): the page is then read by id. Without this, a
    search for a number (the name, e-mail and attributes, or any number the person has had) is
    an OR the planner can only answer by walking the whole list in order, testing each contact
    (200 ms at 100k), and so is a condition few contacts meet (a budget above 9,990: 300 ms).
    None for none of them, a search shorter than a trigram, or conditions matching more: those
    walk the list, which fills a page quickly when nearly everyone matches."""
    sets: list[set[int]] = []
    searched = False
    if f.q and len(f.q.strip()) >= 3:
        ids = await _search_ids(conn, f.q)
        if ids is not None:
            sets.append(set(ids))
            searched = True
    for a in f.attributes:
        ids = await _attribute_ids(conn, a)
        if ids is not None:
            sets.append(set(ids))
    if f.labels:
        where = Where()
        where.add(labels.condition("ct.label_ids", f.all_labels), list(f.labels))
        rows = await conn.fetch(
            f"SELECT id FROM contacts ct WHERE {where.sql()} LIMIT {SEARCH_CAP + 1}", *where.args
        )
        if len(rows) <= SEARCH_CAP:
            sets.append({r["id"] for r in rows})
    if not sets:
        return None
    return Found(sorted(set.intersection(*sets)), searched)


def page_sql(
    f: Filters,
    cursor: Cursor | None,
    limit: int,
    export: bool = False,
    found: Found | None = None,
) -> tuple[str, list[object]]:
    """The statement of one page (and one row more, to tell whether there is a next page)."""
    where = _where(f, found)
    order, after = _ORDER[f.sort]
    if cursor is not None:
        where.add(after, *cursor)
    # Counted over the conversations the manager sees (an id from the session, an integer).
    seen = "" if f.visible_to is None else (
        f"AND (cv.assignee_id IS NULL OR cv.assignee_id = {int(f.visible_to)})")  # fmt: skip
    columns = (_EXPORT if export else _ROW).replace("{visible}", seen)
    sql = f"SELECT {columns} FROM contacts ct WHERE {where.sql()} {order} LIMIT {limit + 1}"
    return sql, list(where.args)


async def attribute_names(conn: Conn, f: Filters, limit: int = 100) -> list[str]:
    """The attributes the contacts of these filters have (an export's columns)."""
    where = _where(f, await _found(conn, f))
    rows = await conn.fetch(
        f"SELECT DISTINCT jsonb_object_keys(ct.attributes) AS name FROM contacts ct"
        f" WHERE {where.sql()} ORDER BY 1 LIMIT {int(limit)}",
        *where.args,
    )
    return [r["name"] for r in rows]


async def page(
    conn: Conn, f: Filters, cursor: Cursor | None, limit: int, export: bool = False
) -> tuple[list[asyncpg.Record], bool]:
    """One page of contacts after `cursor`; returns (rows, whether more follow)."""
    sql, args = page_sql(f, cursor, limit, export, await _found(conn, f))
    rows = await conn.fetch(sql, *args)
    return list(rows[:limit]), len(rows) > limit


def cursor_of(row: asyncpg.Record, sort: Sort) -> Cursor:
    key: str | datetime = row["sort_name"] if sort == "name" else row["created_at"]
    return key, row["id"]
