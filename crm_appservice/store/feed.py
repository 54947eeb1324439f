"""The live feed (`live_events`): written with each change, read by every instance's hub."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from .database import Conn
from .sql import compose

CHANNEL = "crm_live"
# Events that are no resource for the browser: they end live connections on every instance
# (live/guard.py). A session ended (logout, a deleted token, a new password, a deactivation);
# a manager's rights changed (a role, a deactivation, a password).
SESSION_ENDED = "session.ended"
RIGHTS_CHANGED = "manager.changed"
# How long events stay for clients that reconnect with ?since=.
RETENTION = "1 hour"

_RECORD = compose(
    """
WITH ins AS (
    INSERT INTO live_events (seq, type, ref_id)
    OVERRIDING SYSTEM VALUE
    SELECT nextval('live_events_seq_seq'), t, r
      FROM unnest($1::text[], $2::bigint[]) AS u(t, r)
     -- The transaction has its id before it takes a seq: a reader that sees the seq missing
     -- then finds the transaction among those in progress (see `in_progress`).
     WHERE pg_current_xact_id() IS NOT NULL
    RETURNING seq
)
SELECT max(seq), pg_notify('{channel}', coalesce(max(seq), 0)::text) FROM ins
""",
    channel=CHANNEL,
)


async def record(conn: Conn, events: Iterable[tuple[str, int]]) -> int | None:
    """Add events in the caller's transaction; the NOTIFY is delivered when it commits."""
    pairs = list(events)
    if not pairs:
        return None
    seq: int | None = await conn.fetchval(_RECORD, [t for t, _ in pairs], [i for _, i in pairs])
    return seq


async def after(conn: Conn, seq: int, limit: int = 1000) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT seq, type, ref_id FROM live_events WHERE seq > $1 ORDER BY seq LIMIT $2",
            seq,
            limit,
        )
    )


async def bounds(conn: Conn) -> tuple[int, int]:
    """(oldest seq kept, newest seq); (1, 0) when there is none."""
    row = await conn.fetchrow("SELECT min(seq), max(seq) FROM live_events")
    if row is None or row[0] is None:
        last = await conn.fetchval(
            "SELECT coalesce(last_value, 0) FROM pg_sequences"
            " WHERE sequencename = 'live_events_seq_seq'"
        )
        return int(last or 0) + 1, int(last or 0)
    return int(row[0]), int(row[1])


async def prune(conn: Conn) -> None:
    await conn.execute(
        f"DELETE FROM live_events WHERE created_at < now() - '{RETENTION}'::interval"
    )


async def in_progress(conn: Conn) -> list[int]:
    """The ids of the transactions in progress now (that have written anything)."""
    rows = await conn.fetch("SELECT pg_snapshot_xip(pg_current_snapshot())::text::bigint AS x")
    return [int(r["x"]) for r in rows]


async def all_finished(conn: Conn, xids: list[int]) -> bool:
    """Whether every one of these transactions has committed or rolled back."""
    if not xids:
        return True
    finished: bool = await conn.fetchval(
        "SELECT coalesce(bool_and(pg_xact_status(x::text::xid8) <> 'in progress'), true)"
        " FROM unnest($1::bigint[]) AS x",
        xids,
    )
    return finished
