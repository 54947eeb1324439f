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


async def names(conn: Conn, platform: str) -> dict[str, str | None]:
    """The names admins gave the logins, by login id."""
    rows = await conn.fetch("SELECT login_id, name FROM own_logins WHERE platform = $1", platform)
    return {r["login_id"]: r["name"] for r in rows}


async def rename(conn: Conn, platform: str, login_id: str, name: str | None) -> bool:
    """Name one of the CRM's logins; False if it is none of them. Only the bridge (its invites,
    its logins list) says which logins are the CRM's: a name never makes one."""
    renamed = await conn.fetchval(
        "UPDATE own_logins SET name = $3 WHERE platform = $1 AND login_id = $2 RETURNING true",
        platform,
        login_id,
        name,
    )
    return bool(renamed)


async def conversations_of(conn: Conn, platform: str, login_id: str) -> list[int]:
    """The conversations on a login (receiver_idx), for the live update of a new name."""
    rows = await conn.fetch(
        "SELECT id FROM conversations WHERE receiver = $2 AND platform = $1", platform, login_id
    )
    return [r["id"] for r in rows]
