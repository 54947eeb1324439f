"""What quick replies are sent and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from .file_kinds import Kind
from .models import Body, OneLine, Out, Patch

Name = Annotated[OneLine, Field(min_length=1, max_length=100)]
Shortcut = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
        description="What is typed after `/` in the composer: lower case letters, digits, - and _",
    ),
]
# WhatsApp's limit of a text message.
Text = Annotated[str, Field(min_length=1, max_length=4096)]


class QuickReplyFileOut(Out):
    id: int
    filename: str
    mimetype: str
    size: int
    width: int | None
    height: int | None
    kind: Kind = Field(description="What it goes out as (x-rules.file_kinds)")
    url: str = Field(description="The file, for a preview")


class QuickReplyOut(Out):
    id: int
    name: str
    shortcut: str
    body: str
    personal: bool = Field(description="The manager's own; else the team's")
    can_edit: bool = Field(description="Whether this manager may change it (admins the team's)")
    variables: list[str] = Field(description="The variables its text has, e.g. contact.name")
    files: list[QuickReplyFileOut]
    created_at: datetime
    updated_at: datetime


class QuickReplyList(Out):
    items: list[QuickReplyOut]
    variables: list[str] = Field(description="Every variable a text may have")


class QuickReplyBody(Body):
    name: Name
    shortcut: Shortcut
    body: Text
    personal: bool = Field(
        default=False, description="Only for the manager making it; the team's are for admins"
    )


class QuickReplyPatch(Patch):
    name: Name | None = None
    shortcut: Shortcut | None = None
    body: Text | None = None


class QuickReplyFileForm(Body):
    """The fields of a file's multipart upload besides its `file` part (measured by the
    browser, as a reply's are)."""

    width: int | None = Field(default=None, ge=1, le=100_000)
    height: int | None = Field(default=None, ge=1, le=100_000)


class RenderedOut(Out):
    text: str = Field(description="The text with the conversation's values in it")
    missing: list[str] = Field(
        description="Variables with no value here: still in the text, to fill in before sending"
    )
    left: list[str] = Field(
        description="Those variables as they are written in `text` (a reply with any of them "
        "in it is refused)"
    )
    files: list[QuickReplyFileOut]
