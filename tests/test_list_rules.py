"""Which conversations a list holds, in which order, and the tab counts, as the API answers
them: the table of cases the inbox's live updates of its cache follow too
(web/src/state/cache.test.ts), so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from .cases import shared
from .conftest import API

CASES = shared("list-cases")


INSERT = """
INSERT INTO conversations (id, room_id, platform, remote_chat_id, kind, title, status,
                           snoozed_until, assignee_id, unread_count, is_archived, last_message_at,
                           merged_into, receiver, label_ids)
OVERRIDING SYSTEM VALUE
VALUES ($1::bigint, '!r' || $1::bigint, $2, $1::bigint::text, 'dm', 'C' || $1::bigint, $3,
        CASE WHEN $3 = 'snoozed' THEN now() + interval '1 day' END, $4, $5, $6,
        $7::text::timestamptz, $8, $9, $10::bigint[])
"""


@pytest.fixture
async def filled(api: API, db: asyncpg.Pool, add_manager: Callable[..., Any]) -> API:
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    colleague = await add_manager("carla@example.com")
    who = {"me": me, "colleague": colleague, None: None}
    # merged ones last: they point at another case
    for c in sorted(CASES["conversations"], key=lambda c: c["merged_into"] is not None):
        await db.execute(INSERT, c["id"], c["platform"], c["status"], who[c["assignee"]],
                         c["unread_count"], c["is_archived"], c["last_message_at"],
                         c["merged_into"], c["number"], c["labels"])  # fmt: skip
    return api


@pytest.mark.parametrize("case", CASES["lists"], ids=[c["name"] for c in CASES["lists"]])
async def test_each_list_holds_the_cases_conversations_in_order(
    filled: API, case: dict[str, Any]
) -> None:
    page = await filled.get("/api/v1/conversations?" + case["query"])
    assert [c["id"] for c in page["items"]] == case["ids"]


async def test_the_tab_counts_are_the_cases(filled: API) -> None:
    assert await filled.get("/api/v1/conversations/counts") == CASES["counts"]
