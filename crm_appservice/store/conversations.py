"""The inbox's reads and a manager's changes to a conversation.

Lists use keyset pagination on (last_message_at DESC NULLS LAST, id DESC), each filter served by
an index (see migrations/0001): a page costs the same on page 1 and page 1,000. Conversations
without any message yet (last_message_at NULL) come after all others, ordered by id.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from . import labels, search as text_search
from .database import Conn, set_clause
from .history import ACTING
from .sql import Where

_COLUMNS = """
    c.id, c.version, c.platform, c.kind, c.room_id, c.title, c.status, c.snoozed_until,
    c.assignee_id, c.label_ids,
    c.is_archived, c.merged_into, c.unread_count, c.last_message_at, c.last_message_id,
    c.last_message_preview,
    c.last_message_out, c.contact_id, ct.display_name AS contact_name, ct.phone AS contact_phone,
    ct.email AS contact_email, ct.avatar_url AS contact_avatar_url,
    c.contact_owner_id,
    lm.sender_manager_id AS last_message_manager_id, lm.kind AS last_message_kind,
    lm.media_filename AS last_message_filename, lm.media_duration_ms AS last_message_duration_ms,
    lm.deleted_at IS NOT NULL AS last_message_deleted,
    (SELECT mg.name FROM managers mg WHERE mg.id = lm.sender_manager_id)
        AS last_message_manager_name,
    (SELECT mg.name FROM managers mg WHERE mg.id = c.assignee_id) AS assignee_name,
    c.receiver, (SELECT l.name FROM own_logins l WHERE l.platform = c.platform
                                                   AND l.login_id = c.receiver) AS number_name
