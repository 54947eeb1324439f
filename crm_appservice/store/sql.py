"""Statements made of parts: the one way a fragment (a batch's rows, a status rule, a channel
name) enters SQL.

A statement is plain SQL with ``$n`` parameters; the few parts that cannot be parameters are
named ``{name}`` and filled by :func:`compose`, which refuses a name it is not given and a part
it does not use. Nothing else in the text is touched, so SQL's own braces (``'{}'``, a regex's
``{5,15}``) are written as they are. The long statements live in ``store/statements/*.sql``,
read once at import by :func:`statement`.
"""

from __future__ import annotations

from importlib import resources
import re
from typing import Any

_PART = re.compile(r"\{([a-z_]+)\}")


def compose(sql: str, **parts: str) -> str:
    """``sql`` with each ``{name}`` replaced by ``parts[name]``."""
    used: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in parts:
            raise KeyError(f"the statement names a part it was not given: {name}")
        used.add(name)
        return parts[name]

    out = _PART.sub(fill, sql)
    if unused := set(parts) - used:
        raise KeyError(f"parts the statement does not use: {', '.join(sorted(unused))}")
    return out


def statement(name: str, **parts: str) -> str:
    """The statement in ``store/statements/<name>.sql``, its parts filled."""
    text = resources.files(__package__).joinpath("statements", f"{name}.sql").read_text()
    return compose(text, **parts)


def records(param: str, alias: str, columns: str) -> str:
    """The rows of a JSON array parameter, as a FROM item.

    The planner takes any set-returning function to return 100 rows; for the small batches
    (a few edits, reactions or receipts) that makes a hash join over a whole table look cheaper
    than a few index lookups. A LIMIT it cannot evaluate when planning (a sub-select) counts as
    10 rows, in custom and generic plans alike, so the prepared statement keeps one generic
    plan and its lookups stay index lookups.
    """
    return (
        f"(SELECT * FROM jsonb_to_recordset({param}::jsonb) AS _r({columns})"
        f" LIMIT (SELECT jsonb_array_length({param}::jsonb))) AS {alias}"
    )


class Where:
    """The conditions of a WHERE clause and their arguments, numbered as they are added."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.args: list[Any] = []

    def add(self, clause: str, *args: Any) -> None:
        """`clause` refers to its arguments as {0}, {1}, …"""
        start = len(self.args)
        self.args.extend(args)
        self.clauses.append(clause.format(*(f"${start + i + 1}" for i in range(len(args)))))

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "true"
