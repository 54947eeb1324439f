"""Store rows as the API's resources (Conversation, Message, Note), for the handlers' answers
and for the live frames, which carry the same resources."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from ..ingest.mautrix import placeholder_name
from ..media.urls import media_urls
from ..store import pipelines as pipeline_store, search, views as view_store
from .deal_models import DealOut, PipelineOut
from .label_models import LabelOut
from .models import ConversationOut, HistoryOut, MessageOut, NoteOut
from .view_models import ConversationFilters, ViewOut


def title(row: asyncpg.Record) -> str | None:
    """What a conversation is called. A one-to-one chat is its customer: their name (the room's
    is the same name as the bridge had it), and where WhatsApp gave none, the phone number
    before a stand-in ("Unknown user", "+1∙∙∙∙∙∙∙∙80"), which is still better than nothing."""
    names = [row["title"], row["contact_name"]]
    if row["kind"] == "dm":
        names.reverse()
    names = [n for n in names if n]
    real = next((n for n in names if not placeholder_name(n)), None)
    return real or row["contact_phone"] or next(iter(names), None)


def conversation_fields(row: asyncpg.Record) -> dict[str, Any]:
    """The Conversation resource of a store row, as plain data: a page of them is then
    validated by its model in one call, instead of three model instances built per row."""
    contact_id, last_id = row["contact_id"], row["last_message_id"]
    return {
        "id": row["id"],
        "version": row["version"],
        "platform": row["platform"],
        "kind": row["kind"],
        "room_id": row["room_id"],
        "title": title(row),
        "status": row["status"],
        "snoozed_until": row["snoozed_until"],
        "assignee_id": row["assignee_id"],
        "assignee_name": row["assignee_name"],
        "is_archived": row["is_archived"],
        "label_ids": row["label_ids"],
        "merged_into": row["merged_into"],
        "number": None
        if row["receiver"] is None
        else {"login_id": row["receiver"], "name": row["number_name"]},
        "unread_count": row["unread_count"],
        "last_message_at": row["last_message_at"],
        "waiting_since": None if row["last_message_out"] else row["last_message_at"],
        "last_message": None
        if last_id is None
        else {
            "id": last_id,
            "direction": "out" if row["last_message_out"] else "in",
            "manager_id": row["last_message_manager_id"],
            "manager_name": row["last_message_manager_name"],
            "kind": row["last_message_kind"],
            "filename": row["last_message_filename"],
            "duration_ms": row["last_message_duration_ms"],
            "deleted": row["last_message_deleted"],
            "text": row["last_message_preview"],
            "created_at": row["last_message_at"],
        },
        "contact": None
        if contact_id is None
        else {
            "id": contact_id,
            "display_name": row["contact_name"],
            "phone": row["contact_phone"],
            "email": row["contact_email"],
            "avatar_url": row["contact_avatar_url"],
            "owner_id": row["contact_owner_id"],
        },
    }


EXCERPT_BEFORE = 30
EXCERPT_LENGTH = 140


def excerpt(text: str, q: str) -> str:
    """A search hit's text as the list shows it: from a little before the first word that
    starts like one of the query's words, on one line, so the hit is in view."""
    text = " ".join(text.split())
    prefixes = search.words(q)
    start = 0
    for found in search.WORD.finditer(text):
        if any(found.group().lower().startswith(p) for p in prefixes):
            start = found.start()
            break
    if start <= EXCERPT_BEFORE:
        return text[:EXCERPT_LENGTH]
    # From the first word that begins in the EXCERPT_BEFORE characters before the hit.
    space = text.find(" ", start - EXCERPT_BEFORE, start)
    cut = space + 1 if space >= 0 else start - EXCERPT_BEFORE
    return "…" + text[cut : cut + EXCERPT_LENGTH]


def conversation_out(row: asyncpg.Record) -> ConversationOut:
    return ConversationOut.model_validate(conversation_fields(row))


def note_out(row: asyncpg.Record) -> NoteOut:
    return NoteOut.model_validate(dict(row))


