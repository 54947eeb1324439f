"""The inbox: conversation lists, tab counts, the conversation bundle, message pages, and a
manager's changes to a conversation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
import asyncpg
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..keys import POOL, SETTINGS
from ..store import (
    actions,
    conversations as store,
    deals as deal_store,
    drafts,
    feed,
    history,
    labels as label_store,
    messages as message_store,
    notes as note_store,
    orders as order_store,
    search,
)
from . import cursors, responses
from .contacts import order_out
from .deal_models import DealOut
from .middleware import current, ensure_visible, ids, query_of, restricted_to
from .models import (
    ConversationContactOut,
    ConversationOut,
    ConversationPage,
    CountsOut,
    MessagePage,
    NoteBody,
    NoteOut,
    Omit,
    Out,
    Patch,
)
from .order_models import OrderOut
from .resources import (
    conversation_fields,
    conversation_out,
    deal_out,
    excerpt,
    message_fields,
    note_out,
)
from .view_models import ConversationFilters, who

routes = web.RouteTableDef()
CONVERSATION = ids("/api/v1/conversations/{conversation_id:id}")


class ListQuery(ConversationFilters):
    archived: bool = False
    q: str | None = Field(default=None, min_length=1, max_length=200)
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=100)


def list_filters(
    f: ConversationFilters,
    me: int,
    visible_to: int | None,
    archived: bool = False,
    q: str | None = None,
) -> store.Filters:
    """The store's filters of a list query or a saved view, for the manager `me` (who sees
    only their own and unassigned conversations when `visible_to` is set)."""
    return store.Filters(
        archived=archived,
        status=f.status,
        assignee=who(f.assignee, me),
        unassigned=f.assignee == "none",
        platform=f.platform,
        number=f.number,
        unread=f.unread,
        q=q,
        labels=tuple(f.label),
        all_labels=f.label_match == "all",
        owner=who(f.owner, me),
        unowned=f.owner == "none",
        waiting=f.waiting,
        waiting_hours=f.waiting_hours,
        visible_to=visible_to,
    )


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=100)


class ConversationPatch(Patch):
    NULLABLE = frozenset({"assignee_id"})  # null: unassigned

    status: Literal["open", "pending", "resolved", "snoozed"] | Omit = None
    snoozed_until: datetime | Omit = Field(default=None, description="With status snoozed")
    assignee_id: int | None = Field(default=None, ge=1, le=999_999_999_999_999_999)
    is_archived: bool | Omit = None

    @model_validator(mode="after")
    def _snooze(self) -> ConversationPatch:
        if "snoozed_until" in self.model_fields_set and self.status != "snoozed":
            raise ValueError("snoozed_until goes with status snoozed")
        if self.status == "snoozed":
            if self.snoozed_until is None:
                raise ValueError("snoozed_until is required to snooze")
            until = self.snoozed_until
            if until.tzinfo is None:
                raise ValueError("snoozed_until needs a time zone")
            if until <= datetime.now(UTC):
                raise ValueError("snoozed_until must be in the future")
        return self


class BundleOut(Out):
    """Everything the conversation screen shows, so opening one is one request."""

    conversation: ConversationOut
    contact: ConversationContactOut | None
    orders: list[OrderOut]
    deals: list[DealOut] = Field(description="The contact's open deals")
    notes: list[NoteOut]
    messages: MessagePage
    draft: str | None = Field(description="Your unsent reply here (PUT …/draft keeps it)")


def _conversation_id(request: web.Request) -> int:
    return int(request.match_info["conversation_id"])


async def visible_conversation(conn: Any, request: web.Request) -> asyncpg.Record:
    """The conversation of the path, if it exists and the manager may see it; else 404."""
    row = await store.get(conn, _conversation_id(request))
    if row is None:
        raise responses.not_found("conversation")
    ensure_visible(request, row["assignee_id"], "conversation")
    return row


async def _message_page(
    conn: Any, request: web.Request, conversation_id: int, query: PageQuery
) -> MessagePage:
    before = None
    if query.cursor:
        before = cursors.moment(query.cursor)
    rows, more = await message_store.page(conn, conversation_id, before, query.limit)
    next_cursor = cursors.encode(rows[0]["created_at"], rows[0]["id"]) if more and rows else None
    # The conversation's changes in the time this page spans: after its oldest message (all
    # before it, on the last page) and up to where the newer page began (now, on the first).
    changes = await history.between(
        conn,
        conversation_id,
        rows[0]["created_at"] if more and rows else None,
        before[0] if before else None,
    )
    viewer = current(request).manager.id
    return MessagePage.model_validate(
        {
            "items": [message_fields(r, viewer) for r in rows],
            "history": [dict(r) for r in changes],
            "next_cursor": next_cursor,
        }
    )


@routes.get("/api/v1/conversations")
async def list_conversations(request: web.Request) -> web.Response:
    query = ListQuery.model_validate(query_of(request, "label"))
    me = current(request).manager.id
    filters = list_filters(query, me, restricted_to(request), query.archived, query.q)
    cursor = cursors.moment_or_none(query.cursor) if query.cursor else None
    async with request.app[POOL].acquire() as conn:
        (rows, more), matches = await store.search_page(conn, filters, cursor, query.limit)
    next_cursor = None
    if more and rows:
        next_cursor = cursors.encode(rows[-1]["last_message_at"], rows[-1]["id"])
    items = []
    for row in rows:
        fields = conversation_fields(row)
        found = matches.get(row["id"])
        if found is not None and query.q:
            fields["match"] = {
                "id": found["id"],
                "direction": found["direction"],
                "manager_id": found["sender_manager_id"],
                "manager_name": found["manager_name"],
                "kind": found["kind"],
                "filename": found["media_filename"],
                "duration_ms": found["media_duration_ms"],
                "deleted": found["deleted_at"] is not None,
                "text": excerpt(found["body"] or "", query.q),
                "created_at": found["created_at"],
            }
        items.append(fields)
    page = ConversationPage.model_validate(
        {"items": items, "next_cursor": next_cursor, "words": search.words(query.q or "")}
    )
    return responses.json_response(page)


@routes.get("/api/v1/conversations/counts")
async def counts(request: web.Request) -> web.Response:
    restricted = restricted_to(request)
    async with request.app[POOL].acquire() as conn:
        row = await store.counts(conn, current(request).manager.id, restricted is not None)
        labelled = await label_store.open_counts(conn, restricted)
    return responses.json_response(
        CountsOut(**dict(row), labels={str(k): n for k, n in sorted(labelled.items())})
    )


@routes.get(CONVERSATION)
async def bundle(request: web.Request) -> web.Response:
    """Everything the conversation screen needs, in one request."""
    conversation_id = _conversation_id(request)
    async with request.app[POOL].acquire() as conn:
        row = await visible_conversation(conn, request)
        conversation = conversation_out(row)
        contact_id = row["contact_id"]
        orders = await order_store.orders(conn, contact_id) if contact_id else []
        deals = (
            await deal_store.of_contact(conn, contact_id, restricted_to(request), open_only=True)
            if contact_id
            else []
        )
        notes = await note_store.notes(conn, conversation_id)
        messages = await _message_page(conn, request, conversation_id, PageQuery())
        draft = await drafts.get(conn, current(request).manager.id, conversation_id)
    return responses.json_response(
        BundleOut(
            conversation=conversation,
            contact=conversation.contact,
            orders=[order_out(o) for o in orders],
            deals=[deal_out(d) for d in deals],
            notes=[note_out(n) for n in notes],
            messages=messages,
            draft=draft,
        )
    )


@routes.post(CONVERSATION + "/notes")
async def add_note(request: web.Request) -> web.Response:
    conversation_id = _conversation_id(request)
    body = NoteBody.model_validate_json(await request.read())
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await visible_conversation(conn, request)
        row = await note_store.add_note(
            conn, conversation_id, current(request).manager.id, body.body
        )
        await feed.record(conn, [("note.created", row["id"])])
    return responses.json_response(note_out(row), status=201)


@routes.get(CONVERSATION + "/messages")
async def messages(request: web.Request) -> web.Response:
    conversation_id = _conversation_id(request)
    query = PageQuery.model_validate(dict(request.query))
    async with request.app[POOL].acquire() as conn:
        await visible_conversation(conn, request)
        page = await _message_page(conn, request, conversation_id, query)
    return responses.json_response(page)


@routes.post(CONVERSATION + "/read")
async def read(request: web.Request) -> web.Response:
    conversation_id = _conversation_id(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await visible_conversation(conn, request)
        unread = await store.mark_read(conn, conversation_id)
        if unread is None:
            raise responses.not_found("conversation")
        if unread and request.app[SETTINGS].outbox.read_receipts:
            # The customer sees their messages read, as when the phone's owner opens the chat.
            await actions.queue_read_receipt(conn, conversation_id)
        await feed.record(conn, [("conversation.updated", conversation_id)])
        row = await store.get(conn, conversation_id)
    assert row is not None
    return responses.json_response(conversation_out(row))


@routes.patch(CONVERSATION)
async def patch(request: web.Request) -> web.Response:
    conversation_id = _conversation_id(request)
    body = ConversationPatch.model_validate_json(await request.read())
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise responses.bad_request("Nothing to change")
    if "status" in changes and changes["status"] != "snoozed":
        changes["snoozed_until"] = None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        assignee = changes.get("assignee_id")
        if assignee is not None and not await store.manager_is_active(conn, assignee):
            raise responses.invalid("assignee_id", "No active manager with that id")
        await visible_conversation(conn, request)
        if not await store.update(conn, conversation_id, changes, current(request).manager.id):
            raise responses.not_found("conversation")
        await feed.record(conn, [("conversation.updated", conversation_id)])
        row = await store.get(conn, conversation_id)
    assert row is not None
    return responses.json_response(conversation_out(row))
