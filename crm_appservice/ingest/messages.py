"""A message event as its record, and the marks by which the CRM knows its own events."""

from __future__ import annotations

from typing import Any

from .content import BIGINT_MAX, MessageContent, preview
from .namespaces import Namespaces
from .records import MessageRecord

# Put by the outbox into the content of every event it sends: when the event comes back in a
# transaction, it is matched to the row it was sent for (a message, a reaction, an edit) instead
# of stored a second time.
CRM_MESSAGE_KEY = "com.crm_appservice.message_id"
CRM_REACTION_KEY = "com.crm_appservice.reaction_id"
CRM_EDIT_KEY = "com.crm_appservice.edit_id"
# What the transaction endpoint puts in place of an event it could not read as JSON (its text
# is kept under this key): stored raw, flagged, never mapped.
UNREADABLE_KEY = "com.crm_appservice.unreadable"


def crm_id(event: dict[str, Any], key: str, ns: Namespaces) -> int | None:
    """The id of the row an event of the CRM's own user was sent for (None for anyone else's:
    another user could put the key into an event too)."""
    if not ns.is_crm_user(event["sender"]):
        return None
    value = event["content"].get(key)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= BIGINT_MAX:
        return value
    return None


def message_record(
    event: dict[str, Any], content: MessageContent, ns: Namespaces, reply_to: str | None
) -> MessageRecord:
    sender: str = event["sender"]
    record: MessageRecord = {
        "event_id": event["event_id"],
        "room_id": event["room_id"],
        "sender": sender,
        "from_crm": ns.is_crm_user(sender),
        "crm_id": crm_id(event, CRM_MESSAGE_KEY, ns),
        "kind": content.kind,
        "body": content.body,
        "html": content.html,
        "preview": preview(content),
        "latitude": content.latitude,
        "longitude": content.longitude,
        "reply_to": reply_to,
        "ts": event["origin_server_ts"],
    }
    media = content.media
    if media:  # absent keys are NULL to the store: most messages are text
        record["media_url"] = media.url
        record["media_mimetype"] = media.mimetype
        record["media_size"] = media.size
        record["media_width"] = media.width
        record["media_height"] = media.height
        record["media_duration_ms"] = media.duration_ms
        record["media_filename"] = media.filename
        record["thumbnail_url"] = media.thumbnail_url
        record["thumbnail_mimetype"] = media.thumbnail_mimetype
        record["thumbnail_width"] = media.thumbnail_width
        record["thumbnail_height"] = media.thumbnail_height
    return record
