"""The search's words, as the server reads them from a query and as PostgreSQL finds them in a
message: the table of cases the inbox's marking of a hit follows too (ConversationRow.test)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from crm_appservice.store import search

from .cases import shared

CASES = shared("search-cases")["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["query"] for c in CASES])
async def test_the_words_and_what_they_find(pool: asyncpg.Pool, case: dict[str, Any]) -> None:
    assert search.words(case["query"]) == case["words"]
    query = search.prefix_query(case["query"])
    found = query is not None and await pool.fetchval(
        f"SELECT {search.TS_DOC.replace('body', '$1::text')} @@ to_tsquery('simple', $2)",
        case["text"],
        query,
    )
    assert found is case["found"]
