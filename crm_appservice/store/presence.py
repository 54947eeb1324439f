"""Which managers are online. Kept in the database because a manager's browser may be connected
to any instance: each instance extends `online_until` of the managers it holds a live
connection of, and a manager whose `online_until` has passed is offline (store/mail.py's
notifications go to those)."""

from __future__ import annotations

from .database import Conn


async def mark_online(conn: Conn, manager_ids: list[int], seconds: float) -> None:
    await conn.execute(
        "UPDATE managers SET online_until = now() + make_interval(secs => $2)"
        " WHERE id = ANY($1::bigint[])",
        manager_ids,
        seconds,
    )
