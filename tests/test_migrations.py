"""Schema migrations on a real PostgreSQL: apply, no-op, and two instances at once."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import sys

import asyncpg

from crm_appservice.store.migrate import apply_migrations, pending

from .conftest import ALL_MIGRATIONS, ConfigFactory

ROOT = Path(__file__).resolve().parent.parent
TABLES = {
    "managers",
    "sessions",
    "contacts",
    "conversations",
    "messages",
    "message_edits",
    "reactions",
    "notes",
    "orders",
    "outbox",
    "as_transactions",
    "raw_events",
    "room_invites",
    "live_events",
}

# (table, leading columns) that the list queries of the inbox rely on.
REQUIRED_INDEXES = [
    ("conversations", ["last_message_at"]),
    ("conversations", ["platform", "is_archived"]),
    ("conversations", ["room_id"]),
    ("conversations", ["assignee_id"]),
    ("conversations", ["status"]),
    ("messages", ["conversation_id", "created_at"]),
    ("messages", ["conversation_id", "direction", "status"]),
    ("messages", ["event_id"]),
    ("messages", ["conversation_id", "client_txn_id"]),
    ("contacts", ["platform", "remote_id"]),
    ("outbox", ["next_attempt_at"]),
    ("raw_events", ["event_id"]),
    ("sessions", ["manager_id"]),
    ("notes", ["conversation_id", "created_at"]),
    ("orders", ["contact_id", "created_at"]),
]


async def _index_columns(conn: asyncpg.Connection) -> list[tuple[str, list[str]]]:
    rows = await conn.fetch(
        """
        SELECT t.relname AS table, array_agg(a.attname ORDER BY k.ord) AS columns
          FROM pg_index i
          JOIN pg_class t ON t.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
          CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         GROUP BY t.relname, i.indexrelid
        """
    )
    return [(r["table"], list(r["columns"])) for r in rows]


async def test_apply_on_empty_database_then_noop(empty_db: str) -> None:
    assert pending(empty_db) == ALL_MIGRATIONS
    applied = await asyncio.to_thread(apply_migrations, empty_db)
    assert applied == ALL_MIGRATIONS
    assert pending(empty_db) == []
    assert await asyncio.to_thread(apply_migrations, empty_db) == []

    conn = await asyncpg.connect(empty_db)
    try:
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
        assert tables >= TABLES
        indexes = await _index_columns(conn)
        for table, columns in REQUIRED_INDEXES:
            assert any(t == table and cols[: len(columns)] == columns for t, cols in indexes), (
                f"no index on {table}({', '.join(columns)})"
            )
    finally:
        await conn.close()


async def test_two_instances_apply_migrations_once(
    empty_db: str, make_config: ConfigFactory, workdir: str
) -> None:
    config_path = make_config({"database.url": empty_db})
    env = dict(os.environ, PYTHONUNBUFFERED="1")

    async def migrate() -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "crm_appservice",
            "migrate",
            "-c",
            config_path,
            cwd=workdir,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    results = await asyncio.gather(*(migrate() for _ in range(3)))
    assert [code for code, _ in results] == [0, 0, 0], results
    outputs = [out for _, out in results]
    assert (
        sum(
            f"Applied {len(ALL_MIGRATIONS)} migration(s): {', '.join(ALL_MIGRATIONS)}" in out
            for out in outputs
        )
        == 1
    )
    assert sum("The database is up to date." in out for out in outputs) == 2

    conn = await asyncpg.connect(empty_db)
    try:
        assert await conn.fetchval("SELECT count(*) FROM _yoyo_migration") == len(ALL_MIGRATIONS)
        assert await conn.fetchval("SELECT count(*) FROM yoyo_lock") == 0
    finally:
        await conn.close()


async def test_schema_constraints_reject_bad_rows(pool: asyncpg.Pool) -> None:
    conv = await pool.fetchval(
        "INSERT INTO conversations (room_id, platform) VALUES ('!a', 'whatsapp') RETURNING id"
    )
    # An incoming message carries no delivery status; an outgoing one always does.
    for direction, status in (("in", "sent"), ("out", None)):
        try:
            await pool.execute(
                "INSERT INTO messages (conversation_id, direction, kind, status, created_at)"
                " VALUES ($1, $2, 'text', $3, now())",
                conv,
                direction,
                status,
            )
        except asyncpg.CheckViolationError:
            continue
        raise AssertionError(f"accepted direction={direction} status={status}")
    # client_txn_id is unique per conversation.
    insert = (
        "INSERT INTO messages (conversation_id, direction, kind, status, client_txn_id,"
        " created_at) VALUES ($1, 'out', 'text', 'pending', 'tx1', now())"
    )
    await pool.execute(insert, conv)
    try:
        await pool.execute(insert, conv)
    except asyncpg.UniqueViolationError:
        pass
    else:
        raise AssertionError("duplicate client_txn_id accepted")


async def test_previews_written_in_english_get_the_messages_words_again(
    pool: asyncpg.Pool,
) -> None:
    """0016: a preview stored as a label ("📷 Photo: …", "Message deleted") becomes the last
    message's own words (none for a deleted one, or a photo without a caption)."""
    sql = (ROOT / "migrations" / "0016.previews-as-data.sql").read_text(encoding="utf-8")
    rows = [
        ("image", " The  green\none ", None, "📷 Photo: The green one", "The green one"),
        ("image", None, None, "📷 Photo", None),
        ("text", "gone", "now()", "Message deleted", None),
        ("voice", None, None, "🎤 Voice message 0:04", None),
    ]
    ids = []
    for i, (kind, body, deleted, old, _) in enumerate(rows):
        conv = await pool.fetchval(
            "INSERT INTO conversations (room_id, platform, last_message_preview)"
            " VALUES ($1, 'whatsapp', $2) RETURNING id",
            f"!m{i}",
            old,
        )
        message = await pool.fetchval(
            "INSERT INTO messages (conversation_id, direction, kind, body, created_at,"
            f" deleted_at) VALUES ($1, 'in', $2, $3, now(), {deleted or 'NULL'}) RETURNING id",
            conv,
            kind,
            body,
        )
        await pool.execute(
            "UPDATE conversations SET last_message_id = $2 WHERE id = $1", conv, message
        )
        ids.append(conv)
    await pool.execute(sql)
    got = [
        await pool.fetchval("SELECT last_message_preview FROM conversations WHERE id = $1", i)
        for i in ids
    ]
    assert got == [r[4] for r in rows]