"""
# The last message by its primary key, for the preview's parts (its kind, file, length).
_LAST = "LEFT JOIN messages lm ON lm.id = c.last_message_id"
_FROM = f"FROM conversations c LEFT JOIN contacts ct ON ct.id = c.contact_id {_LAST}"


@dataclass(frozen=True)
class Filters:
    archived: bool = False
    status: str | None = None
    assignee: int | None = None
    unassigned: bool = False
    platform: str | None = None
    number: str | None = None  # a WhatsApp login: the conversations on that number
    unread: bool = False
    q: str | None = None
    labels: tuple[int, ...] = ()  # with any of them, or with `all_labels` every one
    all_labels: bool = False
    owner: int | None = None  # the contact's owner
    unowned: bool = False  # the contact is nobody's (or there is no contact: a group)
    waiting: bool = False  # the customer wrote last
    waiting_hours: int | None = None  # … more than this many hours ago
    # Set for a manager who sees only their own and unassigned conversations.
    visible_to: int | None = None


def _filters(where: Where, f: Filters) -> None:
    # A literal, not a parameter: the planner must see it to use the partial list indexes.
    where.add("c.is_archived" if f.archived else "NOT c.is_archived")
    where.add("c.merged_into IS NULL")  # a room the bridge merged into another is that one
    if f.status:
        where.add("c.status = {0}", f.status)
    if f.unassigned:
        where.add("c.assignee_id IS NULL")
    elif f.assignee is not None:
        where.add("c.assignee_id = {0}", f.assignee)
    if f.platform:
        where.add("c.platform = {0}", f.platform)
    if f.number:
        where.add("c.receiver = {0}", f.number)
    if f.unread:
        where.add("c.unread_count > 0")
    if f.labels:
        where.add(labels.condition("c.label_ids", f.all_labels), list(f.labels))
    # The contact's owner, as the conversation keeps it (migrations/0024, conversations_owner_idx).
    if f.unowned:
        where.add("c.contact_owner_id IS NULL")
    elif f.owner is not None:
        where.add("c.contact_owner_id = {0}", f.owner)
    if f.waiting or f.waiting_hours is not None:
        # Literals again: conversations_waiting_idx's predicate.
        where.add("NOT c.last_message_out AND c.last_message_at IS NOT NULL")
    if f.waiting_hours is not None:
        where.add("c.last_message_at < now() - make_interval(hours => {0})", f.waiting_hours)
    if f.visible_to is not None:
        where.add("(c.assignee_id IS NULL OR c.assignee_id = {0})", f.visible_to)


def _search_filter(where: Where, search: text_search.Search) -> None:
    if search.hits is not None:
        where.add("c.id = ANY({0}::bigint[])", search.by_contact + list(search.hits))
        return
    # Too many matching messages to collect: walk the list in order and keep the conversations
    # with a matching message; with so many matches a page fills quickly. Each conversation's
    # own messages are read through its index (OFFSET 0 keeps the planner from turning the
    # EXISTS into a join over every match of the full-text index).
    where.add(
        "(c.id = ANY({0}::bigint[]) OR EXISTS (SELECT 1 FROM messages m"
        " WHERE m.conversation_id = c.id AND m.deleted_at IS NULL"
        " AND to_tsvector('simple', coalesce(m.body, '')) @@ to_tsquery('simple', {1})"
        " OFFSET 0))",
        search.by_contact,
        search.words,
    )


# Conversations checked in list order for a broad search before it falls back to collecting.
WALK_BUDGET = 200


async def _walk(
    conn: Conn,
    f: Filters,
    search: text_search.Search,
    cursor: tuple[datetime | None, int] | None,
    limit: int,
) -> tuple[list[asyncpg.Record] | None, bool]:
    """A broad search's page from the next WALK_BUDGET conversations of the list, if they hold
    enough matches; and whether they were all that is left of the list (with messages)."""
    if cursor is not None and cursor[0] is None:
        return None, True  # past the conversations with messages: none left to walk
    window = Where()
    _filters(window, f)
    window.add("c.last_message_at IS NOT NULL")
    if cursor is not None:
        window.add("(c.last_message_at, c.id) < ({0}, {1})", cursor[0], cursor[1])
    order = "ORDER BY c.last_message_at DESC NULLS LAST, c.id DESC"
    walked = f"SELECT c.* FROM conversations c WHERE {window.sql()} {order} LIMIT {WALK_BUDGET}"
    matching = Where()
    matching.args = list(window.args)
    _search_filter(matching, search)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM ({walked}) c"
        f" LEFT JOIN contacts ct ON ct.id = c.contact_id {_LAST}"
        f" WHERE {matching.sql()} {order} LIMIT {limit + 1}",
        *matching.args,
    )
    if len(rows) > limit:
        return list(rows[:limit]), False
    count = await conn.fetchval(f"SELECT count(*) FROM ({walked}) w", *window.args)
    return None, count < WALK_BUDGET


Page = tuple[list[asyncpg.Record], bool]


async def list_page(
    conn: Conn, f: Filters, cursor: tuple[datetime | None, int] | None, limit: int
) -> Page:
    """One page of conversations after `cursor` (last_message_at, id); returns (rows, more).

    A search first collects the matching conversations' ids from the trigram and full-text
    indexes, and the page is then read by those ids, so the planner never has to guess how
    selective a search is; a search too broad for that walks the list instead.
    """
    page, _ = await _page(conn, f, cursor, limit)
    return page


async def search_page(
    conn: Conn, f: Filters, cursor: tuple[datetime | None, int] | None, limit: int
) -> tuple[Page, dict[int, asyncpg.Record]]:
    """`list_page`, and for a search the message each conversation of the page was found by
    (the newest with every word), by conversation id; none for those found by their contact's
    name or phone."""
    page, found = await _page(conn, f, cursor, limit)
    if found is None or not page[0]:
        return page, {}
    return page, await text_search.matched_messages(conn, [r["id"] for r in page[0]], found)


async def _page(
    conn: Conn, f: Filters, cursor: tuple[datetime | None, int] | None, limit: int
) -> tuple[Page, text_search.Search | None]:
    search = await text_search.find(conn, f.q) if f.q else None
    if search is not None and search.hits is None:
        walked, whole_list = await _walk(conn, f, search, cursor, limit)
        if walked is not None:
            return (walked, True), search
        if not whole_list:
            # Common words, but seldom in one conversation: collected after all.
            found = await text_search.collect(conn, search.words, None)
            search = text_search.Search(search.by_contact, found, search.words)

    def filters(where: Where) -> None:
        _filters(where, f)
        if search is not None:
            _search_filter(where, search)

    rows: list[asyncpg.Record] = []
    if cursor is None or cursor[0] is not None:
        where = Where()
        filters(where)
        where.add("c.last_message_at IS NOT NULL")
        if cursor is not None:
            where.add("(c.last_message_at, c.id) < ({0}, {1})", cursor[0], cursor[1])
        rows = list(
            await conn.fetch(
                f"SELECT {_COLUMNS} {_FROM} WHERE {where.sql()}"
                f" ORDER BY c.last_message_at DESC NULLS LAST, c.id DESC LIMIT {limit + 1}",
                *where.args,
            )
        )
        if len(rows) > limit:
            return (rows[:limit], True), search
        cursor = None
    where = Where()
    filters(where)
    where.add("c.last_message_at IS NULL")
    if cursor is not None:
        where.add("c.id < {0}", cursor[1])
    remaining = limit - len(rows)
    rows += await conn.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE {where.sql()} ORDER BY c.id DESC LIMIT {remaining + 1}",
        *where.args,
    )
    return (rows[:limit], len(rows) > limit), search


async def count(conn: Conn, f: Filters) -> tuple[int, datetime | None]:
    """How many conversations a list with these filters (search aside) holds; and, for one of
    conversations waiting more than N hours, when the next one joins it by time alone (the
    oldest of those waiting less long, N hours after its last message)."""
    where = Where()
    _filters(where, f)
    held: int = await conn.fetchval(
        f"SELECT count(*) FROM conversations c WHERE {where.sql()}", *where.args
    )
    if f.waiting_hours is None:
        return held, None
    soon = Where()
    _filters(soon, replace(f, waiting=True, waiting_hours=None))
    soon.add("c.last_message_at >= now() - make_interval(hours => {0})", f.waiting_hours)
    first: datetime | None = await conn.fetchval(
        f"SELECT min(c.last_message_at) FROM conversations c WHERE {soon.sql()}", *soon.args
    )
    return held, None if first is None else first + timedelta(hours=f.waiting_hours)


async def get(conn: Conn, conversation_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} {_FROM} WHERE c.id = $1", conversation_id)


async def of_contact(
    conn: Conn, contact_id: int, visible_to: int | None, limit: int = 200
) -> list[asyncpg.Record]:
    """A contact's conversations on every number, newest activity first (merged ones are part
    of those they were merged into); with `visible_to`, only those that manager sees."""
    return list(
        await conn.fetch(
            f"SELECT {_COLUMNS} {_FROM} WHERE c.contact_id = $1 AND c.merged_into IS NULL"
            " AND ($2::bigint IS NULL OR c.assignee_id IS NULL OR c.assignee_id = $2)"
            f" ORDER BY c.last_message_at DESC NULLS LAST, c.id DESC LIMIT {int(limit)}",
            contact_id,
            visible_to,
        )
    )


async def by_room(conn: Conn, room_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} {_FROM} WHERE c.room_id = $1", room_id)


async def by_ids(conn: Conn, ids: list[int]) -> list[asyncpg.Record]:
    return list(await conn.fetch(f"SELECT {_COLUMNS} {_FROM} WHERE c.id = ANY($1::bigint[])", ids))


async def counts(conn: Conn, manager_id: int, restricted: bool) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE status = 'open' AND assignee_id = $1) AS mine,
               count(*) FILTER (WHERE status = 'open' AND assignee_id IS NULL) AS unassigned,
               count(*) FILTER (WHERE status = 'open') AS all_open,
               count(*) FILTER (WHERE unread_count > 0) AS unread
          FROM conversations
         WHERE (status = 'open' OR unread_count > 0) AND NOT is_archived AND merged_into IS NULL
           AND (NOT $2 OR assignee_id IS NULL OR assignee_id = $1)
        """,
        manager_id,
        restricted,
    )
    assert row is not None
    return row


