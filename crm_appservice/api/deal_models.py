"""What pipelines and deals are sent and answer, and how a board asks for its deals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .label_models import LabelId, LabelQuery
from .models import Body, Id, Omit, OneLine, Out, Patch
from .order_models import Amount
from .view_models import Who

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217", examples=["EUR"])]
StageKind = Literal["open", "won", "lost"]
Money = Annotated[Amount, Field(ge=0, max_digits=14, decimal_places=2)]


class StageOut(Out):
    id: int
    name: str
    kind: StageKind = Field(description="open; won or lost: a deal put there is closed so")


class ReasonOut(Out):
    id: int
    name: str


class PipelineOut(Out):
    id: int
    name: str
    currency: str = Field(description="What a new deal's value is in, unless it says otherwise")
    stages: list[StageOut] = Field(description="In board order: the open ones, then won, lost")
    lost_reasons: list[ReasonOut]
    updated_at: datetime


class PipelineList(Out):
    items: list[PipelineOut] = Field(description="By name")


class StageIn(Body):
    id: Id | None = Field(default=None, description="An existing stage's, to keep it")
    name: Annotated[OneLine, Field(min_length=1, max_length=40)]
    kind: StageKind = "open"


class ReasonIn(Body):
    id: Id | None = None
    name: Annotated[OneLine, Field(min_length=1, max_length=60)]


def _board_order(stages: list[StageIn]) -> list[StageIn]:
    kinds = [s.kind for s in stages]
    opened = kinds.count("open")
    if not 1 <= opened <= 20 or kinds[opened:] != ["won", "lost"]:
        raise ValueError("must be 1 to 20 open stages, then one won and one lost stage")
    names = [s.name.lower() for s in stages]
    if len(set(names)) != len(names):
        raise ValueError("each stage needs a name of its own")
    ids = [s.id for s in stages if s.id is not None]
    if len(set(ids)) != len(ids):
        raise ValueError("a stage is named twice")
    return stages


def _reasons(reasons: list[ReasonIn]) -> list[ReasonIn]:
    names = [r.name.lower() for r in reasons]
    ids = [r.id for r in reasons if r.id is not None]
    if len(set(names)) != len(names) or len(set(ids)) != len(ids):
        raise ValueError("each reason once")
    return reasons


Stages = Annotated[list[StageIn], Field(min_length=3, max_length=22), AfterValidator(_board_order)]
Reasons = Annotated[list[ReasonIn], Field(max_length=30), AfterValidator(_reasons)]


class PipelineBody(Body):
    name: Annotated[OneLine, Field(min_length=1, max_length=60)]
    currency: Currency = "EUR"
    stages: Stages
    lost_reasons: Reasons = Field(default_factory=list)


class PipelinePatch(Patch):
    name: Annotated[OneLine, Field(min_length=1, max_length=60)] | Omit = None
    currency: Currency | Omit = None
    stages: Stages | Omit = Field(default=None, description="All of them, in board order")
    lost_reasons: Reasons | Omit = None


class DealContactOut(Out):
    id: int
    display_name: str | None
    phone: str | None


class DealOut(Out):
    id: int
    version: int = Field(description="Grows with every change: a frame older than it is stale")
    pipeline_id: int
    stage_id: int
    position: int = Field(description="Its place in the column: smaller is higher")
    title: str
    value: Decimal
    currency: str
    contact: DealContactOut | None
    owner_id: int | None
    owner_name: str | None
    expected_close: date | None
    status: StageKind = Field(description="Its stage's kind")
    lost_reason_id: int | None
    lost_note: str | None
    closed_at: datetime | None
    label_ids: list[int]
    created_at: datetime
    updated_at: datetime


class DealList(Out):
    items: list[DealOut]


class DealPage(Out):
    items: list[DealOut]
    next_cursor: str | None


class ColumnOut(Out):
    stage_id: int
    count: int = Field(description="Deals in the stage that the board's filters keep")
    totals: dict[str, Decimal] = Field(description="Their value summed per currency")
    deals: DealPage = Field(description="The first of them, in board order")


class BoardOut(Out):
    pipeline: PipelineOut
    columns: list[ColumnOut] = Field(description="One per stage, in board order")


class HistoryStepOut(Out):
    id: int
    from_stage_id: int | None
    from_stage: str | None
    to_stage_id: int | None
    to_stage: str | None
    manager_id: int | None
    manager_name: str | None
    at: datetime


class DealDetailOut(Out):
    deal: DealOut
    history: list[HistoryStepOut] = Field(description="Its moves between stages, oldest first")


Title = Annotated[OneLine, Field(min_length=1, max_length=200)]


class DealBody(Body):
    title: Title
    pipeline_id: Id | None = Field(default=None, description="Default: the first pipeline")
    stage_id: Id | None = Field(default=None, description="Default: the first open stage")
    value: Money = Decimal(0)
    currency: Currency | None = Field(default=None, description="Default: the pipeline's")
    contact_id: Id | None = None
    owner_id: Id | None = Field(default=None, description="Default: you")
    expected_close: date | None = None
    label_ids: list[LabelId] = Field(default_factory=list, max_length=50)


class DealPatch(Patch):
    NULLABLE = frozenset({"contact_id", "owner_id", "expected_close"})

    title: Title | Omit = None
    value: Money | Omit = None
    currency: Currency | Omit = None
    contact_id: Id | None = None
    owner_id: Id | None = None
    expected_close: date | None = None
    label_ids: list[LabelId] | Omit = Field(default=None, max_length=50)


class DealMove(Body):
    stage_id: Id
    before_id: Id | None = Field(
        default=None, description="The deal it goes just above; none: the top of the stage"
    )
    version: int | None = Field(
        default=None, description="The version you saw: if it changed since, 409 and no move"
    )
    lost_reason_id: Id | None = Field(default=None, description="Moving to the lost stage")
    lost_note: Annotated[OneLine, Field(max_length=500)] | None = None


class BoardQuery(LabelQuery):
    """What narrows a board (and each column's further pages)."""

    owner: Who | None = Field(default=None, description="me, none or a manager's id")


class ColumnQuery(BoardQuery):
    stage_id: Id
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)
