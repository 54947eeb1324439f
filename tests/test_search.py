"""Searching message text: words too common to collect are found by walking the list, and the
walk gives way to collecting when the words seldom meet in one conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from crm_appservice.store import conversations, search
from crm_appservice.store.conversations import Filters, list_page

N = 300  # more than one walk's budget
PER_CONVERSATION = 10

# Even conversations talk about sofas, odd ones about chairs; every tenth is pending.
FILL = f"""
INSERT INTO conversations (room_id, platform, remote_chat_id, kind, title, status,
                           last_message_at)
SELECT '!s' || i, 'whatsapp', i::text, 'dm', 'Customer ' || i,
       CASE WHEN i % 10 = 0 THEN 'pending' ELSE 'open' END,
       now() - (i || ' minutes')::interval
  FROM generate_series(1, {N}) i;
INSERT INTO messages (conversation_id, event_id, direction, kind, body, created_at)
SELECT c.id, '$s' || c.id || '_' || k, 'in', 'text',
       'question ' || k || ' about ' || CASE WHEN c.id % 2 = 0 THEN 'sofas' ELSE 'chairs' END,
       now() - (c.id || ' minutes')::interval - (k || ' seconds')::interval
  FROM conversations c, generate_series(1, {PER_CONVERSATION}) k;
ANALYZE;
"""


@pytest.fixture
async def conn(db_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(db_dsn)
    await conn.execute(FILL)
    yield conn
    await conn.close()


async def _expected(conn: asyncpg.Connection, words: list[str], where: str = "true") -> list[int]:
    """Every conversation with a message holding all `words`, in list order (read directly)."""
    likes = " AND ".join(f"m.body LIKE '%{w}%'" for w in words)
    rows = await conn.fetch(
        f"SELECT c.id FROM conversations c WHERE {where} AND EXISTS"
        f" (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND {likes})"
        " ORDER BY c.last_message_at DESC, c.id DESC"
    )
    return [r["id"] for r in rows]


async def _all_pages(conn: asyncpg.Connection, filters: Filters, limit: int = 50) -> list[int]:
    found: list[int] = []
    cursor: Any = None
    while True:
        rows, more = await list_page(conn, filters, cursor, limit)
        found += [r["id"] for r in rows]
        if not more:
            return found
        cursor = (rows[-1]["last_message_at"], rows[-1]["id"])


async def test_a_common_word_is_walked_and_pages_like_a_collected_search(
    conn: asyncpg.Connection,
) -> None:
    assert await search.is_broad(conn, "sofas")
    issued: list[str] = []

    def log(record: Any) -> None:
        issued.append(record.query)

    conn.add_query_logger(log)
    rows, more = await list_page(conn, Filters(q="sofas"), None, 50)
    conn.remove_query_logger(log)
    expected = await _expected(conn, ["sofas"])
    assert [r["id"] for r in rows] == expected[:50] and more
    # Answered by the walk: the full-text index was never read as a whole.
    assert any(f"LIMIT {conversations.WALK_BUDGET}" in q for q in issued)
    assert not any("FROM messages WHERE to_tsvector" in q for q in issued)
    assert await _all_pages(conn, Filters(q="sofas")) == expected
    assert len(expected) == N // 2


async def test_a_short_filtered_list_is_walked_to_its_end(conn: asyncpg.Connection) -> None:
    filters = Filters(q="sofa", status="pending")
    assert await _all_pages(conn, filters, limit=7) == await _expected(
        conn, ["sofa"], "c.status = 'pending'"
    )


async def test_common_words_that_never_meet_fall_back_to_collecting(
    conn: asyncpg.Connection,
) -> None:
    # Each word is in half of the messages, so together they look common; they never meet.
    assert await search.is_broad(conn, "sofas chairs")
    assert await list_page(conn, Filters(q="sofas chairs"), None, 50) == ([], False)
    # Words that meet in some conversations only: the walk's window is too thin for a page.
    await conn.execute(
        "UPDATE messages SET body = body || ' and chairs' WHERE conversation_id IN (296, 298)"
    )
    assert await _all_pages(conn, Filters(q="sofas chairs")) == [296, 298]
