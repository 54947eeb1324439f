"""What a contact attribute's value may be, by the kind its admin gave it: the one rule every
way a value comes in is checked by (a manager's edit as JSON, a CSV cell as text, a filter of
the Contacts page as a query parameter), and how each is stored in `contacts.attributes`.

Stored as JSON: text and a choice as a string (a choice spelt as its admin wrote it), a number
as a number, a date as "YYYY-MM-DD", yes/no as true/false. Pure: the definitions are read by
store/contact_attributes.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
import re
from typing import Any, Literal
import unicodedata

Kind = Literal["text", "number", "date", "boolean", "choice"]
KINDS: tuple[Kind, ...] = ("text", "number", "date", "boolean", "choice")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TEXT_LIMIT = 2000
# Larger than any amount or count a sales team keeps, small enough to be exact as a double.
NUMBER_LIMIT = Decimal(10) ** 15
MAX_CHOICES = 100
_YES = {"yes", "y", "true", "1", "ja", "sí", "si", "oui", "sim", "да"}
_NO = {"no", "n", "false", "0", "nein", "non", "não", "nao", "нет"}
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


class BadValue(ValueError):
    """A value that is not one of its attribute's kind, with the reason as a manager reads it."""


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    kind: Kind
    choices: tuple[str, ...] = ()


def key_for(label: str) -> str:
    """A key from a label ("Budget (EUR)" → "budget_eur"): what the value is stored under."""
    plain = unicodedata.normalize("NFKD", label.replace("ß", "ss"))
    plain = plain.encode("ascii", "ignore").decode().lower()
    key = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:40].rstrip("_")
    if not key:  # a label with no Latin letters (Бюджет): the caller numbers it if taken
        return "attribute"
    if not key[0].isalpha():
        key = ("a_" + key)[:40].rstrip("_")
    return key


def _number(value: Decimal) -> int | float:
    # adjusted() first: abs() of 1E+1000000 overflows the context, a DecimalException.
    if not value.is_finite() or value.adjusted() >= 15 or abs(value) >= NUMBER_LIMIT:
        raise BadValue(f"must be a number below {NUMBER_LIMIT:,.0f}")
    return int(value) if value == value.to_integral_value() else float(value)


def _text(value: str) -> str:
    if "\x00" in value:
        raise BadValue("must not contain a NUL character")
    if len(value) > TEXT_LIMIT:
        raise BadValue(f"must be at most {TEXT_LIMIT} characters")
    return value


def _choice(d: Definition, value: str) -> str:
    found = next((c for c in d.choices if c.casefold() == value.strip().casefold()), None)
    if found is None:
        raise BadValue("must be one of " + ", ".join(d.choices))
    return found


def _date(value: str) -> str:
    if _ISO_DAY.match(value):  # fromisoformat also reads 20261231 and week dates
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise BadValue("must be a date (YYYY-MM-DD)")


def _day(text: str) -> str:
    day_first = _DAY_FIRST.match(text)
    if day_first:  # 31.12.2026 or 31/12/2026: day first, as outside the US
        day, month, year = (int(g) for g in day_first.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            raise BadValue(f"{text!r} is no date") from None
    return _date(text)


def from_json(d: Definition, value: Any) -> Any:
    """A value as the API is sent it, checked: what is stored. A number or a date may also be
    the text a person typed ("1 234,5", "31.12.2026"), read here by the rule a CSV cell is
    read by: the browser sends what was typed and never guesses what it means."""
    if d.kind == "number":
        if isinstance(value, str):
            return _written_number(value.strip())
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadValue("must be a number")
        return _number(Decimal(str(value)))
    if d.kind == "boolean":
        if not isinstance(value, bool):
            raise BadValue("must be true or false")
        return value
    if not isinstance(value, str):
        raise BadValue("must be a date (YYYY-MM-DD)" if d.kind == "date" else "must be text")
    if d.kind == "date":
        return _day(value.strip())
    if d.kind == "choice":
        return _choice(d, value)
    return _text(value)


_AMBIGUOUS = re.compile(r"^[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}$")
_PLAIN = re.compile(r"^[+-]?[0-9]+(?:[.,][0-9]+)?$")
_SCIENTIFIC = re.compile(r"^[+-]?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{1,3}$")  # as spreadsheets write
# Grouped in threes by one separator throughout, then perhaps a decimal point of the other kind.
_GROUPED = re.compile(
    r"^([+-]?[0-9]{1,3})((?:([.,\s'’_])[0-9]{3})(?:\3[0-9]{3})*)(?:([.,])([0-9]+))?$"
)


def _written_number(text: str) -> int | float:
    """A number as people write it: grouped in threes by spaces, apostrophes, "." or ",", the
    other of "." and "," the decimal point. "1.200" or "1,200" alone could be 1200 or 1.2
    (whether the writer groups with "." or ","): refused, never guessed; so is anything with
    separators that are no grouping ("10.05.2026" in a number column is a date, not 10052026)."""
    if _AMBIGUOUS.match(text):
        whole, part = re.split(r"[.,]", text)
        raise BadValue(f"{text!r} could be {whole}{part} or {whole}.{part}: write it without "
                       "the separator, or with another decimal")  # fmt: skip
    if _PLAIN.match(text) or _SCIENTIFIC.match(text):
        plain = text.replace(",", ".")
    else:
        grouped = _GROUPED.match(text)
        if grouped is None or grouped[3] == grouped[4]:
            raise BadValue(f"{text!r} must be a number")
        whole, groups, separator, _, part = grouped.groups()
        plain = whole + groups.replace(separator, "") + ("." + part if part else "")
    try:
        return _number(Decimal(plain))
    except InvalidOperation:
        raise BadValue(f"{text!r} must be a number") from None


def written(d: Definition, value: Any) -> str:
    """A stored value as a person reads it and `from_text` reads it back (an export's cell): a
    number never as "1.234" alone, which reads as ambiguous, but "1.2340"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if d.kind == "number" and _AMBIGUOUS.match(text):
        return text + "0"
    return text


def from_text(d: Definition, text: str) -> Any:
    """A value as a person writes it (a CSV cell, a filter): "1 234,5", "31.12.2026", "yes"."""
    text = text.strip()
    if d.kind == "number":
        return _written_number(text)
    if d.kind == "boolean":
        word = text.casefold()
        if word in _YES or word in _NO:
            return word in _YES
        raise BadValue(f"{text!r} must be yes or no")
    return from_json(d, text)


def stored_text(value: Any) -> str:
    """A stored value as a filter compares it (contact_attribute_values.txt)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)[:200]
