"""What the API-token endpoints take and answer: a script's credential, minted with the
manager's password and shown once."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .models import Body, Out


class TokenBody(Body):
    label: str = Field(min_length=1, max_length=100)
    password: str = Field(
        min_length=1,
        max_length=1024,
        description="The manager's password again: a stolen session cannot mint a credential",
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="None: valid until deleted"
    )


class TokenOut(Out):
    id: int
    label: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime | None


class NewTokenOut(Out):
    id: int
    label: str
    expires_at: datetime | None
    token: str = Field(description="Shown once: send it as `Authorization: Bearer <token>`")


class TokenList(Out):
    items: list[TokenOut]
