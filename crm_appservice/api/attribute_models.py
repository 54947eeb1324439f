"""What the contact attributes' definitions are sent and answer (admins define them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from ..attribute_kinds import MAX_CHOICES, Kind
from .models import Body, OneLine, Out, Patch

Label = Annotated[OneLine, Field(min_length=1, max_length=80)]
Choice = Annotated[OneLine, Field(min_length=1, max_length=80)]


def _distinct(choices: list[str]) -> list[str]:
    folded = [c.casefold() for c in choices]
    if len(set(folded)) != len(folded):
        raise ValueError("must be different from each other")
    return choices


Choices = Annotated[list[Choice], Field(max_length=MAX_CHOICES), AfterValidator(_distinct)]


class AttributeOut(Out):
    id: int
    key: str = Field(description="What the value is stored under in a contact's attributes")
    label: str
    kind: Kind
    choices: list[str] = Field(description="A choice's options, in order; [] for other kinds")
    position: int
    created_at: datetime
    updated_at: datetime


class AttributeList(Out):
    items: list[AttributeOut]


class AttributeBody(Body):
    label: Label
    kind: Kind
    key: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Left out: made from the label (Budget (EUR) → budget_eur; budget_eur_2 "
        "if that is taken). A CSV column of this name, or of the label, is imported as it.",
    )
    choices: Choices = Field(default_factory=list, description="Needed for (only) a choice")


class AttributePatch(Patch):
    label: Label | None = None
    choices: Choices | None = Field(
        default=None, description="A choice's options: one a contact holds cannot be left out"
    )
    position: int | None = Field(default=None, ge=0, le=10_000)
    based_on: datetime | None = Field(
        default=None,
        description="The `updated_at` the change was made from: if the attribute changed "
        "since (another admin's edit), 409 instead of undoing theirs",
    )
