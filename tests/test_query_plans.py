"""Every list query of the inbox is served by an index at 100,000 conversations, and every
ingest lookup of earlier rows by an index whatever the tables' size."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
import uuid

import asyncpg
import orjson
import pytest

from crm_appservice.store import (
    contact_list,
    conversations,
    deals,
    drafts,
    history,
    labels,
    messages,
    notes,
    orders,
    search as text_search,
)
from crm_appservice.store.conversations import Filters
from crm_appservice.store.embedded import EmbeddedPostgres

from .conftest import TEMPLATE_DB, drop_database

N = 100_000
# Label 1 on a seventh of the rows, 2 on a five-hundredth, 3 on an eleventh.
LABELS = (
    "array_remove(ARRAY[CASE WHEN i % 7 = 0 THEN 1 END, CASE WHEN i % 500 = 1 THEN 2 END,"
    " CASE WHEN i % 11 = 0 THEN 3 END], NULL)::bigint[]"
)

FILL = f"""
INSERT INTO managers (email, name, role, password_hash)
SELECT 'm' || i || '@example.com', 'M' || i, 'manager', 'x' FROM generate_series(1, 50) i;
INSERT INTO contacts (platform, remote_id, mxid, phone, display_name, email, owner_id,
                      attributes, label_ids)
SELECT 'whatsapp', (4915100000000 + i)::text, '@whatsapp_' || (4915100000000 + i) || ':x',
       '+49' || translate(substr(md5((i * 3)::text), 1, 10), 'abcdef', '012345'),
       initcap(substr(md5(i::text), 1, 7)) || ' ' || initcap(substr(md5((i * 7)::text), 1, 9)),
       CASE WHEN i % 2 = 0 THEN 'c' || i || '@example.com' END,
       CASE WHEN i % 4 = 0 THEN 1 + i % 50 END,
       jsonb_build_object('budget', i % 10000,
                          'tier', (ARRAY['Gold', 'Silver', 'Bronze'])[1 + i % 3])
       || CASE WHEN i % 7 = 0 THEN jsonb_build_object('since', '2026-01-01') ELSE '{{}}' END,
       {LABELS}
  FROM generate_series(1, {N}) i;
INSERT INTO contact_phones (contact_id, phone) SELECT id, phone FROM contacts;
INSERT INTO conversations (room_id, platform, remote_chat_id, kind, title, contact_id, status,
                           assignee_id, is_archived, last_message_at, unread_count, receiver,
                           label_ids, last_message_out)
SELECT '!r' || i, CASE WHEN i % 20 = 0 THEN 'telegram' ELSE 'whatsapp' END, i::text, 'dm',
       'Customer ' || i, i,
       (ARRAY['open', 'open', 'open', 'pending', 'resolved'])[1 + i % 5],
       CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + i % 50 END, i % 10 = 0,
       CASE WHEN i % 1000 = 0 THEN NULL ELSE now() - (i || ' minutes')::interval END,
       CASE WHEN i % 4 = 0 THEN 2 ELSE 0 END,
       (ARRAY['15550000001', '15550000002', '15550000003'])[1 + i % 3], {LABELS}, i % 2 = 0
  FROM generate_series(1, {N}) i;
INSERT INTO messages (conversation_id, event_id, direction, kind, body, status, created_at)
SELECT 1 + (i % {N}), '$e' || i, CASE WHEN i % 3 = 0 THEN 'out' ELSE 'in' END, 'text',
       'message number ' || i || ' about sofas and chairs',
       CASE WHEN i % 3 = 0 THEN 'sent' END, now() - (i || ' seconds')::interval
  FROM generate_series(1, {3 * N}) i;
INSERT INTO conversation_history (conversation_id, change, cause, status, created_at)
SELECT 1 + (i % {N}), 'status', 'system', 'open', now() - (i || ' seconds')::interval
  FROM generate_series(1, {3 * N}) i;
