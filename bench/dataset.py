"""The full-size inbox the list, web and report benchmarks read: ``n_conv`` conversations
with their contacts and ``n_msg`` messages, 50 managers (one admin, who signs in), loaded the
way an import would (indexes built once, after the rows), the same rows for the same sizes."""

from __future__ import annotations

from datetime import UTC, datetime
import hashlib
import random
import time
from typing import Any

import asyncpg

from crm_appservice import passwords

EMAIL, PASSWORD = "bench@example.com", "benchmark password"

# The business's WhatsApp numbers (login ids) the chats are on.
NUMBERS = ("15550000001", "15550000002")


# The labels of row i (a conversation and its contact alike): one on a seventh of them, one on
# an eleventh, one on a five-hundredth (a label few rows have; off the archived tenth).
LABEL_COMMON, LABEL_RARE, LABEL_OTHER = 1, 2, 3


def labels_of(i: int) -> list[int]:
    return [label for label, every in ((LABEL_COMMON, 7), (LABEL_RARE, 500), (LABEL_OTHER, 11))
            if i % every == (1 if label == LABEL_RARE else 0)]  # fmt: skip


def _md5(i: int) -> Any:
    return hashlib.md5(str(i).encode(), usedforsecurity=False)


async def fill(dsn: str, n_conv: int, n_msg: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        hashed = passwords.hash_password(PASSWORD)
        await conn.execute(
            "INSERT INTO managers (email, name, role, password_hash)"
            " SELECT 'm' || i || '@example.com', 'M' || i, 'manager', $1"
            " FROM generate_series(1, 49) i",
            hashed,
        )
        await conn.execute(
            "INSERT INTO managers (email, name, role, password_hash)"
            " VALUES ($1, 'Bench', 'admin', $2)",
            EMAIL,
            hashed,
        )
        # Bulk load the way an import would: indexes are built once, after the rows.
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN"
            " ('contacts', 'contact_phones', 'conversations', 'messages')"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        rng = random.Random(3)
        now = time.time()

        def at(seconds_ago: float) -> datetime:
            return datetime.fromtimestamp(now - seconds_ago, UTC)

        await conn.copy_records_to_table(
            "contacts",
            columns=["platform", "remote_id", "mxid", "phone", "display_name", "email",
                     "owner_id", "created_at", "attributes", "label_ids"],
            records=(
                ("whatsapp", str(4915000000000 + i), f"@whatsapp_{4915000000000 + i}:x",
                 "+49" + _md5(i).hexdigest()[:10].translate(
                     str.maketrans("abcdef", "012345")),
                 f"{_md5(i).hexdigest()[:6].title()} Customer",
                 f"customer{i}@example.com" if i % 2 == 0 else None,
                 # a quarter of them someone's customers (manager 50 is the admin who signs in)
                 1 + i % 50 if i % 4 == 0 else None, at(i * 600),
                 # two attributes the list is filtered by: a budget and a tier
                 f'{{"budget": {i % 10_000}, "tier": "{("Gold", "Silver", "Bronze")[i % 3]}"}}',
                 labels_of(i))
                for i in range(1, n_conv + 1)
            ),
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO contact_phones (contact_id, phone) SELECT id, phone FROM contacts"
        )
        await conn.execute(
            "INSERT INTO labels (id, name, colour) OVERRIDING SYSTEM VALUE VALUES"
            " (1, 'VIP', '#c62828'), (2, 'Complaint', '#ef6c00'), (3, 'Wholesale', '#1565c0')"
        )
        await conn.execute(
            "INSERT INTO contact_attributes (key, label, kind, choices, position) VALUES"
            " ('budget', 'Budget', 'number', '{}', 1),"
            " ('tier', 'Tier', 'choice', '{Gold,Silver,Bronze}', 2)"
        )

        await conn.copy_records_to_table(
            "conversations",
            columns=["room_id", "platform", "remote_chat_id", "kind", "title", "contact_id",
                     "status", "assignee_id", "is_archived", "last_message_at",
                     "last_message_preview", "unread_count", "receiver", "label_ids",
                     "last_message_out"],
            records=(
                (f"!bench{i}", "telegram" if i % 20 == 0 else "whatsapp", str(i), "dm",
                 f"Customer {i}", i, ("open", "open", "open", "pending", "resolved")[i % 5],
                 None if i % 3 == 0 else 1 + i % 50, i % 10 == 0, at(i * 60),
                 "Is the sofa still available?", 2 if i % 4 == 0 else 0,
                 # two business numbers, a third of the chats on the second
                 None if i % 20 == 0 else NUMBERS[1 if i % 3 == 0 else 0], labels_of(i),
                 # the team wrote last in half of them; the customer waits in the others
                 i % 2 == 0)
                for i in range(1, n_conv + 1)
            ),
        )  # fmt: skip
        words = ["sofa", "chair", "table", "delivery", "invoice", "price", "colour", "size"]
        chunk = 250_000
        for start in range(0, n_msg, chunk):
            await conn.copy_records_to_table(
                "messages",
                columns=["conversation_id", "event_id", "direction", "kind", "body", "status",
                         "created_at"],
                records=(
                    (1 + (j % n_conv), f"$m{j}", "out" if j % 3 == 0 else "in", "text",
                     f"About the {rng.choice(words)} number {j}",
                     "read" if j % 3 == 0 else None, at(j * 0.5))
                    for j in range(start, min(start + chunk, n_msg))
                ),
            )  # fmt: skip
        for row in indexes:
            await conn.execute(row["indexdef"])
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
