"""What mautrix bridges put in their rooms and what it means, read from their sources
(mautrix-go's bridgev2 and event/, mautrix-whatsapp's pkg/connector and pkg/waid)."""

from __future__ import annotations

import re
from typing import Any

from .content import opt_str

# The bridge's error notices (bridgev2 messagestatus.go, ToNoticeEvent): certain, or not sure.
BRIDGE_ERROR_PREFIXES = (
    "⚠️ Your message was not bridged",
    "⚠️ Your message may not have been bridged",
)
# What a manager reads for a failed send status without a message of its own (bridgev2's
# MessageStatusReason values); a generic failure's detail is in `internal_error`.
FAILURE_REASONS = {
    "m.foreign_network_error": "WhatsApp did not accept the message",
    "m.no_permission": "Sending in this chat is not allowed",
    "m.bridge_unavailable": "The WhatsApp bridge is not connected",
    "m.event_too_old": "The message was too old to be sent",
    "com.beeper.unsupported_event": "WhatsApp does not support this kind of message",
    "m.event_not_handled": "The WhatsApp bridge could not send the message",
}
FAILURE_DETAIL_LENGTH = 300
# The key of the WhatsApp login a portal belongs to, in the bridge state's `channel`
# (mautrix-go event/state.go, BridgeInfoSection.Receiver).
RECEIVER_KEY = "fi.mau.receiver"
# A LID ghost's remote id (pkg/waid: `lid-<digits>`), and a number as the bridge writes one.
LID_ID = re.compile(r"lid-[0-9]{1,24}")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Chat ids of bridged rooms that are no chat with a customer: the status broadcasts, and the
# personal filtering space of a login (bridgev2 space.go).
NOT_CHATS = frozenset({"status@broadcast", "__personal_filtering_space__"})
# Room types (`com.beeper.room_type.v2`) of bridged rooms that are no chat: a login's personal
# filtering space is "personal_filtering_space" (bridgev2 space.go), a community "space".
NOT_CHAT_ROOM_TYPES = frozenset({"space", "personal_filtering_space"})
# What a ghost is called when WhatsApp gave no name (the display name template's last choices,
# pkg/connector/config.go: `{{or .BusinessName .PushName .Phone .RedactedPhone "Unknown user"}}`):
# a phone with its middle digits as "∙" (redactPhone), or "Unknown user".
REDACTED_DIGIT = "∙"
UNKNOWN_NAME = "Unknown user"


def placeholder_name(name: str) -> bool:
    """Whether a name only stands in for one WhatsApp did not give: any real name, or the
    phone number itself, is better."""
    return REDACTED_DIGIT in name or name == UNKNOWN_NAME


# pkg/msgconv/wa-location.go: "Location: <name>\n<address>\n<maps link>" (the name is the
# coordinates when the sender gave none).
LOCATION_PREFIX = "Location: "


def location_text(body: str | None) -> str | None:
    """A location's name and address, without the bridge's label and the maps link (the
    inbox links the coordinates itself)."""
    if not body or not body.startswith(LOCATION_PREFIX):
        return body
    lines = body[len(LOCATION_PREFIX) :].split("\n")
    if len(lines) > 1 and lines[-1].startswith(("https://", "http://")):
        lines.pop()
    return "\n".join(line for line in lines if line.strip()) or None


def placeholder_name_sql(column: str) -> str:
    """placeholder_name as SQL, for the statements that keep a contact's best name."""
    return f"(strpos({column}, '{REDACTED_DIGIT}') > 0 OR {column} = '{UNKNOWN_NAME}')"


def failure_reason(content: dict[str, Any]) -> str:
    """A readable reason of a failed send status that has no message: the bridge's reason in
    words, with its internal error as the detail (a generic failure says only
    `m.event_not_handled` and puts what happened there)."""
    reason = opt_str(content, "reason")
    text = FAILURE_REASONS.get(reason or "", "The WhatsApp bridge could not send the message")
    detail = opt_str(content, "internal_error")
    if detail:
        text = f"{text}: {' '.join(detail.split())[:FAILURE_DETAIL_LENGTH]}"
    return text


def customer_remote_id(platform: str, chat_id: str) -> str | None:
    """The remote id of the ghost a one-to-one chat is with, where the bridge's ids say it:
    mautrix-whatsapp keys a DM by the customer's JID, `<n>@lid` (ghost `lid-<n>`) or
    `<digits>@s.whatsapp.net` (ghost `<digits>`)."""
    if platform != "whatsapp":
        return None
    user, _, server = chat_id.partition("@")
    if not user or not user.isdigit():
        return None
    if server == "lid":
        return f"lid-{user}"
    return user if server == "s.whatsapp.net" else None
