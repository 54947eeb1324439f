"""A rejected request's reason in plain words: the field's name and what it expects
("Currency: three letters, like EUR"), never a pattern or a validator's own message.

Every 422 of a request body or query goes through `explain`, so the inbox shows one style of
error whatever was wrong. The words are English, as every message of the API; the field's
dotted path stays in `field` for a client that marks the field itself.
"""

from __future__ import annotations

from typing import Any

# What a field holds, where its rule is a pattern or a format a person could not guess.
EXPECTED = {
    "currency": "three letters, like EUR",
    "phone": "a phone number with its country code, like +49 151 2345 6789",
    "email": "an e-mail address, like name@example.com",
    "total": "an amount, like 12.50",
    "price": "an amount, like 12.50",
    "snoozed_until": "a date and time in the future",
    "client_txn_id": "letters, digits and punctuation, without spaces",
    "assignee": "me, none or a manager's id",
    "key": "an emoji",
}
# How a field is called where its name is not the word a person uses.
LABELS = {
    "display_name": "Name",
    "email": "E-mail",
    "assignee_id": "Assignee",
    "snoozed_until": "Snooze",
    "is_archived": "Archived",
    "is_active": "Active",
    "client_txn_id": "Transaction id",
    "expires_in_days": "Days until it expires",
    "body": "Text",
    "q": "Search",
    "key": "Reaction",
}


def label(loc: tuple[Any, ...]) -> str:
    """The field as a person names it: its last name in the path ("items.0.price": Price),
    with the item's number when it is in a list ("Item 1, price")."""
    names = [str(p) for p in loc if not isinstance(p, int)]
    if not names:
        return "The request"
    name = names[-1]
    word = LABELS.get(name) or name.replace("_", " ").capitalize()
    positions = [p for p in loc if isinstance(p, int)]
    if positions and len(names) > 1:
        return f"{names[0].rstrip('s').capitalize()} {positions[-1] + 1}, {word.lower()}"
    return word


def _words(error: dict[str, Any], name: str) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    expected = EXPECTED.get(name)
    if kind == "missing":
        return "this is required"
    if kind == "extra_forbidden":
        return "not a field this request takes"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "cannot be empty" if least == 1 else f"at least {least} characters"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        unit = " characters" if isinstance(error.get("input"), str) else ""
        return f"at most {ctx.get('max_length')}{unit}"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        unit = " characters" if isinstance(error.get("input"), str) else ""
        return "cannot be empty" if least == 1 else f"at least {least}{unit}"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return expected or (
            f"at least {bound}" if kind == "greater_than_equal" else f"above {bound}"
        )
    if kind in ("less_than_equal", "less_than"):
        return f"at most {ctx.get('le', ctx.get('lt'))}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "a whole number"
    if kind.startswith("decimal") or kind in ("float_parsing", "float_type"):
        if kind == "decimal_max_places":
            return f"at most {ctx.get('decimal_places')} digits after the decimal point"
        return expected or "a number, like 12.50"
    if kind in ("bool_parsing", "bool_type"):
        return "yes or no (true or false)"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '').replace(chr(39), '')}"
    if kind.startswith(("datetime", "date", "timezone")):
        return expected or "a date and time, like 2026-12-24T09:00:00Z"
    if kind in ("string_type", "list_type", "dict_type", "model_type", "model_attributes_type"):
        return {"string_type": "text", "list_type": "a list"}.get(kind, "an object")
    if kind == "json_invalid":
        return "not valid JSON"
    if expected is not None:
        return expected
    if kind == "value_error":
        # A rule of the model's own, already said in words ("snoozed_until goes with ...").
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        return message[:1].lower() + message[1:]
    return "not in the expected form"


# What pydantic adds to an error's path for the member of a union it tried ("str",
# "literal['open','resolved']", "function-after[...]"): no field of the API's is named so.
_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "decimal", "list", "dict", "none",
                            "datetime", "date", "is-instance"})  # fmt: skip


def _path(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in _UNION_MEMBERS)))


def explain(error: dict[str, Any]) -> tuple[str, str | None]:
    """(the message, the field's dotted path) of one of pydantic's errors."""
    loc = _path(tuple(error.get("loc") or ()))
    field = ".".join(str(p) for p in loc) or None
    names = [str(p) for p in loc if not isinstance(p, int)]
    words = _words(error, names[-1] if names else "")
    return f"{label(loc)}: {words}", field
