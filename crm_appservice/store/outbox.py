"""Managers' replies and the outbox entries that send them.

A reply is a `messages` row (direction `out`, status `pending`) and an `outbox` row written in
the same database transaction: once the API has answered, the reply can no longer be lost. The
worker holds an entry's row lock (`FOR UPDATE SKIP LOCKED`) from claiming it until its result is
recorded, so several instances never take the same entry, and a crashed instance's entry is free
again as soon as its database connection is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from .database import Conn

OUTBOX_CHANNEL = "crm_outbox"

_NEW_TXN_ID = "'crm-' || {message} || '-' || substr(md5(random()::text), 1, 10)"

_CREATE_REPLY = f"""
WITH msg AS (
    INSERT INTO messages (conversation_id, direction, channel, sender_mxid, sender_manager_id,
                          kind, body, reply_to_event_id, status, client_txn_id, created_at,
                          media_mimetype, media_size, media_filename, media_width, media_height,
                          media_duration_ms)
    SELECT c.id, 'out', $3, $4, $5, $10, $6,
           (SELECT r.event_id FROM messages r WHERE r.id = $7 AND r.conversation_id = c.id),
           'pending', $2, now(), a.mimetype, a.size, a.filename, a.width, a.height, a.duration_ms
      FROM conversations c
      LEFT JOIN jsonb_to_record($11::jsonb) AS a(mimetype text, size bigint, filename text,
                width integer, height integer, duration_ms integer) ON true
     WHERE c.id = $1
    ON CONFLICT (conversation_id, client_txn_id) WHERE client_txn_id IS NOT NULL DO NOTHING
    RETURNING id, conversation_id, created_at
), box AS (
    INSERT INTO outbox (message_id, conversation_id, action, payload, txn_id)
    SELECT id, conversation_id, $8, $9::jsonb, {_NEW_TXN_ID.format(message="id")} FROM msg
    RETURNING id
), conv AS (
    UPDATE conversations c
       SET last_message_at = greatest(c.last_message_at, msg.created_at),
           last_message_id = msg.id, last_message_preview = $12,
           unread_count = 0, last_read_at = msg.created_at, updated_at = now()
      FROM msg WHERE c.id = msg.conversation_id
    RETURNING c.id
)
SELECT (SELECT id FROM msg) AS created,
       (SELECT pg_notify('{OUTBOX_CHANNEL}', '') FROM box) IS NOT NULL AS queued,
       (SELECT count(*) FROM conv) AS updated
"""

_EXISTING = """
SELECT (SELECT id FROM messages WHERE conversation_id = $1 AND client_txn_id = $2) AS existing,
       EXISTS (SELECT 1 FROM conversations WHERE id = $1) AS found
"""


@dataclass(frozen=True)
class Attachment:
    """A file a manager sends, kept in the outbox's spool until the homeserver has it."""

    path: str
    mimetype: str
    size: int
    filename: str
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    voice: bool = False


@dataclass(frozen=True)
class Reply:
    conversation_id: int
    client_txn_id: str
    channel: str
    sender_mxid: str | None
    manager_id: int
    kind: str
    body: str | None
    preview: str
    reply_to: int | None
    attachment: Attachment | None = None


async def create_reply(conn: Conn, reply: Reply) -> tuple[int | None, bool]:
    """Queue a reply; (message id, whether it is new). (None, False): no such conversation.

    A `client_txn_id` already used in the conversation returns that message: a browser that
    retries a request never makes a second message. The reply-to target must be a message of
    the same conversation; its event id is looked up when the reply is sent, since it may be
    one of our own replies still on its way.
    """
    action = "email" if reply.channel == "email" else "send"
    payload: dict[str, Any] = {"reply_to": reply.reply_to}
    media = None
    if reply.attachment is not None:
        a = reply.attachment
        payload.update(file=a.path, voice=a.voice)
        media = {
            "mimetype": a.mimetype,
            "size": a.size,
            "filename": a.filename,
            "width": a.width,
            "height": a.height,
            "duration_ms": a.duration_ms,
        }
    row = await conn.fetchrow(
        _CREATE_REPLY,
        reply.conversation_id,
        reply.client_txn_id,
        reply.channel,
        reply.sender_mxid,
        reply.manager_id,
        reply.body,
        reply.reply_to,
        action,
        orjson.dumps(payload).decode(),
        reply.kind,
        orjson.dumps(media).decode() if media else None,
        reply.preview,
    )
    assert row is not None
    if row["created"] is not None:
        return row["created"], True
    # Not inserted: the conversation does not exist, or the id was used (maybe by a request
    # that committed while this one waited: a fresh statement sees it).
    row = await conn.fetchrow(_EXISTING, reply.conversation_id, reply.client_txn_id)
    assert row is not None
    return (row["existing"], False) if row["found"] else (None, False)


async def reply_target_exists(conn: Conn, conversation_id: int, message_id: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2 AND deleted_at IS NULL",
            message_id,
            conversation_id,
        )
    )


@dataclass(frozen=True)
class Entry:
    """A claimed outbox entry and what sending it needs."""

    id: int
    message_id: int
    action: str
    payload: dict[str, Any]
    txn_id: str
    attempts: int
    queued_at: datetime
    room_id: str
    event_id: str | None
    kind: str
    body: str | None
    reply_to_event_id: str | None
    media_url: str | None
    media_mimetype: str | None
    media_size: int | None
    media_filename: str | None
    media_width: int | None
    media_height: int | None
    media_duration_ms: int | None


