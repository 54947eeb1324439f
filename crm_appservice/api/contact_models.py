"""What the Contacts page and a contact's own page send and receive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, EmailStr, Field

from ..phones import NotAPhoneNumber, to_e164
from .label_models import LabelQuery
from .models import Body, ContactOut, ConversationOut, Omit, OneLine, Out, Patch
from .order_models import OrderOut
from .view_models import Who


def _no_nul(value: str) -> str:
    """PostgreSQL's text (and jsonb) cannot hold a NUL: refused here, never a 500 there."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _e164(value: str) -> str:
    """A number a manager typed, as every stored number is spelt (E.164, by libphonenumber):
    with its country code, since a contact has no country to read a local number for."""
    try:
        return to_e164(value)
    except NotAPhoneNumber as error:
        raise ValueError(str(error)) from None


AttributeName = Annotated[OneLine, Field(min_length=1, max_length=64)]
AttributeText = Annotated[str, AfterValidator(_no_nul), Field(max_length=2000)]
Attributes = Annotated[
    dict[AttributeName, AttributeText | int | float | bool | None], Field(max_length=100)
]


class PhoneOut(Out):
    phone: str
    first_seen: datetime
    last_seen: datetime


_NAME = Field(description="What the contact is called: their name, else their number")


class TimelineItemOut(Out):
    at: datetime
    kind: Literal["conversation", "assignee", "status", "archived", "note", "order", "merge"]
    conversation_id: int | None
    actor_name: str | None = Field(description="Who did it: null for the customer or the system")
    text: str | None = Field(
        description="conversation: its title; assignee: the new assignee (null: unassigned); "
        "status: the new status; archived: true/false; note: its text; order: number, total, "
        "status; merge: the contact merged in"
    )


class ContactDetailOut(ContactOut):
    name: str = _NAME
    platform: str
    remote_id: str
    attributes: dict[str, Any]
    label_ids: list[int] = Field(description="Its labels (/labels), in the order they were added")
    owner_id: int | None = Field(description="The manager whose customer this is")
    owner_name: str | None
    created_at: datetime
    updated_at: datetime
    phones: list[PhoneOut] = Field(
        description="Every number this person has had, newest first (phone is the current one)"
    )
    conversations: list[ConversationOut] = Field(
        description="All of the contact's conversations, on every number, newest first"
    )
    orders: list[OrderOut] = Field(description="Newest first")
    merges: list[MergeRecordOut] = Field(description="Contacts merged into this one, newest first")
    timeline: list[TimelineItemOut] = Field(
        description="The newest 100 events of every conversation, its notes, orders and merges"
    )


class ContactPatch(Patch):
    NULLABLE = frozenset({"display_name", "phone", "email", "owner_id"})

    display_name: OneLine | None = Field(default=None, min_length=1, max_length=200)
    phone: Annotated[str, AfterValidator(_e164)] | None = Field(
        default=None, pattern=r"^\+?[0-9 ()\-]{5,25}$"
    )
    email: EmailStr | None = Field(default=None, max_length=320)
    attributes: Attributes | Omit = Field(
        default=None,
        description="Those given, each checked against its definition "
        "(/contact-attributes); null removes one (also one no longer defined)",
    )
    owner_id: int | None = Field(
        default=None, ge=1, description="An active manager; null: nobody's customer"
    )


class ContactFilterQuery(LabelQuery):
    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="A part of the name, a number (any of the person's, written any way), "
        "the e-mail address or an attribute's value",
    )
    sort: Literal["name", "newest"] = "name"
    owner: Who | None = Field(default=None, description="me: My customers")
    number: str | None = Field(
        default=None, pattern=r"^[0-9]{5,20}$", description="With a conversation on this number"
    )
    attribute: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list,
        max_length=5,
        description="Repeatable: key=value, key>=value, key<=value (numbers and dates), or key "
        "alone (has a value); values written as a person would (31.12.2026, 1 500, yes)",
    )


class ContactListQuery(ContactFilterQuery):
    cursor: str | None = Field(default=None, max_length=300)
    limit: int = Field(default=50, ge=1, le=100)


class ContactListItem(ContactOut):
    name: str = _NAME
    owner_id: int | None
    owner_name: str | None
    label_ids: list[int]
    created_at: datetime
    conversation_count: int
    last_message_at: datetime | None = Field(description="The newest message of any of its chats")


class ContactPage(Out):
    items: list[ContactListItem]
    next_cursor: str | None


class MergeRecordOut(Out):
    id: int
    gone_id: int = Field(description="The contact merged into this one")
    gone_name: str
    merged_by: int | None
    merged_by_name: str | None
    merged_at: datetime
    undone_at: datetime | None
    can_undo: bool = Field(
        description="The viewer may undo it now: its merger or an admin, and not undone"
    )


class DuplicateOut(ContactOut):
    name: str = _NAME
    reasons: list[Literal["email", "name", "phone"]] = Field(
        description="Why it looks like the same person: a shared number or e-mail address, "
        "the same name (and a number ending alike, or none)"
    )


class DuplicateList(Out):
    items: list[DuplicateOut]


class MergeBody(Body):
    contact_id: int = Field(ge=1, le=10**18 - 1, description="The contact merged into this one")


class MergeOut(Out):
    merge_id: int
    contact: ContactDetailOut
