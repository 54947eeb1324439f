"""Writing one appservice transaction: raw events and everything they map to, atomically.

Each kind of record is written by one set-based statement over a JSON array
(`jsonb_to_recordset`), so a transaction costs the same number of round trips whether it holds
one event or a hundred. Every statement is idempotent (unique event ids, `ON CONFLICT`), so the
same event arriving twice changes nothing; the transaction id row makes a whole repeated
transaction a no-op, also across restarts and between instances sharing the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from .. import delivery
from ..ingest.events import Batch
from . import live
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


def _records(param: str, alias: str, columns: str) -> str:
    """The rows of a JSON array parameter, as a FROM item.

    The planner takes any set-returning function to return 100 rows; for the small batches
    (a few edits, reactions or receipts) that makes a hash join over a whole table look cheaper
    than a few index lookups. A LIMIT it cannot evaluate when planning (a sub-select) counts as
    10 rows, in custom and generic plans alike, so the prepared statement keeps one generic
    plan and its lookups stay index lookups.
    """
    return (
        f"(SELECT * FROM jsonb_to_recordset({param}::jsonb) AS _r({columns})"
        f" LIMIT (SELECT jsonb_array_length({param}::jsonb))) AS {alias}"
    )


_RAW_COLUMNS = """event_id text, room_id text, event_type text, sender text, is_ephemeral boolean,
    source text, idx integer, error text"""
_PORTAL_COLUMNS = """room_id text, platform text, remote_chat_id text, kind text,
    channel_name text, bridge_bot text, receiver text, customer_remote_id text, avatar_url text"""
_CONTACT_COLUMNS = "room_id text, mxid text, remote_id text, display_name text, avatar_url text"
_EDIT_COLUMNS = """event_id text, room_id text, target text, sender text, crm_id bigint, body text,
    html text, preview text, ts bigint"""
_REACTION_COLUMNS = """event_id text, room_id text, target text, sender text, crm_id bigint,
    key text, ts bigint"""
_REDACTION_COLUMNS = "event_id text, room_id text, redacts text, sender text, ts bigint"


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
      FROM {_records("$4", "r", _RAW_COLUMNS)}
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
  FROM {_records("$2", "r", _RAW_COLUMNS)}
ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING
"""

# A portal's bridge state, sent again when the chat changes. Only the bridge bot that made the
# conversation may change it: another bridge's bot cannot take over a room. A room becomes a
# conversation only if it is the CRM's: the bridge invited the CRM's user (an accepted invite,
# written before this statement runs), or its receiver is one of the CRM's logins; the receiver
# of a room the CRM was invited to is then one of its logins too.
_PORTALS = f"""
INSERT INTO conversations AS c (room_id, platform, remote_chat_id, kind, channel_name, bridge_bot,
                                receiver, customer_remote_id, avatar_url, room_name, title)
SELECT p.room_id, p.platform, p.remote_chat_id, p.kind, p.channel_name, p.bridge_bot, p.receiver,
       p.customer_remote_id, p.avatar_url, n.name, coalesce(n.name, p.channel_name)
  FROM {_records("$1", "p", _PORTAL_COLUMNS)}
  LEFT JOIN LATERAL (
        SELECT nullif(btrim(r.content -> 'content' ->> 'name'), '') AS name
          FROM raw_events r
         WHERE r.room_id = p.room_id AND r.event_type = 'm.room.name' AND r.error IS NULL
         ORDER BY r.id DESC LIMIT 1) n ON true
 WHERE EXISTS (SELECT 1 FROM conversations e WHERE e.room_id = p.room_id)
    OR EXISTS (SELECT 1 FROM room_invites i WHERE i.room_id = p.room_id AND i.accept)
    OR EXISTS (SELECT 1 FROM own_logins l
                WHERE l.platform = p.platform AND l.login_id = p.receiver)
 ORDER BY p.room_id
ON CONFLICT (room_id) DO UPDATE
   SET platform = excluded.platform, remote_chat_id = excluded.remote_chat_id,
       kind = excluded.kind, channel_name = excluded.channel_name,
       bridge_bot = excluded.bridge_bot, receiver = excluded.receiver,
       customer_remote_id = excluded.customer_remote_id,
       avatar_url = coalesce(excluded.avatar_url, c.avatar_url),
       title = coalesce(c.room_name, excluded.channel_name), updated_at = now()
 WHERE c.bridge_bot IS NULL OR c.bridge_bot = excluded.bridge_bot
RETURNING id, room_id, (xmax = 0) AS created
"""