INSERT INTO drafts (manager_id, conversation_id, body)
SELECT 1 + i % 50, i, 'draft ' || i FROM generate_series(1, {N}) i;
-- A deal per customer in the pipeline a team starts with, over its five stages.
INSERT INTO deals (pipeline_id, stage_id, position, title, value, currency, contact_id,
                   owner_id, label_ids)
SELECT s.pipeline_id, s.id, i * 1024, 'Deal ' || i, i % 5000, 'EUR', i,
       CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + i % 50 END, {LABELS}
  FROM generate_series(1, {N}) i
  JOIN deal_stages s ON s.position = 1 + i % 5;
ANALYZE;
"""


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _plans(conn: asyncpg.Connection, run: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    """The plans of every statement `run` issues on `conn`."""
    issued: list[tuple[str, tuple[Any, ...]]] = []

    def log(record: Any) -> None:
        issued.append((record.query, record.args))

    conn.add_query_logger(log)
    try:
        await run()
        await asyncio.sleep(0)  # asyncpg calls loggers soon after a query, not at once
    finally:
        conn.remove_query_logger(log)
    plans = []
    for query, args in issued:
        if not query.lstrip().upper().startswith(("SELECT", "WITH")):
            continue  # BEGIN, SET LOCAL, COMMIT: nothing to plan
        explained = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {query}", *args)
        plans.append((query, list(_nodes(orjson.loads(explained)[0]["Plan"]))))
    return plans


@pytest.fixture(scope="module")
def big_template(pg_server: EmbeddedPostgres) -> Iterator[str]:
    """The full-size tables, filled once for the module: a database each test copies."""
    name = f"plans_{uuid.uuid4().hex[:12]}"

    async def fill() -> None:
        await pg_server.create_database(name, template=TEMPLATE_DB)
        conn = await asyncpg.connect(pg_server.dsn(name))
        try:
            await conn.execute(FILL)
        finally:
            await conn.close()

    asyncio.run(fill())
    yield name
    asyncio.run(drop_database(pg_server, name))


@pytest.fixture
async def big(pg_server: EmbeddedPostgres, big_template: str) -> Any:
    """A copy of the full-size tables (and their statistics), for one test to change."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    await pg_server.create_database(name, template=big_template)
    conn = await asyncpg.connect(pg_server.dsn(name))
    yield conn
    await conn.close()
    await drop_database(pg_server, name)


NAME_4242 = "Fe7ecc4"  # contact 4242's first name: md5("4242")[:7], capitalised
PHONE_4242 = "+49" + "3444932215"  # see FILL: md5 digits of 4242 * 3
FILTERS = [
    conversations.Filters(),
    conversations.Filters(archived=True),
    conversations.Filters(status="pending"),
    conversations.Filters(status="open", assignee=7),
    conversations.Filters(status="open", unassigned=True),
    conversations.Filters(platform="telegram"),
    conversations.Filters(number="15550000002"),
    conversations.Filters(number="15550000002", status="open"),
    conversations.Filters(unread=True),
    conversations.Filters(q=NAME_4242),
    conversations.Filters(q=PHONE_4242[3:10]),  # part of a phone number
    conversations.Filters(q="sofas"),
    conversations.Filters(labels=(1,)),
    conversations.Filters(labels=(2,)),
    conversations.Filters(labels=(2, 3)),
    conversations.Filters(labels=(1, 3), all_labels=True),
    conversations.Filters(status="open", assignee=7, labels=(1,)),
    # What saved views ask: the customer waiting, for long; whose customers they are.
    conversations.Filters(waiting=True),
    conversations.Filters(status="open", waiting=True, labels=(1,)),
    conversations.Filters(assignee=7, waiting_hours=24),
    conversations.Filters(owner=7),
    conversations.Filters(owner=7, waiting=True),
    conversations.Filters(unowned=True, status="open"),
]
BIG_TABLES = {
    "conversations", "contacts", "contact_phones", "messages", "conversation_history", "drafts",
    "contact_attribute_values", "deals",
}  # fmt: skip


