"""Managers' replies, reactions, edits and deletions, and the outbox entries that send them.

A reply is a `messages` row (direction `out`, status `pending`) and an `outbox` row written in
the same database transaction: once the API has answered, the reply can no longer be lost. The
same holds for a reaction (a `reactions` row), an edit (the earlier version in `message_edits`)
and a deletion (`deleted_at`): the change shows at once and its entry sends it. The worker takes
an entry with a lease (claimed in one statement, `FOR UPDATE SKIP LOCKED`), sends it outside any
transaction, and records the result in a short one; several instances never take the same entry,
and a crashed instance's entry is free again as soon as its database connection is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from .. import delivery
from .database import Conn

OUTBOX_CHANNEL = "crm_outbox"


def txn_id_sql(action: str, ref: str) -> str:
    """The SQL of a new entry's Matrix transaction id (and Message-ID), from SQL expressions of
    its action and the row it is for: fixed when the entry is queued, so every retry of the
    entry reuses it, and a manual retry gets a new one."""
    return f"'crm-' || {action} || '-' || {ref} || '-' || substr(md5(random()::text), 1, 10)"


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
    INSERT INTO outbox (message_id, conversation_id, action, lane, payload, txn_id)
    SELECT id, conversation_id, $8, CASE WHEN $8 = 'email' THEN 'email' ELSE 'matrix' END,
           $9::jsonb, {txn_id_sql("$8::text", "id")} FROM msg
    RETURNING id
), conv AS (
    UPDATE conversations c
       SET last_message_at = greatest(c.last_message_at, msg.created_at),
           last_message_id = msg.id, last_message_preview = $12, last_message_out = true,
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
    subject: str | None = None


async def create_reply(conn: Conn, reply: Reply) -> tuple[int | None, bool]:
    """Queue a reply; (message id, whether it is new). (None, False): no such conversation.

    A `client_txn_id` already used in the conversation returns that message: a browser that
    retries a request never makes a second message. The reply-to target must be a message of
    the same conversation; its event id is looked up when the reply is sent, since it may be
    one of our own replies still on its way.
    """
    action = "email" if reply.channel == "email" else "send"
    payload: dict[str, Any] = {"reply_to": reply.reply_to}
    if reply.subject:
        payload["subject"] = reply.subject
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
    """A claimed outbox entry and what sending it needs. The message fields are None for an
    entry about a whole conversation (a notification)."""

    id: int
    message_id: int | None
    conversation_id: int
    action: str
    lane: str
    payload: dict[str, Any]
    txn_id: str
    attempts: int
    queued_at: datetime
    room_id: str
    event_id: str | None
    deleted: bool
    kind: str | None
    body: str | None
    reply_to_event_id: str | None
    media_url: str | None
    media_mimetype: str | None
    media_size: int | None
    media_filename: str | None
    media_width: int | None
    media_height: int | None
    media_duration_ms: int | None


# A lease is free when it ran out, or when the connection that took it is gone (its instance
# crashed or lost the database): then the entry is taken over at once.
LEASE_FREE = """(o.leased_until IS NULL OR o.leased_until < now()
     OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = o.leased_by))"""

# The oldest due entry with no earlier entry of its conversation still pending in its lane: a
# conversation's messages go out in order (a reaction after the reply it is for), and an entry
# another worker holds is skipped, never waited for. Taking it is one statement: the lease is
# committed before anything is sent.
_CLAIM = f"""
WITH next AS (
    SELECT o.id FROM outbox o
     WHERE o.state = 'pending' AND o.next_attempt_at <= now() AND {LEASE_FREE}
       AND NOT EXISTS (SELECT 1 FROM outbox p
                        WHERE p.conversation_id = o.conversation_id AND p.lane = o.lane
                          AND p.state = 'pending' AND p.id < o.id)
     ORDER BY o.next_attempt_at, o.id
     LIMIT 1
       FOR UPDATE OF o SKIP LOCKED
), taken AS (
    UPDATE outbox o SET leased_until = now() + make_interval(secs => $1),
                        leased_by = pg_backend_pid()
      FROM next WHERE o.id = next.id
    RETURNING o.*
)
SELECT o.id, o.message_id, o.conversation_id, o.action, o.lane, o.payload, o.txn_id, o.attempts,
       o.queued_at, c.room_id, m.event_id, (m.deleted_at IS NOT NULL) AS deleted, m.kind, m.body,
       m.media_url, m.media_mimetype, m.media_size, m.media_filename, m.media_width,
       m.media_height, m.media_duration_ms,
       coalesce(m.reply_to_event_id,
                (SELECT r.event_id FROM messages r
                  WHERE r.id = (o.payload ->> 'reply_to')::bigint)) AS reply_to_event_id
  FROM taken o
  JOIN conversations c ON c.id = o.conversation_id
  LEFT JOIN messages m ON m.id = o.message_id
