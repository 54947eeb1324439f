"""Contacts and their orders, as managers edit them."""

from __future__ import annotations

from decimal import Decimal
import re
from typing import Any, cast

from aiohttp import web
import asyncpg
import orjson

from ..attribute_kinds import BadValue, Definition, from_json, from_text, stored_text
from ..keys import POOL
from ..store import (
    contact_attributes as attribute_store,
    contact_list,
    contact_merges as merge_store,
    contact_timeline as timeline_store,
    contacts as store,
    conversations as conversation_store,
    feed,
    orders as order_store,
)
from . import cursors, responses
from .contact_models import (
    ContactDetailOut,
    ContactFilterQuery,
    ContactListQuery,
    ContactPage,
    ContactPatch,
)
from .middleware import current, ids, query_of, restricted_to
from .order_models import OrderBody, OrderList, OrderOut, OrderPatch
from .resources import conversation_fields
from .view_models import who

routes = web.RouteTableDef()
CONTACT = ids("/api/v1/contacts/{contact_id:id}")


async def contact_out(request: web.Request, conn: Any, row: asyncpg.Record) -> ContactDetailOut:
    """The contact with every number it has had, all its conversations and its orders (one
    answer for the contact's page: nothing it shows is a second request)."""
    data = dict(row)
    if isinstance(data["attributes"], str):
        data["attributes"] = orjson.loads(data["attributes"])
    data["phones"] = [dict(p) for p in await store.phones(conn, row["id"])]
    conversations = await conversation_store.of_contact(conn, row["id"], restricted_to(request))
    data["conversations"] = [conversation_fields(c) for c in conversations]
    data["orders"] = [order_out(o) for o in await order_store.orders(conn, row["id"])]
    manager = current(request).manager
    data["merges"] = [
        {**dict(m), "can_undo": m["undone_at"] is None and m["still_merged"]
         and (manager.role == "admin" or m["merged_by"] == manager.id)}
        for m in await merge_store.of_contact(conn, row["id"])
    ]  # fmt: skip
    events = await timeline_store.timeline(conn, row["id"], restricted_to(request))
    data["timeline"] = [dict(e) for e in events]
    return ContactDetailOut.model_validate(data)


Op = contact_list.Op
_CONDITION = re.compile(r"^([a-z][a-z0-9_]{0,39})(?:(>=|<=|=)(.*))?$", re.DOTALL)


def attribute_filters(
    texts: list[str], defined: dict[str, Definition]
) -> tuple[contact_list.AttributeFilter, ...]:
    """The list's attribute conditions, each value read as its attribute's kind has it."""
    found = []
    for text in texts:
        match = _CONDITION.match(text)
        if match is None:
            raise responses.invalid("attribute", "Write key=value, key>=value, key<=value or key")
        key, op_text, value = match.groups()
        d = defined.get(key)
        if d is None:
            raise responses.invalid("attribute", f"No attribute is kept under {key}")
        if op_text is None:
            found.append(contact_list.AttributeFilter(key, "has"))
            continue
        op = cast("Op", op_text)
        if op != "=" and d.kind not in ("number", "date"):
            raise responses.invalid("attribute", f"{d.label}: only numbers and dates have ranges")
        try:
            stored = from_text(d, value)
        except BadValue as bad:
            raise responses.invalid("attribute", f"{d.label}: {bad}") from None
        if d.kind == "number":
            found.append(contact_list.AttributeFilter(key, op, num=Decimal(str(stored))))
        else:
            txt = stored_text(stored)
            whole = stored if isinstance(stored, str) and stored != txt else None
            found.append(contact_list.AttributeFilter(key, op, txt=txt, whole=whole))
    return tuple(found)


def contact_query(request: web.Request) -> dict[str, Any]:
    """The query string as the contact filter models read it."""
    return query_of(request, "attribute", "label")


async def filters_of(
    request: web.Request, conn: Any, query: ContactFilterQuery
) -> contact_list.Filters:
    me = current(request).manager.id
    owner = query.owner
    defined = await attribute_store.definitions(conn) if query.attribute else {}
    return contact_list.Filters(
        q=query.q,
        sort=query.sort,
        owner=who(owner, me),
        unowned=owner == "none",
        number=query.number,
        visible_to=restricted_to(request),
        attributes=attribute_filters(query.attribute, defined),
        labels=tuple(query.label),
        all_labels=query.label_match == "all",
    )


@routes.get("/api/v1/contacts")
async def list_contacts(request: web.Request) -> web.Response:
    query = ContactListQuery.model_validate(contact_query(request))
    cursor: contact_list.Cursor | None = None
    if query.cursor:
        cursor = (
            cursors.text(query.cursor) if query.sort == "name" else cursors.moment(query.cursor)
        )
    async with request.app[POOL].acquire() as conn:
        filters = await filters_of(request, conn, query)
        rows, more = await contact_list.page(conn, filters, cursor, query.limit)
    next_cursor = cursors.encode(*contact_list.cursor_of(rows[-1], query.sort)) if more else None
    page = ContactPage.model_validate(
        {"items": [dict(r) for r in rows], "next_cursor": next_cursor}
    )
    return responses.json_response(page)


def order_out(row: asyncpg.Record) -> OrderOut:
    data = dict(row)
    if isinstance(data["items"], str):
        data["items"] = orjson.loads(data["items"])
    return OrderOut.model_validate(data)


def _id(request: web.Request, name: str) -> int:
    return int(request.match_info[name])


