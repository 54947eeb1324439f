"""What a CSV import of contacts is sent and answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..contact_csv import FIELDS
from .models import Body, Out

# A CSV file's text: 10,000 customers with a few columns are about 1 MB.
MAX_CSV = 8_000_000


class ImportBody(Body):
    csv: str = Field(min_length=1, max_length=MAX_CSV, description="The file's text (UTF-8)")
    mapping: dict[str, str] | None = Field(
        default=None,
        description="Column → display_name, phone, email, owner (a manager's e-mail), ignore, "
        "or attribute:<key> (a defined attribute); left out: the preview's suggestion",
    )
    region: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="The country numbers without their country code are written for (DE)",
    )


class ImportProblemOut(Out):
    line: int = Field(description="The file's line (the header is line 1)")
    column: str | None
    message: str


class ImportMatchOut(Out):
    id: int
    name: str
    by: Literal["phone", "email"]


class ImportRowOut(Out):
    line: int
    display_name: str | None
    phone: str | None = Field(description="E.164, as stored")
    email: str | None
    owner: str | None
    attributes: dict[str, Any] = Field(description="By key, as stored")
    match: ImportMatchOut | None = Field(description="The contact this row updates; null: new")


class ImportPreviewOut(Out):
    columns: list[str]
    mapping: dict[str, str] = Field(description="The mapping the preview used")
    fields: list[str] = Field(
        default=list(FIELDS), description="What a column can be besides attribute:<key>"
    )
    rows: int = Field(description="Rows with anything in them")
    new: int
    updates: int
    problems: list[ImportProblemOut] = Field(description="The first 1,000 problems")
    problem_count: int
    sample: list[ImportRowOut] = Field(description="The first 20 rows to import")


class ImportOut(Out):
    created: int
    updated: int
    problems: list[ImportProblemOut] = Field(description="The rows left out (the first 1,000)")
    problem_count: int
