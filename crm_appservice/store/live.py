"""The live feed (`live_events`): written with each change, read by every instance's hub."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from .database import Conn

CHANNEL = "crm_live"
# How long events stay for clients that reconnect with ?since=.
RETENTION = "1 hour"

_RECORD = f"""
WITH ins AS (
    INSERT INTO live_events (type, ref_id)
    SELECT * FROM unnest($1::text[], $2::bigint[])
    RETURNING seq
)
SELECT max(seq), pg_notify('{CHANNEL}', coalesce(max(seq), 0)::text) FROM ins
"""


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