_LEARN_LOGINS = f"""
INSERT INTO own_logins (platform, login_id)
SELECT DISTINCT p.platform, p.receiver
  FROM {_records("$1", "p", _PORTAL_COLUMNS)}
  JOIN room_invites i ON i.room_id = p.room_id AND i.accept
 WHERE p.receiver IS NOT NULL
ON CONFLICT DO NOTHING
"""

_ROOM_NAMES = f"""
UPDATE conversations c
   SET room_name = n.name, title = coalesce(n.name, c.channel_name), updated_at = now()
  FROM {_records("$1", "n", "room_id text, name text")}
 WHERE c.room_id = n.room_id AND c.room_name IS DISTINCT FROM n.name
RETURNING c.id
"""

_CONTACTS = f"""
WITH src AS (
    SELECT x.*, c.id AS conversation_id, c.platform, c.kind, c.receiver, c.customer_remote_id
      FROM {_records("$1", "x", _CONTACT_COLUMNS)}
      JOIN conversations c ON c.room_id = x.room_id
), up AS (
    INSERT INTO contacts AS ct (platform, remote_id, mxid, phone, display_name, avatar_url)
    SELECT DISTINCT ON (platform, remote_id)
           platform, remote_id, mxid,
           CASE WHEN platform = 'whatsapp' AND remote_id ~ '^[0-9]{{5,15}}$'
                THEN '+' || remote_id END,
           display_name, avatar_url
      FROM src
     ORDER BY platform, remote_id, display_name NULLS LAST
    ON CONFLICT (platform, remote_id) DO UPDATE
       SET display_name = coalesce(excluded.display_name, ct.display_name),
           avatar_url = coalesce(excluded.avatar_url, ct.avatar_url),
           mxid = excluded.mxid, updated_at = now()
     WHERE excluded.display_name IS NOT NULL AND ct.display_name IS DISTINCT FROM
               excluded.display_name
        OR excluded.avatar_url IS NOT NULL AND ct.avatar_url IS DISTINCT FROM excluded.avatar_url
        OR ct.mxid IS DISTINCT FROM excluded.mxid
    RETURNING id, platform, remote_id
), all_contacts AS (
    SELECT id, platform, remote_id FROM up
    UNION
    SELECT ct.id, ct.platform, ct.remote_id
      FROM src JOIN contacts ct ON ct.platform = src.platform AND ct.remote_id = src.remote_id
), dm AS (
    UPDATE conversations c SET contact_id = a.id, updated_at = now()
      FROM src JOIN all_contacts a ON a.platform = src.platform AND a.remote_id = src.remote_id
     WHERE c.id = src.conversation_id AND c.kind = 'dm' AND c.contact_id IS NULL
       AND CASE WHEN src.customer_remote_id IS NOT NULL
                THEN src.remote_id = src.customer_remote_id
                ELSE src.remote_id IS DISTINCT FROM src.receiver END
    RETURNING c.id
)
SELECT (SELECT coalesce(array_agg(id), '{{}}') FROM dm) AS dm_ids,
       (SELECT coalesce(array_agg(DISTINCT c.id), '{{}}')
          FROM up JOIN conversations c ON c.contact_id = up.id) AS contact_conversations
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
    SELECT * FROM {_records("$1", "x", _MESSAGE_COLUMNS)}
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
    SELECT c.id, m.event_id, d.direction, m.sender, ct.id, m.kind, m.body, m.html, m.media_url,
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
     WHERE ins.direction = 'out' AND NOT m.from_crm AND ins.sender_contact_id IS NOT NULL
       AND c.kind = 'dm'
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
           updated_at = now()
      FROM newest n
     WHERE c.id = n.conversation_id
    RETURNING c.id
)
SELECT (SELECT coalesce(array_agg(id), '{{}}') FROM ins) AS message_ids,
       (SELECT coalesce(array_agg(id), '{{}}') FROM upd) AS conversation_ids,
       (SELECT coalesce(array_agg(id), '{{}}') FROM echo) AS echo_ids
"""

