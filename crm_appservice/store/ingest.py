"""Writing one appservice transaction: raw events and everything they map to, atomically.

Each kind of record is written by one set-based statement over a JSON array
(`jsonb_to_recordset`), so a transaction costs the same number of round trips whether it holds
one event or a hundred. Every statement is idempotent (unique event ids, `ON CONFLICT`), so the
same event arriving twice changes nothing; the transaction id row makes a whole repeated
transaction a no-op, also across restarts and between instances sharing the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from .. import delivery
from ..ingest.records import Batch
from . import feed, portals, relations, statuses
from .batch import dumps, loads, records
from .database import Conn

INVITES_CHANNEL = "crm_invites"
# Taken by every ingest transaction: shared, or exclusive by one that creates portals (and then
# maps what their rooms received earlier). Without it, a message mapped while its portal is
# being created by a concurrent transaction could find no conversation and be missed by that
# transaction's replay too. Portals are created rarely, so the exclusive mode costs little.
INGEST_LOCK = 0x434D5249  # "CMRI"


@dataclass
class IngestResult:
    """What changed, for live updates: ids of conversations and messages."""

    conversations_created: set[int] = field(default_factory=set)
    conversations_updated: set[int] = field(default_factory=set)
    messages_created: set[int] = field(default_factory=set)
    messages_updated: set[int] = field(default_factory=set)
    rooms_created: set[str] = field(default_factory=set)


_RAW_COLUMNS = """event_id text, room_id text, event_type text, sender text, is_ephemeral boolean,
    source text, idx integer, error text"""
_TXN_AND_RAW = f"""
WITH body AS (
    SELECT $3::jsonb AS b
), txn AS (
    INSERT INTO as_transactions (txn_id, event_count) VALUES ($1, $2)
    ON CONFLICT (txn_id) DO NOTHING
    RETURNING txn_id
), raw AS (
    INSERT INTO raw_events (event_id, room_id, event_type, sender, txn_id, is_ephemeral, content,
                            error)
    SELECT r.event_id, r.room_id, r.event_type, r.sender, txn.txn_id, r.is_ephemeral,
           body.b -> r.source -> r.idx, r.error
      FROM {records("$4", "r", _RAW_COLUMNS)}
     CROSS JOIN txn CROSS JOIN body
    ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM txn),
       CASE WHEN $5 THEN pg_advisory_xact_lock({INGEST_LOCK})::text
            ELSE pg_advisory_xact_lock_shared({INGEST_LOCK})::text END