def _seq_scans(nodes: list[dict[str, Any]]) -> list[str]:
    return [
        n["Relation Name"]
        for n in nodes
        if n["Node Type"] == "Seq Scan" and n["Relation Name"] in BIG_TABLES
    ]


async def test_list_queries_use_indexes(big: asyncpg.Connection) -> None:
    for filters in FILTERS:

        async def first_and_later_page(filters: Any = filters) -> None:
            rows, _ = await conversations.list_page(big, filters, None, 50)
            if rows:
                last = rows[-1]
                cursor = (last["last_message_at"], last["id"])
                await conversations.list_page(big, filters, cursor, 50)

        for query, nodes in await _plans(big, first_and_later_page):
            assert not _seq_scans(nodes), (filters, query)


# The saved views' counts: the lists' filters, counted.
COUNTED = [
    conversations.Filters(status="open", waiting=True, labels=(1,)),
    conversations.Filters(assignee=7, waiting_hours=24),
    conversations.Filters(owner=7, waiting=True),
    conversations.Filters(labels=(2,)),
    conversations.Filters(status="open", unassigned=True, waiting=True),
]


async def test_view_counts_use_indexes(big: asyncpg.Connection) -> None:
    for filters in COUNTED:
        for query, nodes in await _plans(big, lambda f=filters: conversations.count(big, f)):
            assert not _seq_scans(nodes), (filters, query)


# (filters, whether they keep few deals): a board's count over most of a pipeline's deals
# reads them all whatever the plan (a seq scan of 100,000 deals is what PostgreSQL picks, and it
# is measured by bench.web); a narrow one must come from an index.
BOARDS = [
    (deals.BoardFilters(), False),
    (deals.BoardFilters(owner=7), True),
    (deals.BoardFilters(unowned=True), False),
    (deals.BoardFilters(labels=(2,)), True),
    (deals.BoardFilters(labels=(1, 3), all_labels=True, owner=7), True),
    (deals.BoardFilters(visible_to=7), False),
]


async def test_boards_use_indexes(big: asyncpg.Connection) -> None:
    """A board's counts and totals, its columns' first and later pages, and a contact's deals
    at 100,000 deals (20,000 a stage)."""
    stages = [r["id"] for r in await big.fetch("SELECT id FROM deal_stages ORDER BY position")]
    for filters, narrow in BOARDS:
        if narrow:
            counted = await _plans(big, lambda f=filters: deals.columns(big, stages, f))
            for query, nodes in counted:
                assert not _seq_scans(nodes), (filters, query)

        async def pages(filters: deals.BoardFilters = filters) -> None:
            await deals.first_cards(big, stages, filters, 31)
            rows = await deals.column(big, stages[0], filters, None, 31)
            if rows:
                after = (rows[-1]["position"], rows[-1]["id"])
                await deals.column(big, stages[0], filters, after, 51)
            await deals.of_contact(big, 4242, filters.visible_to, open_only=True)

        for query, nodes in await _plans(big, pages):
            assert not _seq_scans(nodes), (filters, query)


CONTACT_FILTERS = [
    contact_list.Filters(),
    contact_list.Filters(sort="newest"),
    contact_list.Filters(q=NAME_4242),
    contact_list.Filters(q=NAME_4242, sort="newest"),
    contact_list.Filters(q=PHONE_4242[3:10]),
    contact_list.Filters(q="+49 " + PHONE_4242[3:6] + " " + PHONE_4242[6:10]),
    contact_list.Filters(q="c4242@example"),
    contact_list.Filters(q="e"),  # matches nearly everyone: walked in order
    contact_list.Filters(owner=7),
    contact_list.Filters(owner=7, sort="newest"),
    contact_list.Filters(unowned=True),
    contact_list.Filters(number="15550000002"),
    contact_list.Filters(visible_to=7),
    # A few contacts (an index range of contact_attribute_values), and nearly all (the list
    # walked in order, each contact's value looked up by its key).
    contact_list.Filters(
        attributes=(contact_list.AttributeFilter("budget", ">=", Decimal(9995)),)
    ),
    contact_list.Filters(
        attributes=(contact_list.AttributeFilter("budget", "<=", Decimal(9000)),)
    ),
    contact_list.Filters(
        sort="newest", attributes=(contact_list.AttributeFilter("tier", "=", txt="Gold"),)
    ),
    contact_list.Filters(attributes=(contact_list.AttributeFilter("since", "has"),)),
    contact_list.Filters(labels=(1,)),
    contact_list.Filters(labels=(2,)),
    contact_list.Filters(labels=(1, 3), all_labels=True),
]