async def mark_read(conn: Conn, conversation_id: int) -> int | None:
    """Mark everything read; how many messages were unread, or None if there is no such
    conversation."""
    unread: int | None = await conn.fetchval(
        """
        UPDATE conversations c
           SET unread_count = 0, last_read_at = greatest(now(), c.last_message_at),
               updated_at = now()
          FROM conversations before
         WHERE c.id = $1 AND before.id = c.id
        RETURNING before.unread_count
        """,
        conversation_id,
    )
    return unread


async def update(
    conn: Conn, conversation_id: int, changes: dict[str, Any], manager_id: int
) -> bool:
    """Set the given columns (names come from the API model, never from the client), as the
    manager's change (its history names them)."""
    assert set(changes) <= {"status", "snoozed_until", "assignee_id", "is_archived"}
    sets, values = set_clause(changes, first_param=3)
    result: str = await conn.execute(
        f"UPDATE conversations SET {sets}, updated_at = now()"
        f" FROM {ACTING.format('$2')} WHERE id = $1",
        conversation_id,
        manager_id,
        *values,
    )
    return result.endswith(" 1")


async def hold_many(conn: Conn, ids: list[int], visible_to: int | None) -> list[int]:
    """Of these conversations, those that exist and the manager sees (with `visible_to`),
    locked until the transaction ends. In id order, as every bulk change takes them, so two bulk
    changes over the same conversations wait for each other instead of deadlocking."""
    rows = await conn.fetch(
        "SELECT id FROM conversations WHERE id = ANY($1::bigint[])"
        " AND ($2::bigint IS NULL OR assignee_id IS NULL OR assignee_id = $2)"
        " ORDER BY id FOR NO KEY UPDATE",
        ids,
        visible_to,
    )
    return [r["id"] for r in rows]


