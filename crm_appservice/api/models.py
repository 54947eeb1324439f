"""The bodies the API accepts and the resources it answers with (pydantic models).

The OpenAPI document and the web inbox's types come from these; a field added here is a field
added to the contract.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error instead of a silent no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginBody(Body):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class TokenBody(Body):
    label: str = Field(min_length=1, max_length=100)


class ManagerOut(BaseModel):
    id: int
    email: str
    name: str
    role: Literal["admin", "manager"]


class LoginOut(BaseModel):
    manager: ManagerOut
    csrf_token: str | None = None


class TokenOut(BaseModel):
    id: int
    label: str | None
    created_at: datetime
    last_seen_at: datetime


class NewTokenOut(BaseModel):
    id: int
    label: str
    token: str = Field(description="Shown once: send it as `Authorization: Bearer <token>`")


class ContactOut(BaseModel):
    id: int
    display_name: str | None
    phone: str | None
    avatar_url: str | None


class SenderOut(BaseModel):
    type: Literal["contact", "manager", "system"]
    id: int | None
    name: str | None


class MediaOut(BaseModel):
    url: str
    thumbnail_url: str | None
    mimetype: str | None
    size: int | None
    width: int | None
    height: int | None
    duration_ms: int | None
    filename: str | None


class LocationOut(BaseModel):
    latitude: float
    longitude: float


class ReactionOut(BaseModel):
    key: str
    count: int
    mine: bool


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    event_id: str | None
    client_txn_id: str | None
    direction: Literal["in", "out"]
    sender: SenderOut
    kind: str
    body: str | None
    html: str | None
    media: MediaOut | None
    location: LocationOut | None
    reply_to: int | None
    reactions: list[ReactionOut]
    status: str | None
    error: str | None
    edited_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime


class MessagePreviewOut(BaseModel):
    id: int
    text: str | None
    created_at: datetime | None


class ConversationOut(BaseModel):
    id: int
    platform: str
    kind: Literal["dm", "group"]
    room_id: str
    title: str | None
    status: Literal["open", "pending", "resolved", "snoozed"]
    snoozed_until: datetime | None
    assignee_id: int | None
    is_archived: bool
    unread_count: int
    last_message_at: datetime | None
    last_message: MessagePreviewOut | None
    contact: ContactOut | None


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class CountsOut(BaseModel):
    mine: int
    unassigned: int
    all_open: int
