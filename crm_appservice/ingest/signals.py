"""What the bridge says of our messages' way: its send statuses, its error notices in reply to
a message, and the read receipts of its ghosts. Only the bridge's own word counts."""

from __future__ import annotations

from typing import Any

from .content import BadEvent
from .fields import optional, required
from .mautrix import BRIDGE_ERROR_PREFIXES, failure_reason
from .namespaces import Namespaces
from .records import Batch

SEND_STATUS_TYPE = "com.beeper.message_send_status"


def send_status(
    batch: Batch, ns: Namespaces, event: dict[str, Any], content: dict[str, Any]
) -> None:
    if not ns.is_bridge_bot(event["sender"]):
        raise BadEvent("send status not sent by a bridge bot")
    relates = content.get("m.relates_to")
    if not isinstance(relates, dict):
        raise BadEvent("send status without m.relates_to")
    target = required(relates, "event_id", "$")
    status = content.get("status")
    error = None
    if status == "SUCCESS":
        delivered = content.get("delivered_to_users")
        signal = "delivered" if isinstance(delivered, list) and delivered else "bridged"
    elif status in ("FAIL_RETRIABLE", "FAIL_PERMANENT"):
        signal = "bridge_failed"
        error = optional(content, "message") or failure_reason(content)
    elif status == "PENDING":
        return
    else:
        raise BadEvent("send status with an unknown status")
    batch.statuses.append(
        {
            "room_id": event["room_id"],
            "sender": event["sender"],
            "target": target,
            "signal": signal,
            "error": error,
        }
    )


def error_notice(
    batch: Batch,
    ns: Namespaces,
    event: dict[str, Any],
    content: dict[str, Any],
    reply_to: str | None,
) -> bool:
    """The bridge bot's notice that a message could not be sent (in reply to it); True if the
    event was one, recorded as that message's failure instead of a message."""
    body = content.get("body")
    if not (
        reply_to
        and content.get("msgtype") == "m.notice"
        and isinstance(body, str)
        and body.startswith(BRIDGE_ERROR_PREFIXES)
        and ns.is_bridge_bot(event["sender"])
    ):
        return False
    batch.statuses.append(
        {
            "room_id": event["room_id"],
            "sender": event["sender"],
            "target": reply_to,
            "signal": "bridge_failed",
            "error": body,
        }
    )
    return True


def receipts(batch: Batch, ns: Namespaces, edu: dict[str, Any]) -> None:
    room_id = required(edu, "room_id", "!")
    content = edu.get("content")
    if not isinstance(content, dict):
        raise BadEvent("receipt without content")
    for event_id, kinds in content.items():
        if not isinstance(kinds, dict) or not isinstance(event_id, str):
            continue
        readers = kinds.get("m.read")
        if not isinstance(readers, dict):
            continue
        for user_id, info in readers.items():
            if not isinstance(user_id, str) or not event_id.startswith("$"):
                continue
            if ns.ghost_remote_id(user_id) is None and not ns.is_bridge_bot(user_id):
                continue  # only the bridge's receipts say anything of a message's way
            ts = info.get("ts") if isinstance(info, dict) else None
            batch.receipts.append(
                {
                    "room_id": room_id,
                    "event_id": event_id,
                    "user_id": user_id,
                    "ts": ts if isinstance(ts, int) else 0,
                }
            )
