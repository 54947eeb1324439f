"""What labels are sent and answer, and how a list asks for them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from .models import Body, Id, OneLine, Out, Patch

Name = Annotated[OneLine, Field(min_length=1, max_length=40)]


def _lower(value: str) -> str:
    return value.lower()


Colour = Annotated[
    str,
    Field(pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb", examples=["#2e7d32"]),
    AfterValidator(_lower),
]
LabelId = Id


class LabelOut(Out):
    id: int
    name: str
    colour: str = Field(description="#rrggbb, lower case")
    created_at: datetime


class LabelList(Out):
    items: list[LabelOut] = Field(description="By name")


class LabelBody(Body):
    name: Name
    colour: Colour


class LabelPatch(Patch):
    name: Name | None = None
    colour: Colour | None = None


class LabelRef(Body):
    label_id: LabelId


class LabelIdsOut(Out):
    label_ids: list[int] = Field(description="The labels it has now, in the order they were added")


class LabelQuery(BaseModel):
    """The label conditions of a list (conversations, contacts)."""

    label: list[LabelId] = Field(
        default_factory=list, max_length=10, description="Repeatable: with these labels"
    )
    label_match: Literal["any", "all"] = Field(
        default="any", description="any: with at least one of them; all: with every one"
    )
