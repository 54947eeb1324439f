"""Merging two contacts into one and undoing it; the contacts that look like the same person."""

from __future__ import annotations

from aiohttp import web

from ..keys import POOL
from ..store import contact_merges as store, contacts as contact_store, feed
from . import responses
from .contact_models import DuplicateList, MergeBody, MergeOut
from .contacts import CONTACT, contact_out, visible_contact
from .middleware import current, ids, restricted_to

routes = web.RouteTableDef()
MERGE = ids("/api/v1/contact-merges/{merge_id:id}")


@routes.get(CONTACT + "/duplicates")
async def duplicates(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await visible_contact(request, conn, int(request.match_info["contact_id"]))
        found = await store.duplicates(conn, row["id"], restricted_to(request))
    return responses.json_response(
        DuplicateList.model_validate({"items": [dict(r) for r in found]})
    )


@routes.post(CONTACT + "/merge")
async def merge(request: web.Request) -> web.Response:
    """Merge another contact into this one: this one is kept."""
    body = MergeBody.model_validate_json(await request.read())
    manager = current(request).manager.id
    async with request.app[POOL].acquire() as conn, conn.transaction():
        kept = await visible_contact(request, conn, int(request.match_info["contact_id"]))
        try:
            gone = await visible_contact(request, conn, body.contact_id, follow=False)
        except responses.APIError:
            raise responses.invalid("contact_id", "No such contact") from None
        try:
            merge_id, changed = await store.merge(conn, kept["id"], gone["id"], manager)
        except store.MergeRefused as refused:
            raise responses.conflict(str(refused)) from None
        # The kept contact's own chats too: it may have taken the merged one's name or number.
        changed = sorted({*changed, *await contact_store.conversation_ids(conn, kept["id"])})
        await feed.record(conn, [("conversation.updated", i) for i in changed])
        row = await visible_contact(request, conn, kept["id"])
        out = MergeOut(merge_id=merge_id, contact=await contact_out(request, conn, row))
    return responses.json_response(out)


@routes.post(MERGE + "/undo")
async def undo(request: web.Request) -> web.Response:
    """Undo a merge: the merged contact is back with what it brought. Its merger or an admin."""
    session = current(request)
    merge_id = int(request.match_info["merge_id"])
    async with request.app[POOL].acquire() as conn, conn.transaction():
        record = await store.get(conn, merge_id)
        if record is None:
            raise responses.not_found("merge")
        await visible_contact(request, conn, record["kept_id"])
        if session.manager.role != "admin" and record["merged_by"] != session.manager.id:
            raise responses.forbidden("Only the manager who merged them, or an admin, may undo")
        try:
            back, changed = await store.undo(conn, merge_id, session.manager.id)
        except store.MergeRefused as refused:
            raise responses.conflict(str(refused)) from None
        await feed.record(conn, [("conversation.updated", i) for i in changed])
        row = await visible_contact(request, conn, back, follow=False)
        out = MergeOut(merge_id=merge_id, contact=await contact_out(request, conn, row))
    return responses.json_response(out)
