"""The bodies the API accepts and the resources it answers with (pydantic models).

The OpenAPI document and the web inbox's types come from these; a field added here is a field
added to the contract.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
import unicodedata

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from ..delivery import State


def _one_line(value: str) -> str:
    """Text that may end up in a mail header (a subject, a name in `To:`): a line break there
    would start a header of the sender's choosing."""
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise ValueError("must be one line, without control characters")
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]
# A database id in a body or a query: at most 18 digits, as in a path (middleware.ids), so a
# longer number is refused before it can overflow a bigint.
Id = Annotated[int, Field(ge=1, le=10**18 - 1)]


class Out(BaseModel):
    """An answer: every field is always sent, so the contract marks each one required (the
    web's generated types then have no optional field that is in fact always there)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class Body(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error instead of a silent no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# A PATCH field that may be left out but is never null (its schema has no null either).
Omit = SkipJsonSchema[None]


class Patch(Body):
    """A PATCH body: a field left out keeps its value. Null clears the fields in NULLABLE and
    is refused by the others, which have no empty value (never stored, never a 500)."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("cannot be null: leave the field out to keep its value")
        return value


class LoginBody(Body):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class ManagerOut(Out):
    id: int
    email: str
    name: str
    role: Literal["admin", "manager"]


class LoginOut(Out):
    manager: ManagerOut
    csrf_token: str | None = None


class ContactOut(Out):
    id: int
    display_name: str | None
    phone: str | None
    email: str | None
    avatar_url: str | None


class ConversationContactOut(ContactOut):
    owner_id: int | None = Field(description="The manager whose customer this is")


class SenderOut(Out):
    type: Literal["contact", "manager", "system"]
    id: int | None
    name: str | None


class MediaOut(Out):
    url: str
    thumbnail_url: str | None
    mimetype: str | None
    size: int | None
    width: int | None
    height: int | None
    duration_ms: int | None
    filename: str | None


class LocationOut(Out):
    latitude: float
    longitude: float


class ReactionOut(Out):
    key: str
    count: int
    mine: bool


# What a message is (the messages table's CHECK, migrations/0001): ingest maps every event to one.
MessageKind = Literal[
    "text", "notice", "emote", "image", "video", "audio", "voice", "file", "sticker",
    "location", "unsupported",
]  # fmt: skip


class MessageOut(Out):
    id: int
    conversation_id: int
    version: int = Field(
        description="Grows with every change of the message: of two copies, the higher is newer"
    )
    event_id: str | None
    client_txn_id: str | None
    direction: Literal["in", "out"]
    channel: Literal["matrix", "email"]
    sender: SenderOut
    kind: MessageKind
    body: str | None
    html: str | None = Field(description="Formatted text, only the tags of x-rules.html")
    media: MediaOut | None
    location: LocationOut | None
    reply_to: int | None
    reactions: list[ReactionOut]
    status: State | None = Field(description="An outgoing message's delivery; null: incoming")
    error: str | None
    edited_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime


class MessagePreviewOut(Out):
    """A message as the conversation list shows it: its parts, which the web inbox words (a
    photo's label, a voice message's length, "deleted"), so the list reads the same in any
    language the inbox is shown in."""

    id: int
    direction: Literal["in", "out"] = Field(description="out: the team's")
    kind: MessageKind
    filename: str | None = Field(description="A file's name")
    duration_ms: int | None = Field(description="A voice message's or a video's length")
    deleted: bool = Field(description="Deleted: its text is gone")
    manager_id: int | None = Field(
        default=None,
        description="Who of the team wrote it (the list says 'You:' for the viewer's own, the"
        " colleague's name otherwise); null: the customer's, or sent from the phone",
    )
    manager_name: str | None = Field(default=None, description="That manager's name")
    text: str | None = Field(
        description="Its words on one line (at most 200 characters; a"
        " caption for media); null: none"
    )
    created_at: datetime | None


class NumberOut(Out):
    login_id: str = Field(description="The login's id at the bridge: the number's digits")
    name: str | None = Field(description="The name admins gave it; null: none yet")


class NumberList(Out):
    items: list[NumberOut]


class ConversationOut(Out):
    id: int
    version: int = Field(
        description="Grows with every change: of two copies, the one with the higher is newer"
    )
    assignee_name: str | None = Field(default=None, description="The assignee's name")
    platform: str
    kind: Literal["dm", "group"]
    room_id: str
    title: str | None
    status: Literal["open", "pending", "resolved", "snoozed"]
    snoozed_until: datetime | None
    assignee_id: int | None
    is_archived: bool
    label_ids: list[int] = Field(description="Its labels (/labels), in the order they were added")
    unread_count: int
    last_message_at: datetime | None
    waiting_since: datetime | None = Field(
        description="Waiting for us: the customer wrote last, at this time; null: we did, or "
        "nobody yet"
    )
    last_message: MessagePreviewOut | None
    contact: ConversationContactOut | None
    number: NumberOut | None = Field(
        default=None, description="The business's number the chat is on (replies leave from "
        "it); null for groups, which every number shares")  # fmt: skip
    merged_into: int | None = Field(
        default=None, description="The conversation this one is part of now (the bridge "
        "merged its room into that one's); null for one of its own")  # fmt: skip
    match: MessagePreviewOut | None = Field(
        default=None,
        description="In a search (q): the newest message with every word, as a short excerpt "
        "around the first one; null when the contact's name or phone matched",
    )