def _sender(row: asyncpg.Record) -> dict[str, Any]:
    if row["sender_manager_id"] is not None:
        return {"type": "manager", "id": row["sender_manager_id"], "name": row["manager_name"]}
    if row["sender_contact_id"] is not None and not row["from_bridge"]:
        return {"type": "contact", "id": row["sender_contact_id"], "name": row["contact_name"]}
    if row["direction"] == "out" and not row["from_bridge"]:
        return {"type": "manager", "id": None, "name": None}
    return {"type": "system", "id": None, "name": None}


def message_fields(row: asyncpg.Record, viewer_id: int) -> dict[str, Any]:
    """The Message resource of a store row as `viewer_id` sees it (their own reactions are
    `mine`), as plain data for its model (see conversation_fields)."""
    deleted = row["deleted_at"] is not None
    media = None
    # An attachment still on its way to the homeserver has its type and name already.
    if (row["media_url"] or row["media_mimetype"]) and not deleted:
        url, thumbnail = media_urls(
            row["id"], row["kind"], row["media_mimetype"], row["thumbnail_url"]
        )
        media = {
            "url": url,
            "thumbnail_url": thumbnail,
            "mimetype": row["media_mimetype"],
            "size": row["media_size"],
            "width": row["media_width"],
            "height": row["media_height"],
            "duration_ms": row["media_duration_ms"],
            "filename": row["media_filename"],
        }
    location = None
    if row["latitude"] is not None and not deleted:
        location = {"latitude": row["latitude"], "longitude": row["longitude"]}
    reactions = orjson.loads(row["reactions"]) if not deleted else []
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "version": row["version"],
        "event_id": row["event_id"],
        "client_txn_id": row["client_txn_id"],
        "direction": row["direction"],
        "channel": row["channel"],
        "sender": _sender(row),
        "kind": row["kind"],
        "body": None if deleted else row["body"],
        "html": None if deleted else row["html"],
        "media": media,
        "location": location,
        "reply_to": row["reply_to_id"],
        "reactions": [
            {"key": r["key"], "count": r["count"], "mine": viewer_id in r["managers"]}
            for r in reactions
        ],
        "status": row["status"],
        "error": row["error"],
        "edited_at": row["edited_at"],
        "deleted_at": row["deleted_at"],
        "created_at": row["created_at"],
    }


def message_out(row: asyncpg.Record, viewer_id: int) -> MessageOut:
    return MessageOut.model_validate(message_fields(row, viewer_id))


def view_out(row: asyncpg.Record) -> ViewOut:
    return ViewOut(
        id=row["id"],
        name=row["name"],
        shared=row["owner_id"] is None,
        filters=ConversationFilters.model_validate(view_store.filters_of(row)),
        updated_at=row["updated_at"],
    )


def pipeline_out(row: asyncpg.Record) -> PipelineOut:
    return PipelineOut.model_validate(
        {
            **dict(row),
            "stages": pipeline_store.stages_of(row),
            "lost_reasons": pipeline_store.reasons_of(row),
        }
    )


def deal_fields(row: asyncpg.Record) -> dict[str, Any]:
    fields = dict(row)
    contact_id = fields.pop("contact_id")
    name, phone = fields.pop("contact_name"), fields.pop("contact_phone")
    fields["contact"] = (
        None if contact_id is None else {"id": contact_id, "display_name": name, "phone": phone}
    )
    return fields


def deal_out(row: asyncpg.Record) -> DealOut:
    return DealOut.model_validate(deal_fields(row))


def render_live(event_type: str, row: asyncpg.Record, viewer_id: int) -> dict[str, Any]:
    """The `data` of a live frame: the same resource the REST API answers with."""
    if event_type.startswith("conversation."):
        return conversation_out(row).model_dump(mode="json")
    if event_type.startswith("note."):
        return note_out(row).model_dump(mode="json")
    if event_type.startswith("label."):
        return LabelOut.model_validate(dict(row)).model_dump(mode="json")
    if event_type.startswith("view."):
        return view_out(row).model_dump(mode="json")
    if event_type.startswith("deal."):
        return deal_out(row).model_dump(mode="json")
    if event_type.startswith("pipeline."):
        return pipeline_out(row).model_dump(mode="json")
    if event_type.startswith("history."):
        return HistoryOut.model_validate(dict(row)).model_dump(mode="json")
    return message_out(row, viewer_id).model_dump(mode="json")
