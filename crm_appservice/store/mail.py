"""What the mail sender reads: e-mail replies' recipients, and the notifications of managers
about conversations assigned to them that receive messages while they are offline (offline as
store/presence.py keeps it).
"""

from __future__ import annotations

import asyncpg

from .database import Conn
from .outbox import OUTBOX_CHANNEL, txn_id_sql
from .sql import compose


async def recipient(conn: Conn, conversation_id: int) -> asyncpg.Record | None:
    """The contact an e-mail reply in the conversation goes to: (email, display_name, title)."""
    return await conn.fetchrow(
        """
        SELECT ct.email, ct.display_name, c.title
          FROM conversations c LEFT JOIN contacts ct ON ct.id = c.contact_id
         WHERE c.id = $1
        """,
        conversation_id,
    )


# Conversations whose assignee is offline and whose last message is an incoming one that arrived
# after they went offline and that no mail mentioned yet, at most once per `period` seconds each.
# Rows another instance is queueing are skipped; the stamps make the next round skip them too.
_QUEUE_DUE = compose(
    """
WITH due AS (
    SELECT c.id, c.assignee_id, c.last_message_id
      FROM conversations c
      JOIN managers mg ON mg.id = c.assignee_id
      JOIN messages lm ON lm.id = c.last_message_id
     WHERE c.unread_count > 0 AND NOT c.is_archived AND mg.is_active
       AND coalesce(mg.online_until, '-infinity') < now()
       AND c.last_message_id IS DISTINCT FROM c.notified_message_id
       AND coalesce(c.notified_at, '-infinity') < now() - make_interval(secs => $1)
       AND lm.direction = 'in' AND lm.received_at > coalesce(mg.online_until, '-infinity')
       FOR UPDATE OF c SKIP LOCKED
), stamp AS (
    UPDATE conversations c SET notified_at = now(), notified_message_id = due.last_message_id
      FROM due WHERE c.id = due.id
), box AS (
    INSERT INTO outbox (message_id, conversation_id, action, lane, payload, txn_id)
    SELECT NULL, due.id, 'notify', 'notify', jsonb_build_object('manager_id', due.assignee_id),
           {txn_id}
      FROM due
    RETURNING id
)
SELECT (SELECT count(*) FROM box) AS queued,
       (SELECT pg_notify('{channel}', '') WHERE EXISTS (SELECT 1 FROM box)) AS woken
""",
    txn_id=txn_id_sql("'notify'", "due.id"),
    channel=OUTBOX_CHANNEL,
)


async def queue_due_notifications(conn: Conn, period: float) -> int:
    """Queue a notification for every conversation due one; how many were queued."""
    queued: int = await conn.fetchval(_QUEUE_DUE, period)
    return queued


async def notification(conn: Conn, conversation_id: int, manager_id: int) -> asyncpg.Record | None:
    """What a notification says, read when it is sent; `still_due` is false once the manager
    is back online, has read the conversation or no longer has it."""
    return await conn.fetchrow(
        """
        SELECT mg.email, mg.name, c.title, c.unread_count, ct.display_name, ct.phone,
               (c.assignee_id = mg.id AND mg.is_active AND c.unread_count > 0
                AND coalesce(mg.online_until, '-infinity') < now()) AS still_due
          FROM conversations c
          JOIN managers mg ON mg.id = $2
          LEFT JOIN contacts ct ON ct.id = c.contact_id
         WHERE c.id = $1
        """,
        conversation_id,
        manager_id,
    )


async def unread_messages(conn: Conn, conversation_id: int, limit: int) -> list[asyncpg.Record]:
    """The newest unread incoming messages, oldest first."""
    rows = await conn.fetch(
        """
        SELECT m.kind, m.body, m.media_filename, m.created_at, ct.display_name AS sender
          FROM messages m
          JOIN conversations c ON c.id = m.conversation_id
          LEFT JOIN contacts ct ON ct.id = m.sender_contact_id
         WHERE m.conversation_id = $1 AND m.direction = 'in' AND m.deleted_at IS NULL
           AND m.created_at > coalesce(c.last_read_at, '-infinity')
         ORDER BY m.created_at DESC, m.id DESC
         LIMIT $2
        """,
        conversation_id,
        limit,
    )
    return list(reversed(rows))