"""


async def claim(conn: Conn, lease: float) -> Entry | None:
    """Lease the next entry to send to this connection, for `lease` seconds at most: keep the
    connection until the result is recorded and the lease released."""
    row = await conn.fetchrow(_CLAIM, lease)
    if row is None:
        return None
    fields = dict(row)
    fields["payload"] = orjson.loads(row["payload"])
    return Entry(**fields)


async def release(conn: Conn, entry: Entry) -> None:
    """Give the entry's lease back (its result is recorded, or a retry is scheduled)."""
    await conn.execute(
        "UPDATE outbox SET leased_until = NULL, leased_by = NULL"
        " WHERE id = $1 AND leased_by = pg_backend_pid()",
        entry.id,
    )


async def depth_by_lane(conn: Conn) -> dict[str, int]:
    """Entries waiting to be sent, per lane (for the metrics)."""
    rows = await conn.fetch(
        "SELECT lane, count(*) AS n FROM outbox WHERE state = 'pending' GROUP BY lane"
    )
    return {r["lane"]: r["n"] for r in rows}


async def next_due(conn: Conn) -> datetime | None:
    """When the earliest pending entry is due (for the worker's timer)."""
    value: datetime | None = await conn.fetchval(
        "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'"
    )
    return value


_SENT = f"""
WITH old AS (
    SELECT id, status, event_id, reply_to_event_id FROM messages WHERE id = $1 FOR UPDATE
)
UPDATE messages m
   SET event_id = $2,
       error = CASE WHEN old.event_id IS NULL THEN NULL ELSE m.error END,
       status = CASE WHEN old.event_id IS NULL
                     THEN {delivery.sql("old.status", "'accepted'")} ELSE old.status END,
       reply_to_event_id = coalesce(old.reply_to_event_id, $3)
  FROM old
 WHERE m.id = old.id AND (old.event_id IS NULL OR old.event_id = $2)
RETURNING (old.event_id IS NULL
           OR old.reply_to_event_id IS DISTINCT FROM m.reply_to_event_id) AS changed
"""


async def mark_sent(conn: Conn, entry: Entry, event_id: str) -> bool:
    """The homeserver accepted the message; True if the message changed.

    The event may have come back in a transaction first (then its id is already stored, and
    its status was decided then, also if the bridge failed it since): the status follows the
    `accepted` signal only while the message has no event id (or this one). Its quoted
    message's event id is recorded either way (the echo may have had none to give).
    """
    await conn.execute(
        "UPDATE outbox SET state = 'done', attempts = attempts + 1, last_error = NULL,"
        " updated_at = now() WHERE id = $1",
        entry.id,
    )
    row = await conn.fetchrow(_SENT, entry.message_id, event_id, entry.reply_to_event_id)
    return row is not None and bool(row["changed"])


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
    """Give up on the entry (its outcome for the inbox is the caller's: see the worker)."""
    await conn.execute(
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = $2,"
        " updated_at = now() WHERE id = $1",
        entry.id,
        error[:1000],
    )


_GIVE_UP = f"""
UPDATE messages SET status = {delivery.sql("status", "'gave_up'")}, error = $2
 WHERE id = $1 AND {delivery.sql("status", "'gave_up'")} <> status
"""


async def fail_message(conn: Conn, message_id: int, error: str) -> None:
    """The message shows as failed with the reason, until a manager retries it."""
    await conn.execute(_GIVE_UP, message_id, error[:1000])


_MAILED = f"""
UPDATE messages SET status = {delivery.sql("status", "'accepted'")}, error = NULL
 WHERE id = $1 AND {delivery.sql("status", "'accepted'")} <> status
RETURNING status
"""


