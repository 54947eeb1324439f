"""Events about other events: edits, reactions and redactions. Each names its target by event
id; the store applies it only within the target's own room (and a redaction only from its
sender or the room's bridge bot)."""

from __future__ import annotations

from typing import Any

from .content import BadEvent, parse_message, preview
from .fields import required
from .messages import CRM_EDIT_KEY, CRM_REACTION_KEY, crm_id
from .namespaces import Namespaces
from .records import Batch


def edit(
    batch: Batch,
    ns: Namespaces,
    event: dict[str, Any],
    event_type: str,
    content: dict[str, Any],
    relates: dict[str, Any],
) -> None:
    new_content = content.get("m.new_content")
    if not isinstance(new_content, dict):
        raise BadEvent("edit without m.new_content")
    parsed = parse_message(event_type, new_content)
    batch.edits.append(
        {
            "event_id": event["event_id"],
            "room_id": event["room_id"],
            "target": required(relates, "event_id", "$"),
            "sender": event["sender"],
            "crm_id": crm_id(event, CRM_EDIT_KEY, ns),
            "body": parsed.body,
            "html": parsed.html,
            "preview": preview(parsed),
            "ts": event["origin_server_ts"],
        }
    )


def reaction(batch: Batch, ns: Namespaces, event: dict[str, Any], content: dict[str, Any]) -> None:
    relates = content.get("m.relates_to")
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.annotation":
        raise BadEvent("m.reaction without an m.annotation relation")
    batch.reactions.append(
        {
            "event_id": event["event_id"],
            "room_id": event["room_id"],
            "target": required(relates, "event_id", "$"),
            "sender": event["sender"],
            "crm_id": crm_id(event, CRM_REACTION_KEY, ns),
            "key": required(relates, "key"),
            "ts": event["origin_server_ts"],
        }
    )


def redaction(batch: Batch, event: dict[str, Any], content: dict[str, Any]) -> None:
    redacts = event.get("redacts") or content.get("redacts")
    if not isinstance(redacts, str) or not redacts.startswith("$"):
        raise BadEvent("redaction without redacts")
    batch.redactions.append(
        {
            "event_id": event["event_id"],
            "room_id": event["room_id"],
            "redacts": redacts,
            "sender": event["sender"],
            "ts": event["origin_server_ts"],
        }
    )
