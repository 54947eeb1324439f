"""A conversation's history: who assigned it, set its status, snoozed or archived it, and when.

The rows are written by a trigger on `conversations` (migrations/0013), in the transaction of
the change, whatever path made it. A manager's change names its manager with `ACTING`, part
of the very statement that changes the row (no separate call to forget). The setting lasts to
the end of the transaction, so a manager's action and the customer's messages never share one:
ingest has its own transactions.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from .database import Conn

# Joined into a manager's UPDATE of conversations (`FROM acting`): the trigger reads the id.
ACTING = "(SELECT set_config('crm.actor', {0}::bigint::text, true)) AS acting"
# How many changes a page of the thread shows between two of its messages (the newest ones):
# more would be a script toggling a conversation, not a history a person reads.
PAGE_LIMIT = 200

_SELECT = """
SELECT h.id, h.conversation_id, h.change, h.cause, h.actor_id, a.name AS actor_name,
       h.assignee_id, s.name AS assignee_name, h.status, h.snoozed_until, h.archived,
       h.created_at, c.assignee_id AS conversation_assignee_id
  FROM conversation_history h
  JOIN conversations c ON c.id = h.conversation_id
  LEFT JOIN managers a ON a.id = h.actor_id
  LEFT JOIN managers s ON s.id = h.assignee_id
"""


async def between(
    conn: Conn, conversation_id: int, after: datetime | None, upto: datetime | None
) -> list[asyncpg.Record]:
    """The changes made after `after` and up to `upto` (None: no bound), oldest first: the
    time a page of the thread spans, so each change comes with exactly one page."""
    rows = await conn.fetch(
        _SELECT + " WHERE h.conversation_id = $1"
        " AND ($2::timestamptz IS NULL OR h.created_at > $2)"
        " AND ($3::timestamptz IS NULL OR h.created_at <= $3)"
        " ORDER BY h.created_at DESC, h.id DESC LIMIT $4",
        conversation_id,
        after,
        upto,
        PAGE_LIMIT,
    )
    return list(reversed(rows))


async def by_ids(conn: Conn, ids: list[int]) -> list[asyncpg.Record]:
    return list(await conn.fetch(_SELECT + " WHERE h.id = ANY($1::bigint[])", ids))
