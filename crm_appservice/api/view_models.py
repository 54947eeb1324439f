"""The inbox list's filters, as a list query reads them and a saved view keeps them, and what
saved views are sent and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .label_models import LabelQuery
from .models import Body, OneLine, Out, Patch

Status = Literal["open", "pending", "resolved", "snoozed"]
# me: the viewer (each viewer of a shared view sees their own); none: nobody; a manager's id.
# ASCII digits only: `\d` would take other scripts' digits too, which int() reads as numbers.
Who = Annotated[str, Field(pattern=r"^(me|none|[0-9]{1,18})$")]


def who(value: str | None, me: int) -> int | None:
    """The manager a `Who` names for the viewer `me` (None: nobody, or not asked)."""
    return me if value == "me" else (int(value) if value and value != "none" else None)


# "No reply for more than N hours": up to a month.
WAITING_HOURS = 720


class ConversationFilters(LabelQuery):
    """Which conversations a list holds (search, archive and paging aside)."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    assignee: Who | None = Field(default=None, description="me, none or a manager's id")
    owner: Who | None = Field(
        default=None, description="The contact's owner: me, none (nobody's) or a manager's id"
    )
    platform: str | None = Field(default=None, max_length=64)
    number: str | None = Field(
        default=None, pattern=r"^[0-9]{5,20}$", description="A WhatsApp number's login id"
    )
    unread: bool = False
    waiting: bool = Field(default=False, description="Waiting for us: the customer wrote last")
    waiting_hours: int | None = Field(
        default=None,
        ge=1,
        le=WAITING_HOURS,
        description="Waiting for us for more than this many hours (implies waiting)",
    )


ViewName = Annotated[OneLine, Field(min_length=1, max_length=40)]


class ViewOut(Out):
    id: int
    name: str
    shared: bool = Field(description="The team's (every manager sees it); false: your own")
    filters: ConversationFilters
    updated_at: datetime


class ViewList(Out):
    items: list[ViewOut] = Field(description="The team's first, then your own; each by name")
    counts: dict[str, int] = Field(
        description="Conversations in each view (by view id), of those you see"
    )
    changes_at: datetime | None = Field(
        description="When a view with waiting_hours next gains a conversation by time alone "
        "(ask again then); null: none will"
    )


class ViewCounted(Out):
    """A view as saved, with what it holds now."""

    view: ViewOut
    count: int
    changes_at: datetime | None


class ViewBody(Body):
    name: ViewName
    shared: bool = Field(default=False, description="The team's: admins only; kept for good")
    filters: ConversationFilters


class ViewPatch(Patch):
    name: ViewName | None = None
    filters: ConversationFilters | None = None
