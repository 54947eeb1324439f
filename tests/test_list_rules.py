"""Which conversations a list holds, in which order, and the tab counts, as the API answers
them: the table of cases the inbox's live updates of its cache follow too
(web/src/state/listRules.ts, checked by listRules.test.ts), so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from .cases import shared
from .conftest import API

CASES = shared("list-cases")


CONTACT = """
INSERT INTO contacts (platform, remote_id, display_name, owner_id)
VALUES ('whatsapp', 'case' || $1::bigint, 'Case ' || $1::bigint, $2) RETURNING id
"""
INSERT = """
INSERT INTO conversations (id, room_id, platform, remote_chat_id, kind, title, status,
                           snoozed_until, assignee_id, unread_count, is_archived, last_message_at,
                           merged_into, receiver, label_ids, last_message_out, contact_id)
OVERRIDING SYSTEM VALUE
VALUES ($1::bigint, '!r' || $1::bigint, $2, $1::bigint::text, 'dm', 'C' || $1::bigint, $3,
        CASE WHEN $3 = 'snoozed' THEN now() + interval '1 day' END, $4, $5, $6,
        coalesce($7::text::timestamptz, now() - make_interval(mins => $12)), $8, $9,
        $10::bigint[], $11, $13)
"""


@dataclass
class Filled:
    api: API
    colleague: int


@pytest.fixture
async def filled(api: API, db: asyncpg.Pool, add_manager: Callable[..., Any]) -> Filled:
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    colleague = await add_manager("carla@example.com")
    who = {"me": me, "colleague": colleague, None: None}
    # merged ones last: they point at another case
    for c in sorted(CASES["conversations"], key=lambda c: c["merged_into"] is not None):
        contact = await db.fetchval(CONTACT, c["id"], who[c["owner"]])
        await db.execute(INSERT, c["id"], c["platform"], c["status"], who[c["assignee"]],
                         c["unread_count"], c["is_archived"], c["last_message_at"],
                         c["merged_into"], c["number"], c["labels"], c["last_message_out"],
                         c.get("minutes_ago"), contact)  # fmt: skip
    return Filled(api, colleague)


@pytest.mark.parametrize("case", CASES["lists"], ids=[c["name"] for c in CASES["lists"]])
async def test_each_list_holds_the_cases_conversations_in_order(
    filled: Filled, case: dict[str, Any]
) -> None:
    query = case["query"].replace("colleague", str(filled.colleague))
    page = await filled.api.get("/api/v1/conversations?" + query)
    assert [c["id"] for c in page["items"]] == case["ids"]


async def test_the_tab_counts_are_the_cases(filled: Filled) -> None:
    assert await filled.api.get("/api/v1/conversations/counts") == CASES["counts"]
