"""Managers' actions on messages, each written with its outbox entry in the same database
transaction: replies, reactions, edits, deletions, read receipts, and the retry of a failed
reply. Once the API has answered, the action can no longer be lost: the change shows at once
and its entry sends it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from .. import delivery
from .database import Conn
from .outbox import OUTBOX_CHANNEL, enqueue, txn_id_sql
from .sql import compose

_CREATE_REPLY = compose(
    """
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
           $9::jsonb, {txn_id} FROM msg
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
       (SELECT pg_notify('{channel}', '') FROM box) IS NOT NULL AS queued,
       (SELECT count(*) FROM conv) AS updated
""",
    txn_id=txn_id_sql("$8::text", "id"),
    channel=OUTBOX_CHANNEL,
)

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
    preview: str | None
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


async def sent_before(conn: Conn, conversation_id: int, client_txn_id: str) -> int | None:
    """The message a `client_txn_id` made in the conversation already, if any."""
    row = await conn.fetchrow(_EXISTING, conversation_id, client_txn_id)
    return row["existing"] if row is not None else None


async def reply_target_exists(conn: Conn, conversation_id: int, message_id: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2 AND deleted_at IS NULL",
            message_id,
            conversation_id,
        )
    )


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
    the whole team's, and a user reacts with a key once). WhatsApp shows one reaction of an
    account per message: an earlier one (any manager's, the account is the team's) is taken
    back first, in the chat too, and the lane keeps that order."""
    exists = await conn.fetchval(
        "SELECT 1 FROM reactions WHERE message_id = $1 AND sender_mxid = $2 AND key = $3"
        " AND deleted_at IS NULL",
        message["id"],
        sender_mxid,
        key,
    )
    if exists:
        return False
    await remove_reaction(conn, message, sender_mxid, None)
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


async def remove_reaction(
    conn: Conn, message: asyncpg.Record, sender_mxid: str, key: str | None
) -> bool:
    """Take the CRM user's reaction back (with any key: None); False if there is none."""
    rows = await conn.fetch(
        "UPDATE reactions SET deleted_at = now() WHERE message_id = $1 AND sender_mxid = $2"
        " AND ($3::text IS NULL OR key = $3) AND deleted_at IS NULL RETURNING id",
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
    conn: Conn, message: asyncpg.Record, body: str, preview: str | None, send: bool
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
        _PREVIEW_IF_LAST, message["conversation_id"], None, message["id"]
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


_RETRY = compose(
    """
WITH msg AS (
    UPDATE messages SET status = {retry}, error = NULL,
                        event_id = NULL
     WHERE id = $1 AND direction = 'out' AND deleted_at IS NULL
       AND {retry} <> status
    RETURNING id
), box AS (
    UPDATE outbox o
       SET state = 'pending', attempts = 0, last_error = NULL, next_attempt_at = now(),
           queued_at = now(), updated_at = now(),
           txn_id = {txn_id}
      FROM msg
     WHERE o.message_id = msg.id AND o.action IN ('send', 'email')
    RETURNING o.id
)
SELECT (SELECT id FROM msg) AS message_id,
       (SELECT pg_notify('{channel}', '') FROM box LIMIT 1) IS NOT NULL AS queued
""",
    retry=delivery.sql("status", "'retry'"),
    txn_id=txn_id_sql("o.action", "o.message_id"),
    channel=OUTBOX_CHANNEL,
)


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
