"""A manager's unsent reply in a conversation, kept on the server (store/drafts.py): the
composer saves it as the manager types and finds it in the conversation's bundle."""

from __future__ import annotations

from aiohttp import web
from pydantic import ConfigDict, Field

from ..keys import POOL
from ..store import drafts
from . import responses
from .conversations import CONVERSATION, visible_conversation
from .middleware import current
from .models import Body

routes = web.RouteTableDef()


class DraftBody(Body):
    # As long as a reply may be; blank: no draft.
    body: str = Field(max_length=65_536)

    # Kept as typed: the spaces at its end are where the manager goes on writing.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


@routes.put(CONVERSATION + "/draft")
async def save(request: web.Request) -> web.Response:
    """Keep the manager's draft of a reply (an empty body removes it)."""
    body = DraftBody.model_validate_json(await request.read())
    async with request.app[POOL].acquire() as conn:
        row = await visible_conversation(conn, request)
        await drafts.put(conn, current(request).manager.id, row["id"], body.body)
    return responses.json_response({})