async def mark_mailed(conn: Conn, entry: Entry) -> bool:
    """The mail server accepted the e-mail reply; True if the message changed."""
    await mark_done(conn, entry)
    status = await conn.fetchval(_MAILED, entry.message_id)
    return status is not None


_RETRY = f"""
WITH msg AS (
    UPDATE messages SET status = {delivery.sql("status", "'retry'")}, error = NULL,
                        event_id = NULL
     WHERE id = $1 AND direction = 'out' AND deleted_at IS NULL
       AND {delivery.sql("status", "'retry'")} <> status
    RETURNING id
), box AS (
    UPDATE outbox o
       SET state = 'pending', attempts = 0, last_error = NULL, next_attempt_at = now(),
           queued_at = now(), updated_at = now(),
           txn_id = {txn_id_sql("o.action", "o.message_id")}
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
        "SELECT m.id, m.conversation_id, m.direction, m.status, m.deleted_at,"
        " c.assignee_id AS conversation_assignee_id"
        " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1",
        message_id,
    )


# --- reactions, edits and deletions by managers ---------------------------------------------

_ENQUEUE = f"""
WITH box AS (
    INSERT INTO outbox (message_id, conversation_id, action, lane, payload, txn_id)
    VALUES ($1::bigint, $2::bigint, $3::text, $4::text, $5::jsonb,
            {txn_id_sql("$3::text", "coalesce($1::bigint, $2::bigint)::text")})
    RETURNING id
)
SELECT id, pg_notify('{OUTBOX_CHANNEL}', '') FROM box
"""


async def enqueue(
    conn: Conn,
    message_id: int | None,
    conversation_id: int,
    action: str,
    payload: dict[str, Any],
    lane: str = "matrix",
) -> int:
    """Queue one entry in the caller's transaction; the worker is woken when it commits."""
    entry_id: int = await conn.fetchval(
        _ENQUEUE, message_id, conversation_id, action, lane, orjson.dumps(payload).decode()
    )
    return entry_id


# The contact's newest message that reached the room (the receipt covers everything before it).
_NEWEST_FROM_CONTACT = """
SELECT id FROM messages
 WHERE conversation_id = $1 AND direction = 'in' AND event_id IS NOT NULL
 ORDER BY created_at DESC, id DESC
 LIMIT 1
"""


async def queue_read_receipt(conn: Conn, conversation_id: int) -> int | None:
    """Queue a read receipt up to the contact's newest message, in the caller's transaction;
    the entry's id, or None when the contact has written nothing that reached the room."""
    message_id = await conn.fetchval(_NEWEST_FROM_CONTACT, conversation_id)
    if message_id is None:
        return None
    return await enqueue(conn, message_id, conversation_id, "read", {})


async def lock_message(conn: Conn, message_id: int) -> asyncpg.Record | None:
    """The message a manager acts on, locked until the action is recorded: two managers acting
    on one message at once are applied one after the other."""
    return await conn.fetchrow(
        """
        SELECT m.id, m.conversation_id, m.direction, m.channel, m.kind, m.body, m.html,
               m.event_id, m.status, m.deleted_at, m.sender_manager_id,
               (SELECT c.assignee_id FROM conversations c WHERE c.id = m.conversation_id)
                   AS conversation_assignee_id
          FROM messages m WHERE m.id = $1 FOR UPDATE OF m
        """,
        message_id,
    )


async def add_reaction(
    conn: Conn, message: asyncpg.Record, sender_mxid: str, manager_id: int, key: str
) -> bool:
    """React as the CRM's user; False if that reaction is there already (the Matrix user is
    the whole team's, and a user reacts with a key once)."""
    exists = await conn.fetchval(
        "SELECT 1 FROM reactions WHERE message_id = $1 AND sender_mxid = $2 AND key = $3"
        " AND deleted_at IS NULL",
        message["id"],
        sender_mxid,
        key,
    )
    if exists:
        return False
    reaction_id = await conn.fetchval(
        "INSERT INTO reactions (message_id, sender_mxid, sender_manager_id, key, created_at)"
        " VALUES ($1, $2, $3, $4, now()) RETURNING id",
        message["id"],
        sender_mxid,
        manager_id,
        key,
    )
    await enqueue(conn, message["id"], message["conversation_id"], "react",
                  {"reaction_id": reaction_id})  # fmt: skip
    return True


