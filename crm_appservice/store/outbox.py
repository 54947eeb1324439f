"""The outbox queue: entries queued with the change they send (store/actions.py holds the
managers' actions that queue them, and their retry), claimed by the worker, and their outcome
recorded.

The worker takes an entry with a lease (claimed in one statement, `FOR UPDATE SKIP LOCKED`),
sends it outside any transaction, and records the result in a short one; several instances
never take the same entry, and a crashed instance's entry is free again as soon as its database
connection is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from .. import delivery
from .database import Conn
from .sql import compose

OUTBOX_CHANNEL = "crm_outbox"


def txn_id_sql(action: str, ref: str) -> str:
    """The SQL of a new entry's Matrix transaction id (and Message-ID), from SQL expressions of
    its action and the row it is for: fixed when the entry is queued, so every retry of the
    entry reuses it, and a manual retry gets a new one."""
    return f"'crm-' || {action} || '-' || {ref} || '-' || substr(md5(random()::text), 1, 10)"


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
_CLAIM = compose(
    """
WITH next AS (
    SELECT o.id FROM outbox o
     WHERE o.state = 'pending' AND o.next_attempt_at <= now() AND {lease_free}
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
""",
    lease_free=LEASE_FREE,
)


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


_SENT = compose(
    """
WITH old AS (
    SELECT id, status, event_id, reply_to_event_id FROM messages WHERE id = $1 FOR UPDATE
)
UPDATE messages m
   SET event_id = $2,
       error = CASE WHEN old.event_id IS NULL THEN NULL ELSE m.error END,
       status = CASE WHEN old.event_id IS NULL
                     THEN {accepted} ELSE old.status END,
       reply_to_event_id = coalesce(old.reply_to_event_id, $3)
  FROM old
 WHERE m.id = old.id AND (old.event_id IS NULL OR old.event_id = $2)
RETURNING (old.event_id IS NULL
           OR old.reply_to_event_id IS DISTINCT FROM m.reply_to_event_id) AS changed
""",
    accepted=delivery.sql("old.status", "'accepted'"),
)


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


_GIVE_UP = compose(
    """
UPDATE messages SET status = {gave_up}, error = $2
 WHERE id = $1 AND {gave_up} <> status
""",
    gave_up=delivery.sql("status", "'gave_up'"),
)


async def fail_message(conn: Conn, message_id: int, error: str) -> None:
    """The message shows as failed with the reason, until a manager retries it."""
    await conn.execute(_GIVE_UP, message_id, error[:1000])


_MAILED = compose(
    """
UPDATE messages SET status = {accepted}, error = NULL
 WHERE id = $1 AND {accepted} <> status
RETURNING status
""",
    accepted=delivery.sql("status", "'accepted'"),
)


async def mark_mailed(conn: Conn, entry: Entry) -> bool:
    """The mail server accepted the e-mail reply; True if the message changed."""
    await mark_done(conn, entry)
    status = await conn.fetchval(_MAILED, entry.message_id)
    return status is not None


# --- queuing other entries ---------------------------------------------------------------

_ENQUEUE = compose(
    """
WITH box AS (
    INSERT INTO outbox (message_id, conversation_id, action, lane, payload, txn_id)
    VALUES ($1::bigint, $2::bigint, $3::text, $4::text, $5::jsonb,
            {txn_id})
    RETURNING id
)
SELECT id, pg_notify('{channel}', '') FROM box
""",
    txn_id=txn_id_sql("$3::text", "coalesce($1::bigint, $2::bigint)::text"),
    channel=OUTBOX_CHANNEL,
)


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
