"""A private note changed or taken back by its author (adding one is the conversation's:
api/conversations.py). Every open inbox is told at once (`note.updated`)."""

from __future__ import annotations

from aiohttp import web

from ..keys import POOL
from ..store import feed, notes as store
from . import responses
from .middleware import current, ensure_visible, ids
from .models import NoteBody, NoteOut
from .resources import note_out

routes = web.RouteTableDef()
NOTE = ids("/api/v1/notes/{note_id:id}")


async def _change(request: web.Request, body: str | None) -> web.Response:
    note_id = int(request.match_info["note_id"])
    async with request.app[POOL].acquire() as conn, conn.transaction():
        note = await store.note(conn, note_id)
        if note is None:
            raise responses.not_found("note")
        ensure_visible(request, note["conversation_assignee_id"], "note")
        if note["author_id"] != current(request).manager.id:
            raise responses.forbidden("Only its author may change or delete a note")
        await store.change_note(conn, note_id, body)
        await feed.record(conn, [("note.updated", note_id)])
        [row] = await store.notes_by_ids(conn, [note_id])
    out: NoteOut = note_out(row)
    return responses.json_response(out)


@routes.patch(NOTE)
async def edit(request: web.Request) -> web.Response:
    body = NoteBody.model_validate_json(await request.read())
    return await _change(request, body.body)


@routes.delete(NOTE)
async def delete(request: web.Request) -> web.Response:
    return await _change(request, None)
