"""A contact's timeline: what happened with this person across all their conversations (each
opened, assigned, its status set, archived), the notes managers wrote there, their orders and
the merges into them, newest first; each part read through its own per-conversation or
per-contact index."""

from __future__ import annotations

import asyncpg

from .database import Conn

_TIMELINE = """
WITH chats AS (
    SELECT id, title, created_at FROM conversations
     WHERE contact_id = $1 AND merged_into IS NULL
       AND ($2::bigint IS NULL OR assignee_id IS NULL OR assignee_id = $2)
     ORDER BY last_message_at DESC NULLS LAST LIMIT 200
)
SELECT * FROM (
    SELECT c.created_at AS at, 'conversation' AS kind, c.id AS conversation_id,
           NULL::text AS actor_name, c.title AS text
      FROM chats c
    UNION ALL
    SELECT h.created_at, h.change, h.conversation_id,
           (SELECT m.name FROM managers m WHERE m.id = h.actor_id),
           CASE h.change
               WHEN 'assignee' THEN (SELECT m.name FROM managers m WHERE m.id = h.assignee_id)
               WHEN 'status' THEN h.status
               ELSE h.archived::text END
      FROM chats c
      CROSS JOIN LATERAL (SELECT * FROM conversation_history h
                           WHERE h.conversation_id = c.id
                           ORDER BY h.created_at DESC LIMIT $3) h
    UNION ALL
    SELECT n.created_at, 'note', n.conversation_id,
           (SELECT m.name FROM managers m WHERE m.id = n.author_id), n.body
      FROM chats c
      CROSS JOIN LATERAL (SELECT * FROM notes n
                           WHERE n.conversation_id = c.id AND n.deleted_at IS NULL
                           ORDER BY n.created_at DESC LIMIT $3) n
    UNION ALL
    SELECT o.created_at, 'order', NULL, NULL,
           '#' || o.number || ' · ' || o.total::text || ' ' || o.currency || ' · ' || o.status
      FROM (SELECT * FROM orders WHERE contact_id = $1 ORDER BY created_at DESC LIMIT $3) o
    UNION ALL
    SELECT m.merged_at, 'merge', NULL,
           (SELECT x.name FROM managers x WHERE x.id = m.merged_by),
           (SELECT coalesce(g.display_name, g.phone, g.remote_id) FROM contacts g
             WHERE g.id = m.gone_id)
      FROM (SELECT * FROM contact_merges WHERE kept_id = $1 AND undone_at IS NULL
             ORDER BY merged_at DESC LIMIT $3) m
) t
ORDER BY at DESC
LIMIT $3
"""


async def timeline(
    conn: Conn, contact_id: int, visible_to: int | None, limit: int = 100
) -> list[asyncpg.Record]:
    """The newest `limit` events; with `visible_to`, only of the conversations that manager
    sees (their own and unassigned ones), as everywhere else."""
    return list(await conn.fetch(_TIMELINE, contact_id, visible_to, limit))
