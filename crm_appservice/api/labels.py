"""Labels: the team's list (admins keep it) and putting one on a conversation or a contact,
which any manager who sees it may do. Every change is pushed live: `label.updated` and
`label.deleted` to everyone (with `view.updated` for the saved views a removed label leaves),
`conversation.updated` for a conversation's new labels."""

from __future__ import annotations

from typing import Any

from aiohttp import web
import asyncpg

from ..keys import POOL
from ..store import conversations as conversation_store, feed, labels as store, views as view_store
from ..store.database import Conn
from . import responses
from .contacts import CONTACT, visible_contact
from .conversations import CONVERSATION, visible_conversation
from .label_models import LabelBody, LabelIdsOut, LabelList, LabelOut, LabelPatch, LabelRef
from .middleware import current, ids, require_admin
from .resources import conversation_out

routes = web.RouteTableDef()
LABELS = "/api/v1/labels"
LABEL = ids(LABELS + "/{label_id:id}")
# A team's labels fit a menu: more are a mistake (one per customer?), not a taxonomy.
TEAM_LIMIT = 300


def label_out(row: asyncpg.Record) -> LabelOut:
    return LabelOut.model_validate(dict(row))


def _label_id(request: web.Request) -> int:
    return int(request.match_info["label_id"])


def _taken(name: str) -> responses.APIError:
    return responses.conflict(f"There is a label named {name} already")


@routes.get(LABELS)
async def list_labels(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await store.all_labels(conn)
    return responses.json_response(LabelList(items=[label_out(r) for r in rows]))


@routes.post(LABELS)
async def add_label(request: web.Request) -> web.Response:
    require_admin(request)
    body = LabelBody.model_validate_json(await request.read())
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await store.lock(conn)  # two admins adding at once count one after the other
        if await store.count(conn) >= TEAM_LIMIT:
            raise responses.conflict(f"At most {TEAM_LIMIT} labels")
        try:
            row = await store.create(conn, body.name, body.colour, current(request).manager.id)
        except store.NameTaken:
            raise _taken(body.name) from None
        await feed.record(conn, [("label.updated", row["id"])])
    return responses.json_response(label_out(row), status=201)


@routes.patch(LABEL)
async def change_label(request: web.Request) -> web.Response:
    require_admin(request)
    body = LabelPatch.model_validate_json(await request.read())
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if not changes:
        raise responses.bad_request("Nothing to change")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        try:
            row = await store.update(conn, _label_id(request), changes)
        except store.NameTaken:
            raise _taken(changes["name"]) from None
        if row is None:
            raise responses.not_found("label")
        await feed.record(conn, [("label.updated", row["id"])])
    return responses.json_response(label_out(row))


@routes.delete(LABEL)
async def delete_label(request: web.Request) -> web.Response:
    """Gone from the list and from every conversation and contact. The browsers take it off
    the rows they hold on `label.deleted`: one frame, however many conversations had it."""
    require_admin(request)
    label_id = _label_id(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if await store.delete(conn, label_id) is None:
            raise responses.not_found("label")
        views = await view_store.drop_label(conn, label_id)
        await feed.record(
            conn, [("label.deleted", label_id), *(("view.updated", v) for v in views)]
        )
    return responses.json_response({"deleted": True})


async def _held(conn: Conn, label_id: int) -> None:
    if not await store.hold(conn, label_id):
        raise responses.invalid("label_id", "No label with that id")


async def _changed_conversation(
    conn: Conn, conversation_id: int, changed: list[int]
) -> web.Response:
    if changed:
        await feed.record(conn, [("conversation.updated", conversation_id)])
    row = await conversation_store.get(conn, conversation_id)
    assert row is not None
    return responses.json_response(conversation_out(row))


@routes.post(CONVERSATION + "/labels")
async def label_conversation(request: web.Request) -> web.Response:
    body = LabelRef.model_validate_json(await request.read())
    async with request.app[POOL].acquire() as conn, conn.transaction():
        conversation_id = (await visible_conversation(conn, request))["id"]
        await _held(conn, body.label_id)
        try:
            changed = await store.add(conn, "conversation", [conversation_id], body.label_id)
        except store.TooMany:
            raise responses.invalid("label_id", f"At most {store.PER_ROW} labels") from None
        return await _changed_conversation(conn, conversation_id, changed)


@routes.delete(CONVERSATION + ids("/labels/{label_id:id}"))
async def unlabel_conversation(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn, conn.transaction():
        conversation_id = (await visible_conversation(conn, request))["id"]
        changed = await store.remove(conn, "conversation", [conversation_id], _label_id(request))
        return await _changed_conversation(conn, conversation_id, changed)


async def _visible_contact(conn: Conn, request: web.Request) -> int:
    contact = await visible_contact(request, conn, int(request.match_info["contact_id"]))
    contact_id: int = contact["id"]  # a merged contact's address leads to its heir
    return contact_id


async def _contact_labels(conn: Conn, contact_id: int) -> web.Response:
    return responses.json_response(LabelIdsOut(label_ids=await store.of_contact(conn, contact_id)))


@routes.post(CONTACT + "/labels")
async def label_contact(request: web.Request) -> web.Response:
    body = LabelRef.model_validate_json(await request.read())
    async with request.app[POOL].acquire() as conn, conn.transaction():
        contact_id = await _visible_contact(conn, request)
        await _held(conn, body.label_id)
        try:
            await store.add(conn, "contact", [contact_id], body.label_id)
        except store.TooMany:
            raise responses.invalid("label_id", f"At most {store.PER_ROW} labels") from None
        return await _contact_labels(conn, contact_id)


@routes.delete(CONTACT + ids("/labels/{label_id:id}"))
async def unlabel_contact(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn, conn.transaction():
        contact_id = await _visible_contact(conn, request)
        await store.remove(conn, "contact", [contact_id], _label_id(request))
        return await _contact_labels(conn, contact_id)