async def test_contact_list_queries_use_indexes(big: asyncpg.Connection) -> None:
    """The Contacts page at 100,000 contacts: every sort, search and filter, first and later
    pages, without reading a big table whole."""
    for filters in CONTACT_FILTERS:

        async def first_and_later_page(filters: contact_list.Filters = filters) -> None:
            rows, _ = await contact_list.page(big, filters, None, 50)
            if rows:
                cursor = contact_list.cursor_of(rows[-1], filters.sort)
                await contact_list.page(big, filters, cursor, 50)

        for query, nodes in await _plans(big, first_and_later_page):
            assert not _seq_scans(nodes), (filters, query)
    rows, _ = await contact_list.page(big, contact_list.Filters(q=PHONE_4242[3:10]), None, 50)
    assert 4242 in [r["id"] for r in rows]


async def test_search_finds_by_name_and_phone(big: asyncpg.Connection) -> None:
    for q in (NAME_4242, PHONE_4242[3:10]):
        rows, _ = await conversations.list_page(big, conversations.Filters(q=q), None, 50)
        assert 4242 in [r["id"] for r in rows], q


async def test_bundle_queries_use_indexes(big: asyncpg.Connection) -> None:
    async def bundle() -> None:
        await conversations.get(big, 4242)
        await notes.notes(big, 4242)
        await orders.orders(big, 4242)
        rows, _ = await messages.page(big, 4242, None, 50)
        # The page's changes to the conversation, and the manager's draft.
        await history.between(big, 4242, rows[0]["created_at"], None)
        await history.between(big, 4242, None, rows[0]["created_at"])
        await drafts.get(big, 7, 4242)

    for query, nodes in await _plans(big, bundle):
        assert not _seq_scans(nodes), query


async def test_a_search_pages_matches_cost_a_lookup_per_conversation_at_most(
    big: asyncpg.Connection,
) -> None:
    """The message each conversation was found by: taken from what the search collected, or
    for common words from each conversation's newest messages; never the words' whole entries
    in the full-text index again, and nothing at all for conversations found by name."""
    lookups = (text_search.MATCHED, text_search.NEWEST_MATCH)
    for q, found_by_text in (("sofas", True), (NAME_4242, False)):

        async def search(q: str = q, found_by_text: bool = found_by_text) -> None:
            (rows, _), found = await conversations.search_page(big, Filters(q=q), None, 50)
            assert rows
            assert set(found) == ({r["id"] for r in rows} if found_by_text else set())

        plans = await _plans(big, search)
        matched = [nodes for query, nodes in plans if query in lookups]
        assert len(matched) == (1 if found_by_text else 0), q
        for query, nodes in plans:
            assert not _seq_scans(nodes), query
        for nodes in matched:
            assert "messages_body_fts_idx" not in {n.get("Index Name") for n in nodes}


async def test_snoozed_conversations_are_found_by_index(big: asyncpg.Connection) -> None:
    await big.execute(
        "UPDATE conversations SET status = 'snoozed', snoozed_until = now() + interval '1 day'"
        " WHERE id % 50 = 0"
    )
    await big.execute("ANALYZE conversations")
    explained = await big.fetchval(f"EXPLAIN (FORMAT JSON) {conversations.WAKE_SNOOZED}")
    assert not _seq_scans(list(_nodes(orjson.loads(explained)[0]["Plan"])))