class ConversationPage(Out):
    items: list[ConversationOut]
    next_cursor: str | None
    words: list[str] = Field(
        default_factory=list,
        description="The words a search looked for, as the server read the query (lower case, "
        "at most 8): a hit's words that begin with one of them are what it matched.",
    )


class HistoryOut(Out):
    """A change to the conversation, shown in the thread where it happened: `change` says
    which of assignee_id (null: unassigned), status (and snoozed_until), archived is new."""

    id: int
    conversation_id: int
    change: Literal["assignee", "status", "archived"]
    cause: Literal["manager", "customer", "snooze", "system"] = Field(
        description="manager: actor_id's action; customer: the customer wrote again;"
        " snooze: the snooze ran out"
    )
    actor_id: int | None
    actor_name: str | None
    assignee_id: int | None
    assignee_name: str | None
    status: Literal["open", "pending", "resolved", "snoozed"] | None
    snoozed_until: datetime | None
    archived: bool | None
    created_at: datetime


class MessagePage(Out):
    items: list[MessageOut]
    history: list[HistoryOut] = Field(
        description="The conversation's changes in the time this page spans, oldest first"
    )
    next_cursor: str | None


class CountsOut(Out):
    mine: int
    unassigned: int
    all_open: int
    unread: int = Field(description="Conversations with unread messages (the page title)")
    labels: dict[str, int] = Field(
        default_factory=dict,
        description="Open conversations (as all_open counts them) per label id; a label on "
        "none is left out",
    )


class ReplyBody(Body):
    client_txn_id: str = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")
    body: str | None = Field(
        default=None, min_length=1, max_length=65_536,
        description="The text; with `quick_reply_file` its caption, and may be left out",
    )  # fmt: skip
    reply_to: int | None = Field(default=None, ge=1)
    channel: Literal["matrix", "email"] = Field(
        default="matrix",
        description="`email` writes to the contact's e-mail address instead of the chat",
    )
    subject: OneLine | None = Field(default=None, max_length=300, description="For e-mail only")
    quick_reply_file: int | None = Field(
        default=None, ge=1, le=10**18 - 1,
        description="A quick reply's file (its id), sent as this message's attachment",
    )  # fmt: skip


class AttachmentForm(Body):
    """The fields of a multipart reply besides its `file` part; `body` is the caption. Sizes
    and duration are the browser's (it measures the file before sending it)."""

    client_txn_id: str = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")
    body: str | None = Field(default=None, max_length=65_536)
    reply_to: int | None = Field(default=None, ge=1)
    channel: Literal["matrix", "email"] = "matrix"
    subject: OneLine | None = Field(default=None, max_length=300)
    voice: bool = False
    width: int | None = Field(default=None, ge=1, le=100_000)
    height: int | None = Field(default=None, ge=1, le=100_000)
    duration_ms: int | None = Field(default=None, ge=0, le=86_400_000)


class ReactionBody(Body):
    key: str = Field(min_length=1, max_length=64, description="Usually one emoji")


class EditBody(Body):
    body: str = Field(min_length=1, max_length=65_536)


class NoteBody(Body):
    body: str = Field(min_length=1, max_length=10_000)


class NoteOut(Out):
    id: int
    conversation_id: int
    body: str
    author_id: int | None
    author_name: str | None
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None = Field(description="Set on a live frame: the note is gone")


class ManagerBody(Body):
    email: EmailStr = Field(max_length=320)
    name: OneLine = Field(min_length=1, max_length=200)
    role: Literal["admin", "manager"] = "manager"
    password: str = Field(min_length=8, max_length=1024)


class ManagerPatch(Patch):
    name: OneLine | Omit = Field(default=None, min_length=1, max_length=200)
    role: Literal["admin", "manager"] | Omit = None
    is_active: bool | Omit = None
    password: str | Omit = Field(default=None, min_length=8, max_length=1024)


class MePatch(Patch):
    """A manager's own name, or password (with the current one: a session left open on a
    shared computer must not be enough to take the account)."""

    name: OneLine | Omit = Field(default=None, min_length=1, max_length=200)
    password: str | Omit = Field(default=None, min_length=8, max_length=1024)
    current_password: str | Omit = Field(default=None, min_length=1, max_length=1024)


class TeamMemberOut(Out):
    id: int
    name: str
    role: Literal["admin", "manager"]


class ManagerAdminOut(ManagerOut):
    is_active: bool
    created_at: datetime


class TeamList(Out):
    items: list[TeamMemberOut]


class ManagerList(Out):
    items: list[ManagerAdminOut]
