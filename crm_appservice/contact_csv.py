"""A CSV file of contacts, as a spreadsheet exports it, read into rows the import can store:
each column mapped to a field by the manager (the server suggests a mapping from the header),
every value checked, every bad row reported with its line and column, and nothing of a bad row
kept. Pure: the database's part (who already exists, whose e-mail an owner is) is
store/contact_import.py's.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
import io
from typing import Any
import unicodedata

from email_validator import EmailNotValidError, validate_email

from .attribute_kinds import BadValue, Definition, from_text
from .phones import NotAPhoneNumber, to_e164

MAX_ROWS = 50_000
MAX_COLUMNS = 100
FIELDS = ("display_name", "phone", "email", "owner", "ignore")
ATTRIBUTE = "attribute:"  # followed by a defined attribute's key
# Header words a spreadsheet's columns are usually called by, for the suggested mapping.
_GUESSES = {
    "display_name": ("name", "full name", "contact", "customer", "client", "nome", "kunde"),
    "phone": ("phone", "mobile", "whatsapp", "number", "tel", "telefon", "telefone", "cell"),
    "email": ("email", "e-mail", "mail"),
    "owner": ("owner", "manager", "account owner", "responsible"),
}


class BadFile(ValueError):
    """The file or the mapping as a whole cannot be read, with the reason."""


@dataclass
class Problem:
    line: int  # the file's line the row starts on (the header is line 1)
    column: str | None
    message: str


@dataclass
class Row:
    line: int
    display_name: str | None = None
    phone: str | None = None
    email: str | None = None
    owner: str | None = None  # a manager's e-mail address, in lower case
    attributes: dict[str, Any] = field(default_factory=dict)


def parse(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the rows, each with the file's line it starts on (a cell may hold line
    breaks). The delimiter is the one of comma, semicolon (as spreadsheets in many countries
    write) and tab the header holds most of, counted (csv.Sniffer's expressions take seconds on
    a crafted sample); a byte order mark is dropped."""
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise BadFile("The file holds NUL characters: it is not a CSV text file")
    first = text[:8192].split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    records: list[tuple[int, list[str]]] = []
    ended = 0  # the line the previous record ended on
    try:
        for record in reader:
            start, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [h.strip() for h in record]
                continue
            if len(records) == MAX_ROWS:
                raise BadFile(f"More than {MAX_ROWS:,} rows: split the file")
            records.append((start, record))
    except csv.Error as error:
        raise BadFile(f"Not a CSV file this can read: {error}") from None
    if header is None:
        raise BadFile("The file is empty")
    if len(header) > MAX_COLUMNS:
        raise BadFile(f"More than {MAX_COLUMNS} columns")
    if len(set(header)) != len(header) or "" in header:
        raise BadFile("Every column needs a name of its own in the first line")
    return header, records


def suggest(header: list[str], defined: dict[str, Definition]) -> dict[str, str]:
    """A mapping from the columns' names: the first column named like each field is that
    field, one named as an attribute's key or label that attribute, any other ignored."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    by_name = {n.casefold(): d.key for d in defined.values() for n in (d.label, d.key)}
    for column in header:
        name = column.strip().casefold()
        guess = next(
            (f for f, words in _GUESSES.items() if f not in taken and name in words), None
        )
        if guess is None and name in by_name and ATTRIBUTE + by_name[name] not in taken:
            guess = ATTRIBUTE + by_name[name]
        if guess:
            taken.add(guess)
            mapping[column] = guess
        else:
            mapping[column] = "ignore"
    return mapping


def check_mapping(
    header: list[str], mapping: dict[str, str], defined: dict[str, Definition]
) -> None:
    unknown = set(mapping) - set(header)
    if unknown:
        raise BadFile(f"No such column: {sorted(unknown)[0]}")
    seen: set[str] = set()
    for target in mapping.values():
        if target.startswith(ATTRIBUTE):
            if target[len(ATTRIBUTE) :] not in defined:
                raise BadFile(f"No attribute is kept under {target[len(ATTRIBUTE) :]}: an "
                              "admin adds it under Team → Contact attributes")  # fmt: skip
        elif target not in FIELDS:
            raise BadFile(f"Not a field a column can be imported as: {target}")
        if target != "ignore" and target in seen:
            raise BadFile(f"Two columns are imported as {target}")
        seen.add(target)
    if not {"phone", "email"} & seen:
        raise BadFile("Map a column to the phone number or the e-mail address: it is how a "
                      "contact is found again")  # fmt: skip


def _one_line(value: str, limit: int) -> str:
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise ValueError("must be one line, without control characters")
    if len(value) > limit:
        raise ValueError(f"longer than {limit} characters")
    return value


def read(
    header: list[str],
    records: list[tuple[int, list[str]]],
    mapping: dict[str, str],
    region: str | None,
    defined: dict[str, Definition],
) -> tuple[list[Row], list[Problem]]:
    """The rows to import and the problems of the others (a row with a problem is left out
    whole). Two rows of one person (the same number or e-mail) are one row too many."""
    check_mapping(header, mapping, defined)
    index = {column: i for i, column in enumerate(header)}
    rows: list[Row] = []
    problems: list[Problem] = []
    first_seen: dict[str, int] = {}
    for line, record in records:
        if len(record) > len(header):
            problems.append(Problem(line, None, "more cells than the header has columns"))
            continue
        row = Row(line)
        bad = False
        for column, target in mapping.items():
            cell = record[index[column]].strip() if index[column] < len(record) else ""
            if not cell or target == "ignore":
                continue
            try:
                _take(row, target, cell, region, defined)
            except (ValueError, EmailNotValidError) as error:
                # The row's first problem: a file of bad rows is one problem a row at most.
                problems.append(Problem(line, column, str(error)))
                bad = True
                break
        if bad:
            continue
        if row.phone is None and row.email is None:
            problems.append(Problem(line, None, "needs a phone number or an e-mail address"))
            continue
        keys = [k for k in (row.phone, row.email and row.email.lower()) if k]
        earlier = next((first_seen[k] for k in keys if k in first_seen), None)
        if earlier is not None:
            problems.append(Problem(line, None, f"the same person as line {earlier}"))
            continue
        for key in keys:
            first_seen[key] = line
        rows.append(row)
    return rows, problems


def _take(
    row: Row, target: str, cell: str, region: str | None, defined: dict[str, Definition]
) -> None:
    if "\x00" in cell:
        raise ValueError("must not contain a NUL character")
    if target == "display_name":
        row.display_name = _one_line(cell, 200)
    elif target == "phone":
        try:
            row.phone = to_e164(cell, region)
        except NotAPhoneNumber as error:
            raise ValueError(f"{cell!r}: {error}") from None
    elif target in ("email", "owner"):
        address = validate_email(_one_line(cell, 320), check_deliverability=False).normalized
        if target == "email":
            row.email = address
        else:
            row.owner = address.lower()
    else:
        d = defined[target[len(ATTRIBUTE) :]]
        try:
            row.attributes[d.key] = from_text(d, _one_line(cell, 2000))
        except BadValue as bad:
            raise ValueError(f"{d.label} {bad}") from None
