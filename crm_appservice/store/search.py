"""Finding conversations by what their messages say, and their contact's name or phone: the
trigram and full-text indexes read first, so a page is then read by id (see conversations.py),
and the message each conversation was found by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import re

import asyncpg

from .database import Conn
from .sql import compose

WORD = re.compile(r"\w+", re.UNICODE)
SEARCH_CAP = 2_000
SEARCH_WORK_MEM = "32MB"


MAX_WORDS = 8


def words(q: str) -> list[str]:
    """The words a search looks for: the query's letters, digits and underscores in lower case,
    its first MAX_WORDS. A message is found when each begins one of its words; the inbox marks
    those (the list's answer carries them, so the browser never reads the query itself)."""
    return WORD.findall(q.lower())[:MAX_WORDS]


def prefix_query(q: str) -> str | None:
    """A full-text query matching every word of `q` as a word prefix, or None."""
    found = words(q)
    return " & ".join(f"{w}:*" for w in found) if found else None


TS_DOC = "to_tsvector('simple', coalesce(body, ''))"


def terms(q: str) -> tuple[str, str | None]:
    """(ILIKE pattern for names and phones, prefix tsquery for message text or None)."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return pattern, prefix_query(q)


@dataclass(frozen=True)
class Search:
    by_contact: list[int]  # conversations whose contact's name or phone matches
    # Conversations with a matching message, each with its newest one; None: too many to collect.
    hits: dict[int, int] | None
    words: str | None


# The full-text index's statistics: its most common lexemes and the share of messages that
# hold each, and how many messages and conversations there are (estimates, from ANALYZE).
_TEXT_STATS = """
SELECT s.most_common_elems::text::text[] AS lexemes, s.most_common_elem_freqs AS shares,
       (SELECT reltuples FROM pg_class WHERE oid = 'messages'::regclass) AS messages,
       (SELECT reltuples FROM pg_class WHERE oid = 'conversations'::regclass) AS conversations
  FROM pg_stats s
 WHERE s.schemaname = current_schema() AND s.tablename = 'messages_body_fts_idx'
"""


def broad_share(prefixes: list[str], lexemes: list[str], shares: list[float]) -> float:
    """The share of messages estimated to match every prefix (independent words), from the
    most common lexemes; a prefix that starts none of them is rare and makes the search narrow."""
    share = 1.0
    for prefix in prefixes:
        found = sum(f for w, f in zip(lexemes, shares, strict=False) if w.startswith(prefix))
        share *= min(1.0, found)
    return share


async def is_broad(conn: Conn, q: str) -> bool:
    """True when the words are so common that, on average, every conversation has a message
    with them: the list walked in order then fills a page after a few conversations, while
    collecting the matches would read hundreds of thousands of index entries first."""
    prefixes = words(q)
    stats = await conn.fetchrow(_TEXT_STATS)
    if not prefixes or stats is None or stats["lexemes"] is None:
        return False
    share = broad_share(prefixes, stats["lexemes"], stats["shares"])
    messages, conversations = float(stats["messages"]), float(stats["conversations"])
    return share * messages >= max(conversations, 1.0)


async def find(conn: Conn, q: str) -> Search:
    """Collect the conversations a search matches, from the trigram and full-text indexes."""
    pattern, words = terms(q)
    # Contacts first, then their conversations: two index lookups, never a join the planner
    # could turn into a scan of every conversation when it misjudges how many names match.
    contact_ids = await conn.fetch(
        f"SELECT id FROM contacts WHERE display_name ILIKE $1 OR phone LIKE $1 LIMIT {SEARCH_CAP}",
        pattern,
    )
    by_contact = []
    if contact_ids:
        by_contact = await conn.fetch(
            "SELECT id FROM conversations WHERE contact_id = ANY($1::bigint[])"
            f" LIMIT {SEARCH_CAP}",
            [r[0] for r in contact_ids],
        )
    contacts = sorted({r[0] for r in by_contact})
    if words and await is_broad(conn, q):
        return Search(contacts, None, words)
    return Search(contacts, await collect(conn, words, SEARCH_CAP), words)


async def collect(conn: Conn, words: str | None, cap: int | None) -> dict[int, int] | None:
    """The conversations with a message matching `words`, each with its newest such message;
    None if more than `cap` messages match. (A full-text index is read as a whole bitmap: LIMIT
    does not shorten the read.)"""
    if not words:
        return {}
    limit = f" LIMIT {cap + 1}" if cap is not None else ""
    async with conn.transaction():
        # Common words' index entries make bitmaps larger than the default 4 MB of work_mem;
        # a lossy bitmap would recheck every message of its pages (seconds, not milliseconds).
        await conn.execute(f"SET LOCAL work_mem = '{SEARCH_WORK_MEM}'")
        rows = await conn.fetch(
            f"SELECT conversation_id, id, created_at FROM messages"
            f" WHERE {TS_DOC} @@ to_tsquery('simple', $1) AND deleted_at IS NULL{limit}",
            words,
        )
    if cap is not None and len(rows) > cap:
        return None
    newest: dict[int, tuple[datetime, int]] = {}
    for conversation_id, message_id, created_at in rows:
        if (created_at, message_id) > newest.get(conversation_id, (created_at, -1)):
            newest[conversation_id] = (created_at, message_id)
    return {c: m for c, (_, m) in newest.items()}


# How far back in a conversation the message a search matched is looked for.
MATCH_DEPTH = 1_000

MATCHED = """
SELECT conversation_id, id, direction, sender_manager_id, body, created_at, kind,
       media_filename, media_duration_ms, deleted_at,
       (SELECT name FROM managers WHERE id = sender_manager_id) AS manager_name
  FROM messages WHERE id = ANY($1::bigint[])
"""

# Per conversation of a walked search's page, its newest message with every word, among its
# newest MATCH_DEPTH messages. Through the conversation's own index, newest first (the words are
# common: a few messages in): `IS TRUE` keeps the planner from reading the words' whole entries
# in the full-text index for each conversation.
NEWEST_MATCH = compose(
    """
SELECT c.id AS conversation_id, m.id, m.direction, m.sender_manager_id, m.body, m.created_at,
       m.kind, m.media_filename, m.media_duration_ms, m.deleted_at,
       (SELECT name FROM managers WHERE id = m.sender_manager_id) AS manager_name
  FROM unnest($1::bigint[]) AS c(id)
 CROSS JOIN LATERAL (
       SELECT r.id, r.direction, r.sender_manager_id, r.body, r.created_at, r.kind,
              r.media_filename, r.media_duration_ms, r.deleted_at
         FROM (SELECT id, direction, sender_manager_id, body, created_at, kind, media_filename,
                      media_duration_ms, deleted_at FROM messages
                WHERE conversation_id = c.id AND deleted_at IS NULL
                ORDER BY created_at DESC, id DESC LIMIT {depth}) r
        WHERE (to_tsvector('simple', coalesce(r.body, '')) @@ to_tsquery('simple', $2)) IS TRUE
        ORDER BY r.created_at DESC, r.id DESC
        LIMIT 1) m
""",
    depth=str(MATCH_DEPTH),
)


async def matched_messages(
    conn: Conn, conversation_ids: list[int], found: Search
) -> dict[int, asyncpg.Record]:
    """The message each of these conversations was found by (the newest with every word), by
    conversation id; none for those found by their contact's name or phone."""
    if not found.words:
        return {}
    if found.hits is not None:
        # Collected: the search has read the matching messages already; fetched by id.
        ids = [found.hits[c] for c in conversation_ids if c in found.hits]
        if not ids:
            return {}
        rows = await conn.fetch(MATCHED, ids)
    else:
        # Walked (common words): each conversation's newest messages, until one matches.
        by_contact = set(found.by_contact)
        ids = [c for c in conversation_ids if c not in by_contact]
        if not ids:
            return {}
        rows = await conn.fetch(NEWEST_MATCH, ids, found.words)
    return {r["conversation_id"]: r for r in rows}
