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

# Anything in double braces: a quick reply's text may hold only variables there are (a typo
# such as {{first_name}} or {{Contact.Name}} is refused when it is saved, never sent as it is).
TOKEN = re.compile(r"\{\{([^{}\n]{1,64})\}\}")
# The variables' namespaces: a reply with one of these left in is refused, whoever sends it
# (other text in braces, "type {{your code}} here", is a manager's own words).
NAMESPACES = ("contact.", "manager.", "order.")
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


def _name(token: str) -> str:
    """A token's content as a variable's name: "{{ Contact.Name }}" names contact.name."""
    return token.strip().lower()


def names_in(text: str) -> list[str]:
    """What a text has in double braces, as names, each once, in order."""
    return list(dict.fromkeys(_name(m[1]) for m in TOKEN.finditer(text)))


def unknown_in(text: str, attribute_keys: set[str] | frozenset[str]) -> list[str]:
    """What a quick reply's text has in braces that is no variable (as it is written)."""
    there = set(known(attribute_keys))
    return list(dict.fromkeys(m[0] for m in TOKEN.finditer(text) if _name(m[1]) not in there))


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
        name = _name(match[1])
        found = values.get(name)
        if found is None or not found.strip():
            if name not in missing:
                missing.append(name)
            if match[0] not in left:
                left.append(match[0])
            return match[0]
        # A customer who calls themselves "{{manager.name}}" is shown as such, and the reply
        # is not refused for it: braces that come in with a value are kept apart.
        return found.replace("{{", "{\u200b{").replace("}}", "}\u200b}")

    return Rendered(TOKEN.sub(value, text), missing, left)


def left_in(text: str) -> list[str]:
    """The variables still in a reply about to be sent (it is refused while there are any):
    whatever is in braces in one of the variables' namespaces, known or not (an attribute
    removed since the quick reply was written is still no text for a customer)."""
    return [n for n in names_in(text) if n.startswith(NAMESPACES)]