async def remove_reaction(conn: Conn, message: asyncpg.Record, sender_mxid: str, key: str) -> bool:
    """Take the CRM user's reaction back; False if there is none with that key."""
    rows = await conn.fetch(
        "UPDATE reactions SET deleted_at = now() WHERE message_id = $1 AND sender_mxid = $2"
        " AND key = $3 AND deleted_at IS NULL RETURNING id",
        message["id"],
        sender_mxid,
        key,
    )
    for row in rows:
        await enqueue(conn, message["id"], message["conversation_id"], "unreact",
                      {"reaction_id": row["id"]})  # fmt: skip
    return bool(rows)


async def reaction(conn: Conn, reaction_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, key, event_id, deleted_at FROM reactions WHERE id = $1", reaction_id
    )


async def set_reaction_event(conn: Conn, reaction_id: int, event_id: str) -> None:
    """The homeserver has the reaction (its echo may have recorded the id already)."""
    await conn.execute(
        "UPDATE reactions SET event_id = $2 WHERE id = $1 AND event_id IS NULL",
        reaction_id,
        event_id,
    )


async def drop_reaction(conn: Conn, reaction_id: int) -> None:
    """A reaction that could not be sent is not shown as if it had been."""
    await conn.execute(
        "UPDATE reactions SET deleted_at = coalesce(deleted_at, now()) WHERE id = $1",
        reaction_id,
    )


_PREVIEW_IF_LAST = """
UPDATE conversations SET last_message_preview = $2, updated_at = now()
 WHERE id = $1 AND last_message_id = $3
RETURNING id
"""


async def edit_message(
    conn: Conn, message: asyncpg.Record, body: str, preview: str, send: bool
) -> bool:
    """Replace the text, keeping the earlier version; queue the edit if the message is in the
    room (or on its way there). True if the conversation's preview changed."""
    edit_id = await conn.fetchval(
        "INSERT INTO message_edits (message_id, body, html, edited_at)"
        " VALUES ($1, $2, $3, now()) RETURNING id",
        message["id"],
        message["body"],
        message["html"],
    )
    await conn.execute(
        "UPDATE messages SET body = $2, html = NULL, edited_at = now() WHERE id = $1",
        message["id"],
        body,
    )
    if send:
        await enqueue(conn, message["id"], message["conversation_id"], "edit",
                      {"edit_id": edit_id, "body": body})  # fmt: skip
    changed = await conn.fetchval(
        _PREVIEW_IF_LAST, message["conversation_id"], preview, message["id"]
    )
    return changed is not None


async def delete_message(conn: Conn, message: asyncpg.Record, send: bool) -> bool:
    """Mark the message deleted and queue its redaction if it is in the room (or on its way:
    the worker then drops the send instead). True if the conversation's preview changed."""
    await conn.execute("UPDATE messages SET deleted_at = now() WHERE id = $1", message["id"])
    if send:
        await enqueue(conn, message["id"], message["conversation_id"], "redact", {})
    changed = await conn.fetchval(
        _PREVIEW_IF_LAST, message["conversation_id"], "Message deleted", message["id"]
    )
    return changed is not None


async def spooled_files(conn: Conn, message_id: int) -> list[str]:
    """The spooled attachment of a reply that will not be sent (anymore)."""
    rows = await conn.fetch(
        "SELECT payload ->> 'file' AS file FROM outbox WHERE message_id = $1 AND"
        " action IN ('send', 'email') AND state <> 'pending' AND payload ? 'file'",
        message_id,
    )
    return [r["file"] for r in rows]


async def set_edit_event(conn: Conn, edit_id: int, event_id: str) -> None:
    await conn.execute(
        "UPDATE message_edits SET event_id = $2 WHERE id = $1 AND event_id IS NULL",
        edit_id,
        event_id,
    )


async def note_error(conn: Conn, message_id: int, error: str) -> None:
    """An edit or deletion that did not reach the room: the message says so."""
    await conn.execute("UPDATE messages SET error = $2 WHERE id = $1", message_id, error[:1000])