async def visible_contact(
    request: web.Request, conn: Any, contact_id: int, follow: bool = True
) -> asyncpg.Record:
    """The contact, or 404 if there is none or (with `web.managers_see: assigned`) it is not
    the manager's customer and none of its conversations is the manager's own or unassigned:
    a contact is seen as its conversations are, and its orders with it. A merged contact is
    the one it became (unless `follow` is false: then it is none)."""
    row = await store.get(conn, contact_id)
    if row is None and follow:
        # A contact merged into another is that one now: its old address leads there.
        heir = await store.heir(conn, contact_id)
        row = await store.get(conn, heir) if heir is not None else None
    if row is None:
        raise responses.not_found("contact")
    me = restricted_to(request)
    if me is not None and not await store.visible_to(conn, row["id"], me):
        raise responses.not_found("contact")
    return row


def checked_attributes(given: dict[str, Any], defined: dict[str, Definition]) -> dict[str, Any]:
    """Each value as its definition has it; null removes one (also one no longer defined)."""
    checked: dict[str, Any] = {}
    for key, value in given.items():
        d = defined.get(key)
        if value is not None and d is None:
            raise responses.invalid(
                f"attributes.{key}", "No attribute is kept under this key: an admin adds it "
                "under Team → Contact attributes")  # fmt: skip
        if value is None or d is None:
            checked[key] = None
            continue
        try:
            checked[key] = from_json(d, value)
        except BadValue as bad:
            raise responses.invalid(f"attributes.{key}", f"{d.label} {bad}") from None
    return checked


@routes.get(CONTACT)
async def get_contact(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await visible_contact(request, conn, _id(request, "contact_id"))
        out = await contact_out(request, conn, row)
    return responses.json_response(out)


@routes.patch(CONTACT)
async def patch_contact(request: web.Request) -> web.Response:
    body = ContactPatch.model_validate_json(await request.read())
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if not changes:
        raise responses.bad_request("Nothing to change")
    contact_id = _id(request, "contact_id")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if "attributes" in changes:  # first: it waits for a definition being changed
            defined = await attribute_store.definitions(conn, held=True)
            changes["attributes"] = checked_attributes(changes["attributes"], defined)
        contact_id = (await visible_contact(request, conn, contact_id))["id"]
        owner = changes.get("owner_id")
        if owner is not None and not await conversation_store.manager_is_active(conn, owner):
            raise responses.invalid("owner_id", "No active manager with that id")
        if "owner_id" in changes:
            # The owner moves to the contact's conversations too (migrations/0024): they are
            # held first, in the order ingest takes a conversation and then its contact.
            await conversation_store.hold_of_contact(conn, contact_id)
        row = await store.update(conn, contact_id, changes)
        if row is None:
            raise responses.not_found("contact")
        conversations = await store.conversation_ids(conn, contact_id)
        await feed.record(conn, [("conversation.updated", i) for i in conversations])
        out = await contact_out(request, conn, row)
    return responses.json_response(out)


@routes.get(CONTACT + "/orders")
async def list_orders(request: web.Request) -> web.Response:
    contact_id = _id(request, "contact_id")
    async with request.app[POOL].acquire() as conn:
        contact_id = (await visible_contact(request, conn, contact_id))["id"]
        rows = await order_store.orders(conn, contact_id)
    return responses.json_response(OrderList(items=[order_out(r) for r in rows]))


@routes.post(CONTACT + "/orders")
async def add_order(request: web.Request) -> web.Response:
    body = OrderBody.model_validate_json(await request.read())
    contact_id = _id(request, "contact_id")
    fields = body.model_dump(mode="json")
    fields["total"] = body.total
    async with request.app[POOL].acquire() as conn:
        contact_id = (await visible_contact(request, conn, contact_id))["id"]
        row = await order_store.add_order(conn, contact_id, current(request).manager.id, fields)
    if row is None:
        raise responses.conflict(f"This contact already has an order {body.number}")
    return responses.json_response(order_out(row), status=201)


async def _visible_order(request: web.Request, conn: Any, order_id: int) -> None:
    """404 unless the order exists and its contact is one the manager may see."""
    contact_id = await order_store.order_contact(conn, order_id)
    if contact_id is None:
        raise responses.not_found("order")
    try:
        await visible_contact(request, conn, contact_id)
    except responses.APIError:
        raise responses.not_found("order") from None


ORDER = ids("/api/v1/orders/{order_id:id}")


@routes.delete(ORDER)
async def delete_order(request: web.Request) -> web.Response:
    order_id = _id(request, "order_id")
    async with request.app[POOL].acquire() as conn:
        await _visible_order(request, conn, order_id)
        if not await order_store.delete_order(conn, order_id):
            raise responses.not_found("order")
    return responses.json_response({})


@routes.patch(ORDER)
async def patch_order(request: web.Request) -> web.Response:
    body = OrderPatch.model_validate_json(await request.read())
    changes = body.model_dump(mode="json", exclude_unset=True)
    if "total" in changes:
        changes["total"] = body.total
    if not changes:
        raise responses.bad_request("Nothing to change")
    order_id = _id(request, "order_id")
    try:
        async with request.app[POOL].acquire() as conn:
            await _visible_order(request, conn, order_id)
            row = await order_store.update_order(conn, order_id, changes)
    except asyncpg.UniqueViolationError:
        raise responses.conflict("This contact already has an order with that number") from None
    if row is None:
        raise responses.not_found("order")
    return responses.json_response(order_out(row))
