"""The records a transaction's events are sorted into: one list per kind, each written by one
set-based statement of the store (see store/ingest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NotRequired, TypedDict


class RawRecord(TypedDict):
    event_id: str | None
    room_id: str | None
    event_type: str | None
    sender: str | None
    is_ephemeral: bool
    # Where the event is in the transaction body: the store copies it from there, so the
    # event's JSON is neither encoded again nor sent to the database twice.
    source: str
    idx: int
    error: str | None


class PortalRecord(TypedDict):
    room_id: str
    platform: str
    remote_chat_id: str
    kind: str
    channel_name: str | None
    bridge_bot: str  # the state event's sender, a configured bridge bot
    receiver: str | None
    # In a one-to-one chat, the remote id of the customer's ghost (from the chat's id): any
    # other ghost writing there is the business's own number.
    customer_remote_id: str | None
    avatar_url: str | None


class TombstoneRecord(TypedDict):
    room_id: str
    replacement_room: str  # the portal the bridge merged this room into


class RoomNameRecord(TypedDict):
    room_id: str
    name: str | None


class ContactRecord(TypedDict):
    room_id: str
    mxid: str
    remote_id: str
    display_name: str | None
    avatar_url: str | None
    from_message: bool  # only a message's sender: nothing to update once the contact exists


class MessageRecord(TypedDict):
    event_id: str
    room_id: str
    sender: str
    from_crm: bool
    crm_id: int | None
    kind: str
    body: str | None
    html: str | None
    preview: str | None
    # Only media messages have these (an absent key is NULL to the store).
    media_url: NotRequired[str | None]
    media_mimetype: NotRequired[str | None]
    media_size: NotRequired[int | None]
    media_width: NotRequired[int | None]
    media_height: NotRequired[int | None]
    media_duration_ms: NotRequired[int | None]
    media_filename: NotRequired[str | None]
    thumbnail_url: NotRequired[str | None]
    thumbnail_mimetype: NotRequired[str | None]
    thumbnail_width: NotRequired[int | None]
    thumbnail_height: NotRequired[int | None]
    latitude: float | None
    longitude: float | None
    reply_to: str | None
    ts: int


class EditRecord(TypedDict):
    event_id: str
    room_id: str
    target: str
    sender: str
    crm_id: int | None
    body: str | None
    html: str | None
    preview: str | None
    ts: int


class ReactionRecord(TypedDict):
    event_id: str
    room_id: str
    target: str
    sender: str
    crm_id: int | None
    key: str
    ts: int


class RedactionRecord(TypedDict):
    event_id: str
    room_id: str
    redacts: str
    sender: str
    ts: int


class StatusRecord(TypedDict):
    room_id: str
    sender: str  # a bridge bot: it counts only if it is the room's
    target: str
    signal: str  # one of delivery.SIGNALS
    error: str | None


class ReceiptRecord(TypedDict):
    room_id: str
    event_id: str
    user_id: str
    ts: int


class InviteRecord(TypedDict):
    room_id: str
    inviter: str
    accept: bool


@dataclass
class Batch:
    """One transaction's records, each list written by one statement."""

    raw: list[RawRecord] = field(default_factory=list)
    # What the bridges append to ghosts' names (config), also taken off names read back in SQL.
    name_suffixes: list[str] = field(default_factory=list)
    portals: dict[str, PortalRecord] = field(default_factory=dict)
    room_names: dict[str, RoomNameRecord] = field(default_factory=dict)
    tombstones: dict[str, TombstoneRecord] = field(default_factory=dict)
    contacts: dict[str, ContactRecord] = field(default_factory=dict)
    messages: list[MessageRecord] = field(default_factory=list)
    edits: list[EditRecord] = field(default_factory=list)
    reactions: list[ReactionRecord] = field(default_factory=list)
    redactions: list[RedactionRecord] = field(default_factory=list)
    statuses: list[StatusRecord] = field(default_factory=list)
    receipts: list[ReceiptRecord] = field(default_factory=list)
    invites: dict[str, InviteRecord] = field(default_factory=dict)
