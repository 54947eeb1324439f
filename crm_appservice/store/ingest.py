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
from . import feed, people, portals, relations, statuses
from .batch import dumps, loads
from .database import Conn
from .sql import compose, records, statement

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
# The transaction's id (a repeated one is a no-op) and its raw events, in one statement: each
# event is its place in the body ($3, the transaction as received), not a copy of it.
_TXN_AND_RAW = compose(
    """
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
      FROM {raw} CROSS JOIN txn CROSS JOIN body
    ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM txn)
""",
    raw=records("$4", "r", _RAW_COLUMNS),
)

_RAW_ONLY = compose(
    """
INSERT INTO raw_events (event_id, room_id, event_type, sender, is_ephemeral, content, error)
SELECT r.event_id, r.room_id, r.event_type, r.sender, r.is_ephemeral,
       $1::jsonb -> r.source -> r.idx, r.error
  FROM {raw}
ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING
""",
    raw=records("$2", "r", _RAW_COLUMNS),
)

_MESSAGE_COLUMNS = """event_id text, room_id text, sender text, from_crm boolean, crm_id bigint,
    kind text,
    body text, html text, preview text, media_url text, media_mimetype text, media_size bigint,
    media_width integer, media_height integer, media_duration_ms integer, media_filename text,
    thumbnail_url text, thumbnail_mimetype text, thumbnail_width integer,
    thumbnail_height integer, latitude double precision, longitude double precision,
    reply_to text, ts bigint"""

_MESSAGES = statement(
    "ingest_messages",
    batch=records("$1", "x", _MESSAGE_COLUMNS),
    accepted=delivery.sql("o.status", "'accepted'"),
)

_INVITES = compose(
    """
WITH ins AS (
    INSERT INTO room_invites AS i (room_id, inviter, accept)
    SELECT room_id, inviter, accept FROM {invites}
     ORDER BY room_id
    ON CONFLICT (room_id) DO UPDATE
       SET inviter = excluded.inviter, accept = excluded.accept, state = 'pending', attempts = 0,
           last_error = NULL, invited_at = now(), updated_at = now()
    RETURNING 1
)
SELECT pg_notify($2, '') FROM ins LIMIT 1
""",
    invites=records("$1", "x", "room_id text, inviter text, accept boolean"),
)


# Events of a room that arrived before its bridge state made it a conversation (the homeserver
# pushes a ghost's first message before the CRM's user is even in the room).
_EARLIER_EVENTS = """
SELECT content, is_ephemeral FROM raw_events
 WHERE room_id = ANY($1::text[]) AND txn_id IS DISTINCT FROM $2 AND error IS NULL
 ORDER BY id
"""

Replay = Callable[[list[Any], list[Any]], Batch]


async def _lock(conn: Conn, exclusive: bool) -> None:
    """Take INGEST_LOCK until the transaction ends."""
    if exclusive:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", INGEST_LOCK)
    else:
        await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", INGEST_LOCK)


async def _one(conn: Conn, sql: str, arg: str) -> asyncpg.Record:
    row = await conn.fetchrow(sql, arg)
    assert row is not None, "the statement always returns one row"
    return row


async def _map(conn: Conn, batch: Batch, result: IngestResult) -> None:
    """Write what the events map to; each statement runs only if it has records."""
    if batch.invites:  # first: an invite makes the room the CRM's
        await conn.execute(_INVITES, dumps(batch.invites.values()), INVITES_CHANNEL)
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
        row = await _one(conn, people.CONTACTS, dumps(batch.contacts.values()))
        result.conversations_updated.update(row["dm_ids"])
        result.conversations_updated.update(row["contact_conversations"])
        if row["new_ghosts"]:  # what the bridge said of them before they spoke
            known = await people.apply_known_phones(conn, list(row["new_ghosts"]))
            result.conversations_updated.update(known)
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
    # Last: what the bridge's state shows to be one person, or one chat. Everything else the
    # transaction holds (the old room's last edits with its tombstone) is in place by then.
    if batch.tombstones:
        await conn.execute(people.TOMBSTONES, dumps(batch.tombstones.values()))
    if rooms := sorted({*batch.portals, *batch.tombstones, *result.rooms_created}):
        result.conversations_updated.update(await people.follow_the_bridge(conn, rooms))


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
        # Bridge state and invites may create conversations.
        await _lock(conn, exclusive=bool(batch.portals or batch.invites))
        fresh = await conn.fetchval(_TXN_AND_RAW, txn_id, event_count, body, dumps(batch.raw))
        if not fresh:
            return None
        return await _map_all(conn, txn_id, batch, replay)


async def write_events(conn: Conn, body: str, batch: Batch, replay: Replay) -> IngestResult:
    """Store events that did not come in a transaction (room state read after a join).

    `body` is a JSON object whose `events` list `batch` was parsed from.
    """
    async with conn.transaction():
        await _lock(conn, exclusive=True)
        await conn.execute(_RAW_ONLY, body, dumps(batch.raw))
        return await _map_all(conn, None, batch, replay)