"""

_RAW_ONLY = f"""
INSERT INTO raw_events (event_id, room_id, event_type, sender, is_ephemeral, content, error)
SELECT r.event_id, r.room_id, r.event_type, r.sender, r.is_ephemeral,
       $1::jsonb -> r.source -> r.idx, r.error
  FROM {records("$2", "r", _RAW_COLUMNS)}
ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING
"""

_MESSAGE_COLUMNS = """event_id text, room_id text, sender text, from_crm boolean, crm_id bigint,
    kind text,
    body text, html text, preview text, media_url text, media_mimetype text, media_size bigint,
    media_width integer, media_height integer, media_duration_ms integer, media_filename text,
    thumbnail_url text, thumbnail_mimetype text, thumbnail_width integer,
    thumbnail_height integer, latitude double precision, longitude double precision,
    reply_to text, ts bigint"""

# Our own replies come back as events carrying their message id (`crm_id`): they complete that
# message (its event id, `sent`) if the outbox has not recorded the send yet, and are never
# inserted as second messages. An id that names no reply of that room's conversation is ignored:
# the event is then stored like any other.
#
# A message is outgoing when the CRM's user sent it, or a ghost of the business's own number:
# the login's phone ghost (its remote id is the receiver), a ghost learnt as one of ours, or in a
# one-to-one chat any ghost that is not the customer's (the bridge adds the login's own ghost,
# phone or LID, to every DM). Such a ghost is then remembered as ours (`own_ghosts`).
_MESSAGES = f"""
WITH m AS (
    SELECT * FROM {records("$1", "x", _MESSAGE_COLUMNS)}
), echo AS (
    UPDATE messages o
       SET event_id = m.event_id, error = NULL, status = {delivery.sql("o.status", "'accepted'")},
           reply_to_event_id = coalesce(o.reply_to_event_id, m.reply_to)
      FROM m
     WHERE m.crm_id IS NOT NULL AND o.id = m.crm_id AND o.direction = 'out'
       AND o.event_id IS NULL
       AND o.conversation_id = (SELECT c.id FROM conversations c WHERE c.room_id = m.room_id)
    RETURNING o.id
), ins AS (
    INSERT INTO messages (conversation_id, event_id, direction, sender_mxid, sender_contact_id,
                          kind, body, html, media_url, media_mimetype, media_size, media_width,
                          media_height, media_duration_ms, media_filename, thumbnail_url,
                          thumbnail_mimetype, thumbnail_width, thumbnail_height, latitude,
                          longitude, reply_to_event_id, status, created_at)
    SELECT c.id, m.event_id, d.direction, m.sender,
           -- the business's own ghost is no contact's voice
           CASE WHEN d.direction = 'in' THEN ct.id END, m.kind, m.body, m.html, m.media_url,
           m.media_mimetype, m.media_size, m.media_width, m.media_height, m.media_duration_ms,
           m.media_filename, m.thumbnail_url, m.thumbnail_mimetype, m.thumbnail_width,
           m.thumbnail_height, m.latitude, m.longitude, m.reply_to,
           CASE WHEN d.direction = 'out' THEN 'sent' END, to_timestamp(m.ts / 1000.0)
      FROM m
      JOIN conversations c ON c.room_id = m.room_id
      LEFT JOIN contacts ct ON ct.mxid = m.sender
     CROSS JOIN LATERAL (
           SELECT CASE WHEN m.from_crm THEN 'out'
                       WHEN ct.remote_id IS NULL THEN 'in'
                       WHEN ct.remote_id = c.receiver THEN 'out'
                       WHEN c.kind = 'dm' AND c.customer_remote_id IS NOT NULL
                            AND ct.remote_id <> c.customer_remote_id
                            AND ct.id IS DISTINCT FROM c.contact_id THEN 'out'
                       WHEN EXISTS (SELECT 1 FROM own_ghosts g WHERE g.mxid = m.sender)
                            THEN 'out'
                       ELSE 'in' END AS direction) d
     WHERE m.crm_id IS NULL
        OR NOT EXISTS (SELECT 1 FROM messages o
                        WHERE o.id = m.crm_id AND o.conversation_id = c.id
                          AND o.direction = 'out')
     ORDER BY m.ts
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id, conversation_id, direction, created_at, event_id, sender_contact_id
), own AS (
    INSERT INTO own_ghosts (mxid, receiver)
    SELECT DISTINCT ON (m.sender) m.sender, c.receiver
      FROM ins JOIN m ON m.event_id = ins.event_id
      JOIN conversations c ON c.id = ins.conversation_id
     WHERE ins.direction = 'out' AND NOT m.from_crm AND c.kind = 'dm'
       AND EXISTS (SELECT 1 FROM contacts ct WHERE ct.mxid = m.sender)
    ON CONFLICT (mxid) DO NOTHING
), newest AS (
    -- Per conversation: its newest new message, and what arrived from the contact.
    SELECT DISTINCT ON (ins.conversation_id)
           ins.conversation_id, ins.id, ins.created_at, ins.direction, m.preview,
           count(*) FILTER (WHERE ins.direction = 'in') OVER w AS n_in,
           min(ins.created_at) FILTER (WHERE ins.direction = 'in') OVER w AS first_in,
           max(ins.created_at) FILTER (WHERE ins.direction = 'in') OVER w AS last_in
      FROM ins JOIN m ON m.event_id = ins.event_id
    WINDOW w AS (PARTITION BY ins.conversation_id)
     ORDER BY ins.conversation_id, ins.created_at DESC, ins.id DESC
), upd AS (
    UPDATE conversations c
       SET last_message_at = greatest(c.last_message_at, n.created_at),
           last_message_id = CASE WHEN n.created_at >= coalesce(c.last_message_at, '-infinity')
                                  THEN n.id ELSE c.last_message_id END,
           last_message_preview = CASE
                                  WHEN n.created_at >= coalesce(c.last_message_at, '-infinity')
                                  THEN n.preview ELSE c.last_message_preview END,
           last_message_out = CASE
                              WHEN n.created_at >= coalesce(c.last_message_at, '-infinity')
                              THEN n.direction = 'out' ELSE c.last_message_out END,
           -- Unread: incoming messages after the last read; usually all of them, and only
           -- backfilled history (older than the last read) needs counting one by one.
           unread_count = c.unread_count + CASE
                WHEN n.n_in = 0 THEN 0
                WHEN c.last_read_at IS NULL OR n.first_in > c.last_read_at THEN n.n_in
                ELSE (SELECT count(*) FROM ins i
                       WHERE i.conversation_id = c.id AND i.direction = 'in'
                         AND i.created_at > c.last_read_at) END,
           status = CASE WHEN n.last_in > coalesce(c.last_message_at, '-infinity')
                          AND c.status IN ('resolved', 'snoozed') THEN 'open' ELSE c.status END,
           snoozed_until = CASE WHEN n.last_in > coalesce(c.last_message_at, '-infinity')
                                 AND c.status IN ('resolved', 'snoozed') THEN NULL
                                ELSE c.snoozed_until END,
           -- A customer writing again brings an archived conversation back into the inbox
           -- (history the bridge backfills does not).
           is_archived = CASE WHEN n.last_in > coalesce(c.last_message_at, '-infinity')
                              THEN false ELSE c.is_archived END,
           updated_at = now()
      FROM newest n
     WHERE c.id = n.conversation_id
    RETURNING c.id
)
SELECT (SELECT coalesce(array_agg(id), '{{}}') FROM ins) AS message_ids,
       (SELECT coalesce(array_agg(id), '{{}}') FROM upd) AS conversation_ids,
       (SELECT coalesce(array_agg(id), '{{}}') FROM echo) AS echo_ids