# A manager's edit coming back (`crm_id`, the version the API stored) only gets its event id: the
# message shows the new text already.
_EDITS = f"""
WITH e AS (
    SELECT * FROM {_records("$1", "x", _EDIT_COLUMNS)}
), target AS (
    -- An edit applies only to a message of its own room, by the same sender.
    SELECT e.*, m.id AS message_id
      FROM e JOIN messages m ON m.event_id = e.target AND m.sender_mxid = e.sender
      JOIN conversations c ON c.id = m.conversation_id AND c.room_id = e.room_id
), echo AS (
    UPDATE message_edits v SET event_id = e.event_id
      FROM target e
     WHERE e.crm_id IS NOT NULL AND v.id = e.crm_id AND v.message_id = e.message_id
       AND v.event_id IS NULL
    RETURNING v.id
), t AS (
    SELECT DISTINCT ON (m.id)
           m.id, m.conversation_id, m.body, m.html, e.event_id, e.body AS new_body,
           e.html AS new_html, e.preview, to_timestamp(e.ts / 1000.0) AS edited
      FROM target e JOIN messages m ON m.id = e.message_id
     WHERE m.deleted_at IS NULL
       AND (m.edited_at IS NULL OR to_timestamp(e.ts / 1000.0) > m.edited_at)
       AND (e.crm_id IS NULL
            OR NOT EXISTS (SELECT 1 FROM message_edits v
                            WHERE v.id = e.crm_id AND v.message_id = m.id))
     ORDER BY m.id, e.ts DESC
), ver AS (
    INSERT INTO message_edits (message_id, event_id, body, html, edited_at)
    SELECT id, event_id, body, html, edited FROM t
    ON CONFLICT (event_id) DO NOTHING
    RETURNING message_id
), upd AS (
    UPDATE messages m SET body = t.new_body, html = t.new_html, edited_at = t.edited
      FROM t JOIN ver ON ver.message_id = t.id
     WHERE m.id = t.id
    RETURNING m.id
), conv AS (
    UPDATE conversations c SET last_message_preview = t.preview, updated_at = now()
      FROM t JOIN ver ON ver.message_id = t.id
     WHERE c.id = t.conversation_id AND c.last_message_id = t.id
    RETURNING c.id
)
SELECT (SELECT coalesce(array_agg(id), '{{}}') FROM upd) AS message_ids,
       (SELECT coalesce(array_agg(id), '{{}}') FROM conv) AS conversation_ids
"""

# A manager's reaction coming back (`crm_id`, the row the API stored) only gets its event id.
_REACTIONS = f"""
WITH r AS (
    SELECT r.*, m.id AS message_id
      FROM {_records("$1", "r", _REACTION_COLUMNS)}
      JOIN messages m ON m.event_id = r.target
      JOIN conversations c ON c.id = m.conversation_id AND c.room_id = r.room_id
), echo AS (
    UPDATE reactions x SET event_id = r.event_id
      FROM r
     WHERE r.crm_id IS NOT NULL AND x.id = r.crm_id AND x.message_id = r.message_id
       AND x.event_id IS NULL
    RETURNING x.id
)
INSERT INTO reactions (message_id, event_id, sender_mxid, key, created_at)
SELECT r.message_id, r.event_id, r.sender, r.key, to_timestamp(r.ts / 1000.0)
  FROM r
 WHERE r.crm_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM reactions x WHERE x.id = r.crm_id AND x.message_id = r.message_id)
ON CONFLICT (event_id) DO NOTHING
RETURNING message_id
"""

# A redaction applies only within its own room, and only from the event's sender or the room's
# bridge bot.
_REDACTIONS = f"""
WITH r AS (
    SELECT x.*, c.id AS conversation_id, c.bridge_bot
      FROM {_records("$1", "x", _REDACTION_COLUMNS)}
      JOIN conversations c ON c.room_id = x.room_id
), msg AS (
    UPDATE messages m SET deleted_at = to_timestamp(r.ts / 1000.0)
      FROM r
     WHERE m.event_id = r.redacts AND m.deleted_at IS NULL
       AND m.conversation_id = r.conversation_id
       AND (m.sender_mxid = r.sender OR r.sender = r.bridge_bot)
    RETURNING m.id, m.conversation_id
), conv AS (
    UPDATE conversations c SET last_message_preview = 'Message deleted', updated_at = now()
      FROM msg WHERE c.id = msg.conversation_id AND c.last_message_id = msg.id
    RETURNING c.id
), rea AS (
    -- ANY keeps this an index lookup even while the reactions table is small enough for a
    -- scan of all of it to look cheap (most redactions are of messages: none is found here).
    UPDATE reactions x SET deleted_at = to_timestamp(r.ts / 1000.0)
      FROM r
     WHERE x.event_id = ANY (ARRAY(SELECT redacts FROM r)) AND x.event_id = r.redacts
       AND x.deleted_at IS NULL
       AND (x.sender_mxid = r.sender OR r.sender = r.bridge_bot)
       AND EXISTS (SELECT 1 FROM messages t
                    WHERE t.id = x.message_id AND t.conversation_id = r.conversation_id)
    RETURNING x.message_id
)
SELECT (SELECT coalesce(array_agg(id), '{{}}') FROM msg)
       || (SELECT coalesce(array_agg(message_id), '{{}}') FROM rea) AS message_ids,
       (SELECT coalesce(array_agg(id), '{{}}') FROM conv) AS conversation_ids
"""

