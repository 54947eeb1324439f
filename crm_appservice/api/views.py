"""Saved views: a manager's own and the team's (admins keep those), each with the number of
conversations it holds for the manager asking. Changes are pushed live as `view.updated` (a
personal view to its owner alone) and `view.deleted`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
import asyncpg

from ..keys import POOL
from ..store import (
    conversations as conversation_store,
    feed,
    labels as label_store,
    managers,
    views as store,
)
from ..store.database import Conn
from . import responses
from .conversations import list_filters
from .middleware import current, ids, restricted_to
from .resources import view_out
from .view_models import ConversationFilters, ViewBody, ViewCounted, ViewList, ViewPatch

routes = web.RouteTableDef()
VIEWS = "/api/v1/views"
VIEW = ids(VIEWS + "/{view_id:id}")
# Each view is counted with every inbox that opens: a row of them beside the tabs, not a
# folder tree. The team's and each manager's own are limited apart.
LIMIT = 20


def _number(who: str | None) -> str | None:
    return str(int(who)) if who and who.isdigit() else who


def _stored(filters: ConversationFilters) -> dict[str, Any]:
    """What is kept: the filters that narrow the list, each once."""
    kept = filters.model_copy(
        update={
            "label": list(dict.fromkeys(filters.label)),
            # "007" is manager 7: kept as the browser writes it back, or it looks changed.
            "assignee": _number(filters.assignee),
            "owner": _number(filters.owner),
            "waiting": filters.waiting or filters.waiting_hours is not None,
        }
    )
    return kept.model_dump(exclude_defaults=True)


async def _check(conn: Conn, filters: ConversationFilters) -> None:
    """A view names labels and managers that exist (held until the view is saved, so a
    label removed meanwhile is taken off it by the removal instead)."""
    if filters.label and (missing := await label_store.missing(conn, filters.label)):
        raise responses.invalid("filters.label", f"No label with id {missing[0]}")
    for field in ("assignee", "owner"):
        value = getattr(filters, field)
        if value and value.isdigit() and not await managers.exists(conn, int(value)):
            raise responses.invalid(f"filters.{field}", "No manager with that id")


async def _count(
    conn: Conn, request: web.Request, row: asyncpg.Record
) -> tuple[int, datetime | None]:
    filters = ConversationFilters.model_validate(store.filters_of(row))
    me = current(request).manager.id
    return await conversation_store.count(conn, list_filters(filters, me, restricted_to(request)))


def _taken(name: str) -> responses.APIError:
    return responses.conflict(f"There is a view named {name} already")


async def _editable(conn: Conn, request: web.Request) -> asyncpg.Record:
    """The view of the path if the manager may change it: their own, or as an admin the
    team's. Another manager's own view is not there for them (404)."""
    session = current(request)
    row = await store.get(conn, int(request.match_info["view_id"]), lock=True)
    if row is None or row["owner_id"] not in (None, session.manager.id):
        raise responses.not_found("view")
    if row["owner_id"] is None and session.manager.role != "admin":
        raise responses.forbidden("Only admins may change the team's views")
    return row


@routes.get(VIEWS)
async def list_views(request: web.Request) -> web.Response:
    counts: dict[str, int] = {}
    changes_at: datetime | None = None
    async with request.app[POOL].acquire() as conn:
        rows = await store.visible(conn, current(request).manager.id)
        for row in rows:
            held, changes = await _count(conn, request, row)
            counts[str(row["id"])] = held
            if changes is not None and (changes_at is None or changes < changes_at):
                changes_at = changes
    out = ViewList(items=[view_out(r) for r in rows], counts=counts, changes_at=changes_at)
    return responses.json_response(out)


@routes.post(VIEWS)
async def add_view(request: web.Request) -> web.Response:
    session = current(request)
    body = ViewBody.model_validate_json(await request.read())
    if body.shared and session.manager.role != "admin":
        raise responses.forbidden("Only admins may share a view with the team")
    owner = None if body.shared else session.manager.id
    async with request.app[POOL].acquire() as conn, conn.transaction():
        # The labels first, then the views, as a label's removal takes them: never a deadlock.
        await _check(conn, body.filters)
        # Two views added at once are counted one after the other.
        await store.lock(conn)
        if await store.count(conn, owner) >= LIMIT:
            whose = "the team's" if owner is None else "your own"
            raise responses.conflict(f"At most {LIMIT} views of {whose}")
        try:
            row = await store.create(
                conn, owner, body.name, _stored(body.filters), session.manager.id
            )
        except store.NameTaken:
            raise _taken(body.name) from None
        await feed.record(conn, [("view.updated", row["id"])])
    async with request.app[POOL].acquire() as conn:  # counted once the lock is let go
        held, changes_at = await _count(conn, request, row)
    out = ViewCounted(view=view_out(row), count=held, changes_at=changes_at)
    return responses.json_response(out, status=201)


@routes.patch(VIEW)
async def change_view(request: web.Request) -> web.Response:
    body = ViewPatch.model_validate_json(await request.read())
    changes: dict[str, Any] = {}
    if body.name is not None:
        changes["name"] = body.name
    if body.filters is not None:
        changes["filters"] = _stored(body.filters)
    if not changes:
        raise responses.bad_request("Nothing to change")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        view_id = (await _editable(conn, request))["id"]
        if body.filters is not None:
            await _check(conn, body.filters)
        try:
            row = await store.update(conn, view_id, changes)
        except store.NameTaken:
            raise _taken(changes["name"]) from None
        assert row is not None  # held since _editable
        await feed.record(conn, [("view.updated", row["id"])])
        held, changes_at = await _count(conn, request, row)
    return responses.json_response(
        ViewCounted(view=view_out(row), count=held, changes_at=changes_at)
    )


@routes.delete(VIEW)
async def delete_view(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn, conn.transaction():
        view_id = (await _editable(conn, request))["id"]
        await store.delete(conn, view_id)
        await feed.record(conn, [("view.deleted", view_id)])
    return responses.json_response({"deleted": True})