# A CRM some weeks in: tables big enough to be worth an index, small enough that a scan of all
# of them looks cheap to a planner that takes each batch for 100 rows.
MID_FILL = """
INSERT INTO conversations (room_id, platform, remote_chat_id, kind, title, last_message_at)
SELECT '!m' || i, 'whatsapp', i::text, 'dm', 'Customer ' || i, now()
  FROM generate_series(1, 500) i;
INSERT INTO messages (conversation_id, event_id, direction, kind, body, status, created_at)
SELECT 1 + i % 500, '$m' || i, CASE WHEN i % 5 = 0 THEN 'out' ELSE 'in' END, 'text',
       'message ' || i, CASE WHEN i % 5 = 0 THEN 'sent' END, now() - (i || ' seconds')::interval
  FROM generate_series(1, 20000) i;
INSERT INTO reactions (message_id, event_id, sender_mxid, key, created_at)
SELECT i, '$r' || i, '@whatsapp_1:x', '+', now() FROM generate_series(1, 12000) i;
INSERT INTO message_edits (message_id, event_id, body, edited_at)
SELECT i, '$d' || i, 'before', now() FROM generate_series(1, 12000) i;
ANALYZE;
"""
GHOST = "@whatsapp_1:x"


def _batches() -> list[tuple[str, list[str]]]:
    """Each ingest statement that looks up earlier rows, with a typical small batch."""
    from crm_appservice.store import ingest, relations, statuses

    def rows(*records: dict[str, Any]) -> str:
        return orjson.dumps(list(records)).decode()

    ts = 1_800_000_000_000
    by = {"sender": GHOST, "crm_id": None, "ts": ts}
    text = {"kind": "text", "body": "hi", "html": None, "preview": "hi", "reply_to": None}
    new_messages = [
        {**by, **text, "event_id": f"$new{i}", "room_id": "!m7", "from_crm": False}
        for i in range(5)
    ]
    edit = {**by, "event_id": "$e1", "target": "$m10", "body": "b", "html": None, "preview": "b"}
    reaction = {**by, "event_id": "$x1", "target": "$m11", "key": "+"}
    redaction = {**by, "event_id": "$y1", "room_id": "!m12", "redacts": "$r12"}
    status = {"target": "$m15", "status": "delivered", "error": None}
    receipt = {"room_id": "!m16", "event_id": "$m15", "user_id": GHOST}
    return [
        (ingest._MESSAGES, [rows(*new_messages)]),
        (relations.EDITS, [rows(edit)]),
        (relations.REACTIONS, [rows(reaction)]),
        (relations.REDACTIONS, [rows(redaction)]),
        (statuses.STATUSES, [rows(status), rows(receipt)]),
    ]


async def test_ingest_lookups_use_indexes_at_any_table_size(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute(MID_FILL)
        for sql, args in _batches():
            explained = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
            nodes = list(_nodes(orjson.loads(explained)[0]["Plan"]))
            scanned = [
                n["Relation Name"]
                for n in nodes
                if n["Node Type"] == "Seq Scan"
                and n["Relation Name"] in {"messages", "reactions", "message_edits"}
            ]
            assert not scanned, (scanned, sql)
    finally:
        await conn.close()


async def test_label_counts_are_read_from_their_index(big: asyncpg.Connection) -> None:
    """The open conversations per label (every page load asks): from
    conversations_open_labels_idx alone, never the table."""
    for visible_to in (None, 7):
        plans = await _plans(big, lambda v=visible_to: labels.open_counts(big, v))
        [(query, nodes)] = plans
        assert not _seq_scans(nodes), query
        scans = [n for n in nodes if n.get("Relation Name") == "conversations"]
        assert [n["Index Name"] for n in scans] == ["conversations_open_labels_idx"], nodes
    counted = await labels.open_counts(big, None)
    expected = await big.fetchval(
        "SELECT count(*) FROM conversations WHERE 1 = ANY(label_ids) AND status = 'open'"
        " AND NOT is_archived AND merged_into IS NULL"
    )
    assert counted[1] == expected
