"""Failed logins, counted per key in the database: every instance shares one count.

An attempt is counted as a failure before its password is checked (the check takes a while, on
a thread), under a lock on its keys: concurrent guesses queue behind each other instead of all
passing a count that none has raised yet. A right password takes its reservation back.
"""

from __future__ import annotations

from datetime import timedelta
import math

from .database import Conn


async def reserve(conn: Conn, limits: dict[str, int], window: timedelta) -> tuple[int, list[int]]:
    """Count an attempt against each key in `limits` (key → most failures in `window`).
    Returns (0, the reservations) when every key is below its limit, else (seconds until the
    first key at its limit is free again, [])."""
    keys = sorted(limits)
    async with conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 7716)) FROM unnest($1::text[]) k"
            " ORDER BY k",
            keys,
        )
        await conn.execute("DELETE FROM login_failures WHERE at <= now() - $1::interval", window)
        rows = await conn.fetch(
            "SELECT key, count(*) AS n, extract(epoch FROM min(at) + $2::interval - now()) AS w"
            " FROM login_failures WHERE key = ANY($1::text[]) GROUP BY key",
            keys,
            window,
        )
        waits = [float(r["w"]) for r in rows if r["n"] >= limits[r["key"]]]
        if waits:
            return max(1, math.ceil(max(waits))), []
        ids = await conn.fetch(
            "INSERT INTO login_failures (key) SELECT unnest($1::text[]) RETURNING id", keys
        )
    return 0, [r["id"] for r in ids]


async def succeeded(conn: Conn, reserved: list[int], forget: list[str]) -> None:
    """A right password: its reservations are taken back, and the failures of `forget`."""
    await conn.execute(
        "DELETE FROM login_failures WHERE id = ANY($1::bigint[]) OR key = ANY($2::text[])",
        reserved,
        forget,
    )
