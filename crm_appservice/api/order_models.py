"""The orders of a contact as the API takes and gives them, and an amount of money as a manager
types it: "12.50", "12,50" (a decimal comma, as most of Europe writes it) or "1.234,50" /
"1,234.50" (with thousands separators)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .models import Body, Omit, Out, Patch


def _read(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    comma, dot = text.rfind(","), text.rfind(".")
    if comma > dot:
        # The comma is the decimal point; dots before it group thousands.
        text = text.replace(".", "").replace(",", ".")
    elif comma >= 0:
        text = text.replace(",", "")  # commas grouping thousands before a decimal point
    return text


Amount = Annotated[Decimal, BeforeValidator(_read)]


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    price: Amount | None = Field(default=None, ge=0)


class OrderOut(Out):
    id: int
    contact_id: int
    number: str
    status: str
    total: Decimal
    currency: str
    items: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class OrderBody(Body):
    number: str = Field(min_length=1, max_length=64)
    status: str = Field(default="new", min_length=1, max_length=32)
    total: Amount = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=2)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    items: list[OrderItem] = Field(default_factory=list, max_length=500)


class OrderPatch(Patch):
    number: str | Omit = Field(default=None, min_length=1, max_length=64)
    status: str | Omit = Field(default=None, min_length=1, max_length=32)
    total: Amount | Omit = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    currency: str | Omit = Field(default=None, pattern=r"^[A-Z]{3}$")
    items: list[OrderItem] | Omit = Field(default=None, max_length=500)


class OrderList(Out):
    items: list[OrderOut]