async def hold_of_contact(conn: Conn, contact_id: int) -> None:
    """Lock a contact's conversations (in id order) before the contact itself is changed."""
    await conn.execute(
        "SELECT id FROM conversations WHERE contact_id = $1 ORDER BY id FOR NO KEY UPDATE",
        contact_id,
    )


async def update_many(
    conn: Conn, ids: list[int], changes: dict[str, Any], manager_id: int
) -> list[int]:
    """`update` for many held conversations at once; the ids of those it changed (one that
    already is as asked is left alone: no new version, no history, no frame)."""
    assert set(changes) <= {"status", "snoozed_until", "assignee_id", "is_archived"}
    sets, values = set_clause(changes, first_param=3)
    columns = ", ".join(changes)
    params = ", ".join(f"${3 + i}" for i in range(len(changes)))
    rows = await conn.fetch(
        f"UPDATE conversations SET {sets}, updated_at = now()"
        f" FROM {ACTING.format('$2')} WHERE id = ANY($1::bigint[])"
        f" AND ROW({columns}) IS DISTINCT FROM ROW({params}) RETURNING id",
        ids,
        manager_id,
        *values,
    )
    return [r["id"] for r in rows]


WAKE_SNOOZED = """
UPDATE conversations SET status = 'open', snoozed_until = NULL, updated_at = now()
 WHERE status = 'snoozed' AND snoozed_until <= now()
RETURNING id
"""


async def wake_snoozed(conn: Conn) -> list[int]:
    """Reopen the snoozed conversations whose time is up (each once, whichever instance asks
    first); their ids."""
    return [r["id"] for r in await conn.fetch(WAKE_SNOOZED)]


async def take(conn: Conn, conversation_id: int, manager_id: int) -> bool:
    """Assign an unassigned conversation to the manager; False if someone has it already
    (of two managers taking it at once, the first wins)."""
    taken = await conn.fetchval(
        "UPDATE conversations SET assignee_id = $2, updated_at = now()"
        f" FROM {ACTING.format('$2')} WHERE id = $1 AND assignee_id IS NULL RETURNING id",
        conversation_id,
        manager_id,
    )
    return taken is not None


async def manager_is_active(conn: Conn, manager_id: int) -> bool:
    return bool(await conn.fetchval("SELECT is_active FROM managers WHERE id = $1", manager_id))