"""

_INVITES = f"""
WITH ins AS (
    INSERT INTO room_invites AS i (room_id, inviter, accept)
    SELECT room_id, inviter, accept
      FROM {records("$1", "x", "room_id text, inviter text, accept boolean")}
     ORDER BY room_id
    ON CONFLICT (room_id) DO UPDATE
       SET inviter = excluded.inviter, accept = excluded.accept, state = 'pending', attempts = 0,
           last_error = NULL, invited_at = now(), updated_at = now()
    RETURNING 1
)
SELECT pg_notify('{INVITES_CHANNEL}', '') FROM ins LIMIT 1
"""


# Events of a room that arrived before its bridge state made it a conversation (the homeserver
# pushes a ghost's first message before the CRM's user is even in the room).
_EARLIER_EVENTS = """
SELECT content, is_ephemeral FROM raw_events
 WHERE room_id = ANY($1::text[]) AND txn_id IS DISTINCT FROM $2 AND error IS NULL
 ORDER BY id
"""

Replay = Callable[[list[Any], list[Any]], Batch]


async def _one(conn: Conn, sql: str, arg: str) -> asyncpg.Record:
    row = await conn.fetchrow(sql, arg)
    assert row is not None, "the statement always returns one row"
    return row


async def _map(conn: Conn, batch: Batch, result: IngestResult) -> None:
    """Write what the events map to; each statement runs only if it has records."""
    if batch.invites:  # first: an invite makes the room the CRM's
        await conn.execute(_INVITES, dumps(batch.invites.values()))
    if batch.portals:
        states = dumps(batch.portals.values())
        await conn.execute(portals.LEARN_LOGINS, states)
        for row in await conn.fetch(portals.PORTALS, states, batch.name_suffixes):
            if row["created"]:
                result.conversations_created.add(row["id"])
                result.rooms_created.add(row["room_id"])
            else:
                result.conversations_updated.add(row["id"])
    if batch.room_names:
        rows = await conn.fetch(portals.ROOM_NAMES, dumps(batch.room_names.values()))
        result.conversations_updated.update(r["id"] for r in rows)
    if batch.contacts:
        row = await _one(conn, portals.CONTACTS, dumps(batch.contacts.values()))
        result.conversations_updated.update(row["dm_ids"])
        result.conversations_updated.update(row["contact_conversations"])
    if batch.messages:
        row = await _one(conn, _MESSAGES, dumps(batch.messages))
        result.messages_created.update(row["message_ids"])
        result.conversations_updated.update(row["conversation_ids"])
        result.messages_updated.update(row["echo_ids"])
    if batch.edits:
        row = await _one(conn, relations.EDITS, dumps(batch.edits))
        result.messages_updated.update(row["message_ids"])
        result.conversations_updated.update(row["conversation_ids"])
    if batch.reactions:
        rows = await conn.fetch(relations.REACTIONS, dumps(batch.reactions))
        result.messages_updated.update(r["message_id"] for r in rows)
    if batch.redactions:
        row = await _one(conn, relations.REDACTIONS, dumps(batch.redactions))
        result.messages_updated.update(row["message_ids"])
        result.conversations_updated.update(row["conversation_ids"])
    if batch.statuses or batch.receipts:
        rows = await conn.fetch(statuses.STATUSES, dumps(batch.statuses), dumps(batch.receipts))
        result.messages_updated.update(r["id"] for r in rows)


async def _replay_earlier(
    conn: Conn, txn_id: str | None, result: IngestResult, replay: Replay
) -> None:
    """Map what new portals received before they were known, in the same transaction."""
    if not result.rooms_created:
        return
    rows = await conn.fetch(_EARLIER_EVENTS, sorted(result.rooms_created), txn_id)
    if not rows:
        return
    events = [loads(r["content"]) for r in rows if not r["is_ephemeral"]]
    edus = [loads(r["content"]) for r in rows if r["is_ephemeral"]]
    batch = replay(events, edus)
    batch.portals.clear()
    batch.invites.clear()
    await _map(conn, batch, result)


async def _earlier_bridge_state(
    conn: Conn, txn_id: str | None, batch: Batch, replay: Replay
) -> None:
    rooms = sorted(room for room, i in batch.invites.items() if i["accept"])
    if not rooms:
        return
    rows = await conn.fetch(portals.EARLIER_BRIDGE_STATE, rooms, txn_id)
    if rows:
        earlier = replay([loads(r["content"]) for r in rows], [])
        for room_id, portal in earlier.portals.items():
            batch.portals.setdefault(room_id, portal)


async def _map_all(conn: Conn, txn_id: str | None, batch: Batch, replay: Replay) -> IngestResult:
    """Map the batch and what its new portals received earlier, and feed the live updates."""
    result = IngestResult()
    if batch.invites:
        await _earlier_bridge_state(conn, txn_id, batch, replay)
    await _map(conn, batch, result)
    await _replay_earlier(conn, txn_id, result, replay)
    result.conversations_updated -= result.conversations_created
    result.messages_updated -= result.messages_created
    await feed.record(conn, live_events(result))
    return result


def live_events(result: IngestResult) -> list[tuple[str, int]]:
    return [
        *(("conversation.created", i) for i in sorted(result.conversations_created)),
        *(("message.created", i) for i in sorted(result.messages_created)),
        *(("message.updated", i) for i in sorted(result.messages_updated)),
        *(("conversation.updated", i) for i in sorted(result.conversations_updated)),
    ]


async def write_transaction(
    conn: Conn, txn_id: str, body: str, event_count: int, batch: Batch, replay: Replay
) -> IngestResult | None:
    """Store a transaction in one database transaction; None if it was stored before.

    `body` is the transaction's JSON as received, `batch` what it was parsed into, and `replay`
    the parser, for the events that arrived in a room before its bridge state did.
    """
    async with conn.transaction():
        fresh = await conn.fetchval(
            _TXN_AND_RAW,
            txn_id,
            event_count,
            body,
            dumps(batch.raw),
            bool(batch.portals or batch.invites),  # both may create conversations
        )
        if not fresh:
            return None
        return await _map_all(conn, txn_id, batch, replay)


async def write_events(conn: Conn, body: str, batch: Batch, replay: Replay) -> IngestResult:
    """Store events that did not come in a transaction (room state read after a join).

    `body` is a JSON object whose `events` list `batch` was parsed from.
    """
    async with conn.transaction():
        await conn.execute(f"SELECT pg_advisory_xact_lock({INGEST_LOCK})")
        await conn.execute(_RAW_ONLY, body, dumps(batch.raw))
        return await _map_all(conn, None, batch, replay)