# The oldest due entry whose conversation has no earlier entry still pending: a conversation's
# messages go out in order, and an entry another worker holds is skipped, never waited for.
_CLAIM = """
SELECT o.id, o.message_id, o.action, o.payload, o.txn_id, o.attempts, o.queued_at, c.room_id,
       m.event_id, m.kind, m.body, m.media_url, m.media_mimetype, m.media_size,
       m.media_filename, m.media_width, m.media_height, m.media_duration_ms,
       coalesce(m.reply_to_event_id,
                (SELECT r.event_id FROM messages r
                  WHERE r.id = (o.payload ->> 'reply_to')::bigint)) AS reply_to_event_id
  FROM outbox o
  JOIN messages m ON m.id = o.message_id
  JOIN conversations c ON c.id = o.conversation_id
 WHERE o.state = 'pending' AND o.next_attempt_at <= now()
   AND NOT EXISTS (SELECT 1 FROM outbox p
                    WHERE p.conversation_id = o.conversation_id AND p.state = 'pending'
                      AND p.id < o.id)
 ORDER BY o.next_attempt_at, o.id
 LIMIT 1
   FOR UPDATE OF o SKIP LOCKED
"""


async def claim(conn: Conn) -> Entry | None:
    """Lock the next entry to send. Call in a transaction that records the result."""
    row = await conn.fetchrow(_CLAIM)
    if row is None:
        return None
    return Entry(
        id=row["id"],
        message_id=row["message_id"],
        action=row["action"],
        payload=orjson.loads(row["payload"]),
        txn_id=row["txn_id"],
        attempts=row["attempts"],
        queued_at=row["queued_at"],
        room_id=row["room_id"],
        event_id=row["event_id"],
        kind=row["kind"],
        body=row["body"],
        reply_to_event_id=row["reply_to_event_id"],
        media_url=row["media_url"],
        media_mimetype=row["media_mimetype"],
        media_size=row["media_size"],
        media_filename=row["media_filename"],
        media_width=row["media_width"],
        media_height=row["media_height"],
        media_duration_ms=row["media_duration_ms"],
    )


async def next_due(conn: Conn) -> datetime | None:
    """When the earliest pending entry is due (for the worker's timer)."""
    value: datetime | None = await conn.fetchval(
        "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'"
    )
    return value


async def mark_sent(conn: Conn, entry: Entry, event_id: str) -> bool:
    """The homeserver accepted the message; True if the message changed.

    The event may have come back in a transaction first (then its id is already stored), and
    a bridge's status may already have moved the message past `sent`: only `pending` moves.
    """
    await conn.execute(
        "UPDATE outbox SET state = 'done', attempts = attempts + 1, last_error = NULL,"
        " updated_at = now() WHERE id = $1",
        entry.id,
    )
    status = await conn.fetchval(
        """
        UPDATE messages
           SET event_id = $2, error = NULL,
               status = CASE WHEN status = 'pending' THEN 'sent' ELSE status END,
               reply_to_event_id = coalesce(reply_to_event_id, $3)
         WHERE id = $1 AND (event_id IS NULL OR (event_id = $2 AND status = 'pending'))
        RETURNING status
        """,
        entry.message_id,
        event_id,
        entry.reply_to_event_id,
    )
    return status is not None


async def set_media_url(conn: Conn, entry: Entry, url: str) -> None:
    """The attachment is in the homeserver's media repository: a retry does not upload again."""
    await conn.execute("UPDATE messages SET media_url = $2 WHERE id = $1", entry.message_id, url)


async def mark_done(conn: Conn, entry: Entry) -> None:
    """Nothing left to send (the message's event is already in the room)."""
    await conn.execute(
        "UPDATE outbox SET state = 'done', updated_at = now() WHERE id = $1", entry.id
    )


async def schedule_retry(conn: Conn, entry: Entry, error: str, delay: float) -> None:
    await conn.execute(
        """
        UPDATE outbox SET attempts = attempts + 1, last_error = $2, updated_at = now(),
                          next_attempt_at = now() + make_interval(secs => $3)
         WHERE id = $1
        """,
        entry.id,
        error[:1000],
        delay,
    )


async def mark_failed(conn: Conn, entry: Entry, error: str) -> None:
    """Give up: the message shows as failed with the reason, until a manager retries it."""
    await conn.execute(
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = $2,"
        " updated_at = now() WHERE id = $1",
        entry.id,
        error[:1000],
    )
    await conn.execute(
        "UPDATE messages SET status = 'failed', error = $2 WHERE id = $1 AND status = 'pending'",
        entry.message_id,
        error[:1000],
    )


_RETRY = f"""
WITH msg AS (
    UPDATE messages SET status = 'pending', error = NULL, event_id = NULL
     WHERE id = $1 AND direction = 'out' AND status = 'failed' AND deleted_at IS NULL
    RETURNING id
), box AS (
    UPDATE outbox o
       SET state = 'pending', attempts = 0, last_error = NULL, next_attempt_at = now(),
           queued_at = now(), updated_at = now(),
           txn_id = {_NEW_TXN_ID.format(message="o.message_id")}
      FROM msg
     WHERE o.message_id = msg.id AND o.action IN ('send', 'email')
    RETURNING o.id
)
SELECT (SELECT id FROM msg) AS message_id,
       (SELECT pg_notify('{OUTBOX_CHANNEL}', '') FROM box LIMIT 1) IS NOT NULL AS queued
"""


async def retry(conn: Conn, message_id: int) -> bool:
    """Send a failed message again, as a new request to the homeserver; False if it is not a
    failed reply."""
    row = await conn.fetchrow(_RETRY, message_id)
    return row is not None and row["message_id"] is not None


async def message_state(conn: Conn, message_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, conversation_id, direction, status, deleted_at FROM messages WHERE id = $1",
        message_id,
    )
