"""A contact's orders: what managers record of what a customer bought."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from .database import Conn, set_clause

_ORDER = "id, contact_id, number, status, total, currency, items, created_at, updated_at"


async def order_contact(conn: Conn, order_id: int) -> int | None:
    found: int | None = await conn.fetchval(
        "SELECT contact_id FROM orders WHERE id = $1", order_id
    )
    return found


async def orders(conn: Conn, contact_id: int) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {_ORDER} FROM orders WHERE contact_id = $1 ORDER BY created_at DESC, id DESC",
            contact_id,
        )
    )


async def add_order(
    conn: Conn, contact_id: int, manager_id: int, fields: dict[str, Any]
) -> asyncpg.Record | None:
    """None when the contact already has an order with that number."""
    return await conn.fetchrow(
        f"""
        INSERT INTO orders (contact_id, number, status, total, currency, items, created_by)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
        ON CONFLICT (contact_id, number) DO NOTHING
        RETURNING {_ORDER}
        """,
        contact_id,
        fields["number"],
        fields["status"],
        fields["total"],
        fields["currency"],
        orjson.dumps(fields["items"]).decode(),
        manager_id,
    )


async def update_order(
    conn: Conn, order_id: int, changes: dict[str, Any]
) -> asyncpg.Record | None:
    assert set(changes) <= {"number", "status", "total", "currency", "items"}
    sets, values = set_clause(changes, jsonb=frozenset({"items"}))
    return await conn.fetchrow(
        f"UPDATE orders SET {sets}, updated_at = now() WHERE id = $1 RETURNING {_ORDER}",
        order_id,
        *values,
    )


async def delete_order(conn: Conn, order_id: int) -> bool:
    result: str = await conn.execute("DELETE FROM orders WHERE id = $1", order_id)
    return result.endswith(" 1")
