"""Variables in a quick reply's text (`{{contact.first_name}}`): which there are, what they are
for one conversation, and whether a reply still has one in it.

A variable with no value for this customer (no order yet, a name that is only a number) stays in
the text as it was written and is named in `missing`: the manager sees it before sending and
fills it in. A reply that still has a variable in it is refused (`left_in`), so nothing reaches
a customer as a blank or as `{{order.number}}`. Pure: the values are read by
store/quick_replies.py.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

# The grammar of a variable, whether or not it is one there is: anything of this shape left in
# a reply is refused.
VARIABLE = re.compile(r"\{\{\s*([a-z]+\.[a-z0-9_]+)\s*\}\}")
FIXED: tuple[str, ...] = (
    "contact.name",
    "contact.first_name",
    "contact.phone",
    "contact.email",
    "manager.name",
    "manager.first_name",
    "order.number",
    "order.total",
    "order.status",
)
_NOT_A_NAME = re.compile(r"^[+\d\s().-]*$")  # a ghost's "name" that is its number


@dataclass(frozen=True)
class Rendered:
    text: str
    missing: list[str]
    left: list[str]  # each as it is written in the text ("{{ order.number }}")


def known(attribute_keys: set[str] | frozenset[str]) -> list[str]:
    """Every variable there is: the fixed ones, then `contact.<key>` of each attribute."""
    return [
        *FIXED,
        *(f"contact.{k}" for k in sorted(attribute_keys) if f"contact.{k}" not in FIXED),
    ]


def names_in(text: str) -> list[str]:
    """The variables a text has, each once, in order."""
    return list(dict.fromkeys(m[1] for m in VARIABLE.finditer(text)))


def unknown_in(text: str, attribute_keys: set[str] | frozenset[str]) -> list[str]:
    there = set(known(attribute_keys))
    return [name for name in names_in(text) if name not in there]


def first_name(name: str | None) -> str | None:
    """The first word of a person's name; none of a name that is only their number."""
    if not name or _NOT_A_NAME.match(name):
        return None
    return name.split()[0]


def render(text: str, values: dict[str, str | None]) -> Rendered:
    """The text with each variable that has a value replaced by it; the others left as they
    were written, and named in `missing`."""
    missing: list[str] = []
    left: list[str] = []

    def value(match: re.Match[str]) -> str:
        found = values.get(match[1])
        if found is None or not found.strip():
            if match[1] not in missing:
                missing.append(match[1])
            if match[0] not in left:
                left.append(match[0])
            return match[0]
        return found

    return Rendered(VARIABLE.sub(value, text), missing, left)


def left_in(text: str) -> list[str]:
    """The variables still in a reply about to be sent (it is refused while there are any)."""
    return names_in(text)
