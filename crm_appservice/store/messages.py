"""Pages of a conversation's messages, newest first in the query, with their reactions."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from .database import Conn
from .sql import compose

_SELECT = """
SELECT m.id, m.conversation_id, m.event_id, m.client_txn_id, m.direction, m.channel, m.kind,
       m.body, m.html, m.media_url, m.media_mimetype, m.media_size, m.media_width, m.media_height,
       m.media_duration_ms, m.media_filename, m.thumbnail_url, m.latitude, m.longitude,
       m.status, m.version, m.error, m.edited_at, m.deleted_at, m.created_at, m.sender_contact_id,
       m.sender_manager_id, ct.display_name AS contact_name, mg.name AS manager_name,
       (m.sender_mxid = c.bridge_bot) AS from_bridge, c.assignee_id AS conversation_assignee_id,
       (SELECT r.id FROM messages r WHERE r.event_id = m.reply_to_event_id) AS reply_to_id,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('key', x.key, 'count', x.n,
                                                     'managers', x.managers)
                                  ORDER BY x.first), '[]'::jsonb)
          FROM (SELECT key, count(*) AS n, min(created_at) AS first,
                       coalesce(array_agg(sender_manager_id) FILTER (
                           WHERE sender_manager_id IS NOT NULL), '{}') AS managers
                  FROM reactions WHERE message_id = m.id AND deleted_at IS NULL
                 GROUP BY key) x) AS reactions
  FROM messages m
  JOIN conversations c ON c.id = m.conversation_id
  LEFT JOIN contacts ct ON ct.id = m.sender_contact_id
  LEFT JOIN managers mg ON mg.id = m.sender_manager_id
 WHERE {where}
"""
_ORDER = " ORDER BY m.created_at DESC, m.id DESC LIMIT $2"
_NEWEST = compose(_SELECT, where="m.conversation_id = $1") + _ORDER
_OLDER = compose(_SELECT, where="m.conversation_id = $1 AND (m.created_at, m.id) < ($3, $4)")
_OLDER += _ORDER
_BY_IDS = compose(_SELECT, where="m.id = ANY($1::bigint[])")


async def page(
    conn: Conn,
    conversation_id: int,
    before: tuple[datetime, int] | None,
    limit: int,
) -> tuple[list[asyncpg.Record], bool]:
    """Up to `limit` messages older than `before`, in chronological order; and whether more
    remain. Reactions list the managers who reacted, so each viewer's `mine` is computed
    from the same rows."""
    if before is None:
        rows = await conn.fetch(_NEWEST, conversation_id, limit + 1)
    else:
        rows = await conn.fetch(_OLDER, conversation_id, limit + 1, before[0], before[1])
    more = len(rows) > limit
    return list(reversed(rows[:limit])), more


async def by_ids(conn: Conn, ids: list[int]) -> list[asyncpg.Record]:
    return list(await conn.fetch(_BY_IDS, ids))


async def media_of(conn: Conn, message_id: int) -> asyncpg.Record | None:
    """What the media proxy needs of a message: its files, their stored types and name, and
    whether it may still be served."""
    return await conn.fetchrow(
        """
        SELECT m.id, m.conversation_id, m.kind, m.media_url, m.media_mimetype, m.media_filename,
               m.media_size, m.thumbnail_url, m.thumbnail_mimetype, m.deleted_at,
               c.assignee_id AS conversation_assignee_id,
               (SELECT o.payload ->> 'file' FROM outbox o
                 WHERE o.message_id = m.id AND o.action IN ('send', 'email')
                 ORDER BY o.id DESC LIMIT 1) AS spooled
          FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.id = $1
        """,
        message_id,
    )
