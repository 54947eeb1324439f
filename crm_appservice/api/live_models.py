"""The frames of the live connection (`GET /api/v1/ws`) as the contract names them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .models import Out

LiveType = Literal[
    "hello",
    "resync",
    "message.created",
    "message.updated",
    "conversation.created",
    "conversation.updated",
    "conversation.hidden",
    "note.created",
    "note.updated",
    "history.created",
    "label.updated",
    "label.deleted",
    "view.updated",
    "view.deleted",
    "pipeline.updated",
    "pipeline.deleted",
    "deal.updated",
    "deal.hidden",
    "deal.deleted",
]


class LiveFrameOut(Out):
    """A frame of the live connection (`GET /api/v1/ws`). `data` is the resource the REST API
    answers with: a MessageOut for message.*, a ConversationOut for conversation.created and
    .updated, `{"id": …}` for conversation.hidden, a NoteOut for note.*, a HistoryOut for
    history.created, a LabelOut for label.updated, `{"id": …}` for label.deleted (take it off
    every row), a ViewOut for view.updated (a personal view only to its owner), `{"id": …}` for
    view.deleted, a PipelineOut for pipeline.updated, `{"id": …}` for pipeline.deleted, a DealOut
    for deal.updated, `{"id": …}` for deal.hidden (a restricted manager's board drops it) and
    deal.deleted, null for hello (the connection is current) and resync (frames were missed: load
    again)."""

    type: LiveType
    seq: int = Field(description="The frame's place in the feed: ?since=<seq> resumes after it")
    data: Any
