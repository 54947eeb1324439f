"""Quick replies: the team's (admins keep them) and each manager's own, with files, and one
filled in for a conversation (`/` in the composer). Sending one is an ordinary reply: its text
as the manager left it, each file by its id (api/replies.py `quick_reply_file`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web
import asyncpg
import orjson

from .. import placeholders
from ..keys import POOL
from ..media.homeserver import content_type_of
from ..store import contact_attributes as attribute_store, quick_replies as store
from ..store.database import Conn
from . import forms, responses
from .conversations import CONVERSATION, visible_conversation
from .file_kinds import kind_of
from .media import file_headers
from .middleware import current, ids
from .quick_reply_models import (
    QuickReplyBody,
    QuickReplyFileForm,
    QuickReplyFileOut,
    QuickReplyList,
    QuickReplyOut,
    QuickReplyPatch,
    RenderedOut,
)

routes = web.RouteTableDef()
QUICK_REPLIES = "/api/v1/quick-replies"
QUICK_REPLY = ids(QUICK_REPLIES + "/{quick_reply_id:id}")
FILE = ids(QUICK_REPLIES + "/{quick_reply_id:id}/files/{file_id:id}")
TEAM_LIMIT = 500
OWN_LIMIT = 200
FILES_LIMIT = 5
# Kept in the database (every instance sends them): a photo, a price list, a short video.
FILE_SIZE_LIMIT = 16 * 1024 * 1024


def _file_out(quick_reply_id: int, f: dict[str, Any]) -> QuickReplyFileOut:
    return QuickReplyFileOut.model_validate({
        **f, "kind": kind_of(f["mimetype"], False),
        "url": f"{QUICK_REPLIES}/{quick_reply_id}/files/{f['id']}",
    })  # fmt: skip


def _files(row: asyncpg.Record) -> list[QuickReplyFileOut]:
    files = row["files"]
    listed = files if isinstance(files, list) else orjson.loads(files)
    return [_file_out(row["id"], f) for f in listed]


def _may_edit(request: web.Request, row: asyncpg.Record) -> bool:
    manager = current(request).manager
    return (
        row["owner_id"] == manager.id if row["owner_id"] is not None else manager.role == "admin"
    )


def _out(request: web.Request, row: asyncpg.Record) -> QuickReplyOut:
    return QuickReplyOut.model_validate({
        **dict(row), "personal": row["owner_id"] is not None,
        "can_edit": _may_edit(request, row), "variables": placeholders.names_in(row["body"]),
        "files": _files(row),
    })  # fmt: skip


async def _visible(conn: Conn, request: web.Request) -> asyncpg.Record:
    """The quick reply of the path, if this manager sees it (the team's or their own)."""
    row = await store.get(
        conn, int(request.match_info["quick_reply_id"]), current(request).manager.id
    )
    if row is None:
        raise responses.not_found("quick reply")
    return row


async def _editable(conn: Conn, request: web.Request) -> asyncpg.Record:
    row = await _visible(conn, request)
    if not _may_edit(request, row):
        raise responses.forbidden("Only admins change the team's quick replies")
    return row


async def _check_text(conn: Conn, body: str) -> None:
    """A variable that is none (a typo, an attribute that is not defined) is refused now, not
    discovered in front of a customer."""
    keys = set(await attribute_store.definitions(conn))
    unknown = placeholders.unknown_in(body, keys)
    if unknown:
        raise responses.invalid(
            "body", f"No variable {unknown[0]}: there are "
            + ", ".join(f"{{{{{v}}}}}" for v in placeholders.known(keys)),
        )  # fmt: skip


async def _answer(
    conn: Conn, request: web.Request, quick_reply_id: int, status: int = 200
) -> web.Response:
    row = await store.get(conn, quick_reply_id, current(request).manager.id)
    assert row is not None
    return responses.json_response(_out(request, row), status)


@routes.get(QUICK_REPLIES)
async def list_quick_replies(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await store.visible(conn, current(request).manager.id)
        keys = set(await attribute_store.definitions(conn))
    return responses.json_response(QuickReplyList(
        items=[_out(request, r) for r in rows], variables=placeholders.known(keys)))  # fmt: skip


@routes.post(QUICK_REPLIES)
async def add_quick_reply(request: web.Request) -> web.Response:
    body = QuickReplyBody.model_validate_json(await request.read())
    manager = current(request).manager
    if not body.personal and manager.role != "admin":
        raise responses.forbidden("Only admins add the team's quick replies: make it your own")
    owner = manager.id if body.personal else None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await _check_text(conn, body.body)
        limit = OWN_LIMIT if body.personal else TEAM_LIMIT
        if await store.count(conn, owner) >= limit:
            raise responses.conflict(f"At most {limit} quick replies here")
        try:
            made = await store.create(conn, owner, manager.id, body.name, body.shortcut, body.body)
        except store.ShortcutTaken:
            raise responses.conflict(f"/{body.shortcut} is taken already") from None
        return await _answer(conn, request, made, 201)


@routes.patch(QUICK_REPLY)
async def change_quick_reply(request: web.Request) -> web.Response:
    body = QuickReplyPatch.model_validate_json(await request.read())
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if not changes:
        raise responses.bad_request("Nothing to change")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await _editable(conn, request)
        if "body" in changes:
            await _check_text(conn, changes["body"])
        try:
            await store.update(conn, row["id"], changes)
        except store.ShortcutTaken:
            raise responses.conflict(f"/{changes['shortcut']} is taken already") from None
        return await _answer(conn, request, row["id"])


@routes.delete(QUICK_REPLY)
async def delete_quick_reply(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await _editable(conn, request)
        await store.delete(conn, row["id"])
    return responses.json_response({"deleted": True})


async def _read_file(request: web.Request) -> tuple[str, str, bytes, QuickReplyFileForm]:
    """(file name, type, bytes, the other fields) of a multipart upload: one file, within the
    limit (read as it comes: a larger one stops at the limit)."""
    limit = min(forms.upload_limit(request), FILE_SIZE_LIMIT)
    fields: dict[str, str] = {}
    found: tuple[str, str, bytes] | None = None
    reader = await forms.open_multipart(request)
    while (part := await forms.next_part(reader)) is not None:
        if part.name != "file":
            await forms.read_field(part, fields, QuickReplyFileForm.model_fields)
            continue
        if found is not None:
            raise responses.invalid("file", "One file at a time")
        data = bytearray()
        while chunk := await part.read_chunk(256 * 1024):
            data += chunk
            if len(data) > limit:
                raise forms.too_large(limit)
        found = (forms.safe_filename(part.filename), forms.declared_type(part), bytes(data))
    if found is None:
        raise responses.invalid("file", "The upload needs a file")
    if not found[2]:
        raise responses.invalid("file", "The file is empty")
    return (*found, QuickReplyFileForm.model_validate(fields))


@routes.post(QUICK_REPLY + "/files")
async def add_file(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        await _editable(conn, request)  # before the file is read: nobody else's to fill
    if request.content_type != "multipart/form-data":
        raise responses.APIError(
            415, "unsupported_media_type", "Send the file as multipart/form-data"
        )
    filename, mimetype, data, form = await _read_file(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await _editable(conn, request)
        if not await store.lock(conn, row["id"]):  # removed meanwhile
            raise responses.not_found("quick reply")
        if await store.file_count(conn, row["id"]) >= FILES_LIMIT:
            raise responses.conflict(f"A quick reply has at most {FILES_LIMIT} files")
        await store.add_file(conn, row["id"], filename, mimetype, data, form.width, form.height)
        return await _answer(conn, request, row["id"], 201)


@routes.delete(FILE)
async def remove_file(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await _editable(conn, request)
        if not await store.remove_file(conn, row["id"], int(request.match_info["file_id"])):
            raise responses.not_found("file")
        return await _answer(conn, request, row["id"])


@routes.get(FILE)
async def get_file(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        found = await store.file(
            conn, int(request.match_info["file_id"]), current(request).manager.id
        )
    if found is None or found["quick_reply_id"] != int(request.match_info["quick_reply_id"]):
        raise responses.not_found("file")
    headers = file_headers(content_type_of(found["mimetype"]), found["filename"])
    return web.Response(body=found["data"], headers=headers)


def _values(
    request: web.Request, row: asyncpg.Record | None, defined: dict[str, Any]
) -> dict[str, str | None]:
    manager = current(request).manager
    values: dict[str, str | None] = {
        "manager.name": manager.name, "manager.first_name": placeholders.first_name(manager.name),
    }  # fmt: skip
    if row is None:
        return values
    name = row["display_name"]
    values.update({
        "contact.name": name if placeholders.first_name(name) else None,
        "contact.first_name": placeholders.first_name(name),
        "contact.phone": row["phone"], "contact.email": row["email"],
        "order.number": row["order_number"], "order.status": row["order_status"],
        "order.total": _money(row["order_total"], row["order_currency"]),
    })  # fmt: skip
    attributes = row["attributes"]
    stored = attributes if isinstance(attributes, dict) else orjson.loads(attributes)
    for key in defined:
        name_of = f"contact.{key}"
        if name_of not in values and stored.get(key) is not None:
            values[name_of] = _shown(stored[key])
    return values


def _shown(value: Any) -> str:
    """An attribute's value as a customer reads it: 1234.5, 2026-03-01, yes."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _money(total: Decimal | None, currency: str | None) -> str | None:
    return None if total is None else f"{total:,.2f} {currency}"


@routes.get(CONVERSATION + ids("/quick-replies/{quick_reply_id:id}"))
async def filled_in(request: web.Request) -> web.Response:
    """The quick reply with this conversation's values (its customer, their latest order, the
    manager), and what has none here."""
    async with request.app[POOL].acquire() as conn:
        conversation = await visible_conversation(conn, request)
        row = await _visible(conn, request)
        values = await store.values(conn, conversation["id"])
        defined = await attribute_store.definitions(conn)
    rendered = placeholders.render(row["body"], _values(request, values, defined))
    return responses.json_response(
        RenderedOut(
            text=rendered.text, missing=rendered.missing, left=rendered.left, files=_files(row)
        )
    )