# Every delivery signal for our messages, applied by one statement with the one rule of
# crm_appservice/delivery.py. The signals arrive out of order (a read receipt can come before
# the bridge's SUCCESS), so each message takes the strongest of this batch's signals: the
# bridge's send status or error notice ($1), the bridge bot's receipt (sent in the same step as
# the first SUCCESS, when WhatsApp's server took the message: bridged, not delivered), and a
# customer's receipt, which marks read everything we sent up to the receipt's event ($2).
_STATUSES = f"""
WITH s AS (
    -- The bridge's send statuses and error notices count only from the room's own bridge bot,
    -- and only for a message of that room.
    SELECT m.id, x.signal, x.error
      FROM {_records("$1", "x", "room_id text, sender text, target text, signal text, error text")}
      JOIN conversations c ON c.room_id = x.room_id AND c.bridge_bot = x.sender
      JOIN messages m ON m.event_id = x.target AND m.conversation_id = c.id
), r AS (
    SELECT r.user_id, c.id AS conversation_id, c.bridge_bot, c.receiver, c.kind, c.contact_id,
           c.customer_remote_id, m.id AS message_id, m.created_at
      FROM {_records("$2", "r", "room_id text, event_id text, user_id text")}
      JOIN conversations c ON c.room_id = r.room_id
      JOIN messages m ON m.event_id = r.event_id AND m.conversation_id = c.id
), read_up_to AS (
    -- Read by the customer: a receipt of a contact's ghost that is none of the business's own
    -- (in a one-to-one chat: the chat's customer).
    SELECT r.conversation_id, max(r.created_at) AS created_at
      FROM r JOIN contacts ct ON ct.mxid = r.user_id
     WHERE r.user_id IS DISTINCT FROM r.bridge_bot AND ct.remote_id IS DISTINCT FROM r.receiver
       AND (r.kind <> 'dm' OR r.customer_remote_id IS NULL OR ct.id = r.contact_id
            OR ct.remote_id = r.customer_remote_id)
       AND NOT EXISTS (SELECT 1 FROM own_ghosts g WHERE g.mxid = r.user_id)
     GROUP BY r.conversation_id
), signals AS (
    SELECT s.id, s.signal, s.error FROM s
    UNION ALL
    SELECT r.message_id, 'bridged', NULL FROM r WHERE r.user_id = r.bridge_bot
    UNION ALL
    SELECT m.id, 'read', NULL
      FROM read_up_to u
      JOIN messages m ON m.conversation_id = u.conversation_id AND m.direction = 'out'
                     AND m.status IN {delivery.sql_in(delivery.moved_by("read"))}
                     AND m.created_at <= u.created_at AND m.event_id IS NOT NULL
), best AS (
    SELECT DISTINCT ON (id) id, signal, error
      FROM signals
     ORDER BY id, {delivery.precedence_sql("signal")}
), next AS (
    SELECT b.id, b.error, {delivery.sql("m.status", "b.signal")} AS status
      FROM best b JOIN messages m ON m.id = b.id AND m.direction = 'out'
)
UPDATE messages m
   SET status = n.status, error = CASE WHEN n.status = 'failed' THEN n.error END
  FROM next n
 WHERE m.id = n.id AND n.status <> m.status
RETURNING m.id
"""

