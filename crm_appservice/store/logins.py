"""The CRM's own logins on the bridges (its WhatsApp numbers): a portal whose receiver is one of
them is the CRM's, invited or not (see migration 0008)."""

from __future__ import annotations

from collections.abc import Iterable

from .database import Conn


async def remember(conn: Conn, platform: str, login_ids: Iterable[str]) -> None:
    """Logins the bridge's provisioning API listed for the CRM's user."""
    await conn.execute(
        "INSERT INTO own_logins (platform, login_id) SELECT $1, unnest($2::text[])"
        " ON CONFLICT DO NOTHING",
        platform,
        sorted(set(login_ids)),
    )
