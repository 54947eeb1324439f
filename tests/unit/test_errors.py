"""What the API answers when PostgreSQL undid a transaction because another one changed the same
rows at the same moment: a conflict to try again, never a 500."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
import asyncpg
import orjson
import pytest

from crm_appservice.api.middleware import errors


@pytest.mark.parametrize("error", [asyncpg.DeadlockDetectedError, asyncpg.SerializationError])
async def test_a_transaction_undone_by_a_concurrent_one_is_a_conflict(
    error: type[Exception],
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise error("deadlock detected")

    request = make_mocked_request("POST", "/api/v1/contacts/1/merge")
    response = await errors(request, handler)
    assert isinstance(response, web.Response) and response.body is not None
    assert response.status == 409
    body = orjson.loads(bytes(response.body))  # type: ignore[arg-type]
    assert body["error"]["code"] == "conflict" and "try again" in body["error"]["message"]