_INVITES = f"""
WITH ins AS (
    INSERT INTO room_invites AS i (room_id, inviter, accept)
    SELECT room_id, inviter, accept
      FROM {_records("$1", "x", "room_id text, inviter text, accept boolean")}
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


def _loads(content: str) -> Any:
    """A stored event, or None (flagged by the parser) if PostgreSQL wrote what orjson cannot
    read (a number beyond a double's range)."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _json(records: Iterable[Any]) -> str:
    return orjson.dumps(list(records)).decode()


async def _one(conn: Conn, sql: str, arg: str) -> asyncpg.Record:
    row = await conn.fetchrow(sql, arg)
    assert row is not None, "the statement always returns one row"
    return row


async def _map(conn: Conn, batch: Batch, result: IngestResult) -> None:
    """Write what the events map to; each statement runs only if it has records."""
    if batch.invites:  # first: an invite makes the room the CRM's
        await conn.execute(_INVITES, _json(batch.invites.values()))
    if batch.portals:
        portals = _json(batch.portals.values())
        await conn.execute(_LEARN_LOGINS, portals)
        for row in await conn.fetch(_PORTALS, portals):
            if row["created"]:
                result.conversations_created.add(row["id"])
                result.rooms_created.add(row["room_id"])
            else:
                result.conversations_updated.add(row["id"])
    if batch.room_names:
        rows = await conn.fetch(_ROOM_NAMES, _json(batch.room_names.values()))
        result.conversations_updated.update(r["id"] for r in rows)
    if batch.contacts:
        row = await _one(conn, _CONTACTS, _json(batch.contacts.values()))
        result.conversations_updated.update(row["dm_ids"])
        result.conversations_updated.update(row["contact_conversations"])
    if batch.messages:
        row = await _one(conn, _MESSAGES, _json(batch.messages))
        result.messages_created.update(row["message_ids"])
        result.conversations_updated.update(row["conversation_ids"])
        result.messages_updated.update(row["echo_ids"])
    if batch.edits:
        row = await _one(conn, _EDITS, _json(batch.edits))
        result.messages_updated.update(row["message_ids"])
        result.conversations_updated.update(row["conversation_ids"])
    if batch.reactions:
        rows = await conn.fetch(_REACTIONS, _json(batch.reactions))
        result.messages_updated.update(r["message_id"] for r in rows)
    if batch.redactions:
        row = await _one(conn, _REDACTIONS, _json(batch.redactions))
        result.messages_updated.update(row["message_ids"])
        result.conversations_updated.update(row["conversation_ids"])
    if batch.statuses or batch.receipts:
        rows = await conn.fetch(_STATUSES, _json(batch.statuses), _json(batch.receipts))
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
    events = [_loads(r["content"]) for r in rows if not r["is_ephemeral"]]
    edus = [_loads(r["content"]) for r in rows if r["is_ephemeral"]]
    batch = replay(events, edus)
    batch.portals.clear()
    batch.invites.clear()
    await _map(conn, batch, result)


# The bridge state a room received before the CRM's user was invited to it (then it was not yet
# the CRM's room): mapped when the invite arrives.
_EARLIER_BRIDGE_STATE = """
SELECT content FROM raw_events r
 WHERE r.room_id = ANY($1::text[]) AND r.event_type IN ('m.bridge', 'uk.half-shot.bridge')
   AND r.error IS NULL AND r.txn_id IS DISTINCT FROM $2
   AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.room_id = r.room_id)
 ORDER BY r.id
"""


async def _earlier_bridge_state(
    conn: Conn, txn_id: str | None, batch: Batch, replay: Replay
) -> None:
    rooms = sorted(room for room, i in batch.invites.items() if i["accept"])
    if not rooms:
        return
    rows = await conn.fetch(_EARLIER_BRIDGE_STATE, rooms, txn_id)
    if rows:
        earlier = replay([_loads(r["content"]) for r in rows], [])
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
    await live.record(conn, live_events(result))
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
            _json(batch.raw),
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
        await conn.execute(_RAW_ONLY, body, _json(batch.raw))
        return await _map_all(conn, None, batch, replay)


# Raw events of rooms that are not the CRM's, once older than the grace period: a batch at a
# time, in id order from where the last sweep stopped (rows are never examined twice), by one
# instance at a time (the sweep row's lock). A room that has an accepted invite is the CRM's
# even before it has its conversation.
_SWEEP = """
WITH mark AS (
    SELECT last_id FROM raw_events_sweep FOR UPDATE SKIP LOCKED
), batch AS (
    SELECT r.id, r.room_id FROM raw_events r, mark
     WHERE r.id > mark.last_id AND r.received_at < now() - make_interval(secs => $1)
     ORDER BY r.id
     LIMIT $2
), gone AS (
    DELETE FROM raw_events r
     USING batch b
     WHERE r.id = b.id AND b.room_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.room_id = b.room_id)
       AND NOT EXISTS (SELECT 1 FROM room_invites i WHERE i.room_id = b.room_id AND i.accept)
    RETURNING 1
), moved AS (
    UPDATE raw_events_sweep SET last_id = (SELECT max(id) FROM batch)
     WHERE EXISTS (SELECT 1 FROM batch)
    RETURNING 1
)
SELECT (SELECT count(*) FROM batch) AS examined, (SELECT count(*) FROM gone) AS deleted
"""


async def sweep_foreign_rooms(conn: Conn, grace: float, batch: int = 5000) -> tuple[int, int]:
    """Delete one batch of other rooms' raw events; (examined, deleted)."""
    row = await conn.fetchrow(_SWEEP, grace, batch)
    assert row is not None
    return int(row["examined"]), int(row["deleted"])
