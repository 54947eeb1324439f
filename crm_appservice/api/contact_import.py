"""Contacts in and out as CSV: an admin's import (a preview first, then the import of every good
row in one transaction) and any manager's export of the list they see, with its filters."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime
import io
import re
from typing import Any

from aiohttp import web
import orjson

from .. import contact_csv
from ..attribute_kinds import written
from ..keys import POOL
from ..store import (
    contact_attributes as attribute_store,
    contact_import as store,
    contact_list,
    feed,
)
from . import responses
from .contact_models import ContactFilterQuery
from .contacts import contact_query, filters_of
from .import_models import ImportBody, ImportOut, ImportPreviewOut
from .middleware import require_admin

routes = web.RouteTableDef()
SHOWN_PROBLEMS = 1_000
SAMPLE = 20


async def _read(
    request: web.Request, conn: Any, *, held: bool = False
) -> tuple[
    list[str], dict[str, str], list[contact_csv.Row], list[contact_csv.Problem], dict[str, int]
]:
    """The file read and checked (in a thread: 10,000 rows of number parsing would hold the
    event loop for a while), then its owners looked up: a row whose owner is no active
    manager is a problem too."""
    body = ImportBody.model_validate_json(await request.read())
    defined = await attribute_store.definitions(conn, held=held)
    try:
        header, records = await asyncio.to_thread(contact_csv.parse, body.csv)
        mapping = body.mapping
        if mapping is None:
            mapping = contact_csv.suggest(header, defined)
        rows, problems = await asyncio.to_thread(
            contact_csv.read, header, records, mapping, body.region, defined
        )
    except contact_csv.BadFile as bad:
        raise responses.invalid("mapping" if body.mapping else "csv", str(bad)) from None
    owners = await store.owners(conn, {r.owner for r in rows if r.owner})
    column = next((c for c, target in mapping.items() if target == "owner"), None)
    kept = []
    for row in rows:
        if row.owner and row.owner not in owners:
            problems.append(contact_csv.Problem(row.line, column, "no active manager has "
                                                f"the e-mail address {row.owner}"))  # fmt: skip
        else:
            kept.append(row)
    problems.sort(key=lambda p: p.line)
    return header, mapping, kept, problems, owners


def _one_per_contact(
    rows: list[contact_csv.Row],
    found: dict[int, dict[str, Any]],
    problems: list[contact_csv.Problem],
) -> list[contact_csv.Row]:
    """Two rows matching one contact (one by its number, one by its e-mail) are one person
    twice: the second is a problem, as two rows with one number are."""
    first: dict[int, int] = {}
    kept = []
    for row in rows:
        match = found.get(row.line)
        if match is not None and match["id"] in first:
            problems.append(contact_csv.Problem(
                row.line, None, f"the same person as line {first[match['id']]}"))  # fmt: skip
            continue
        if match is not None:
            first[match["id"]] = row.line
        kept.append(row)
    problems.sort(key=lambda p: p.line)
    return kept


def _problems(problems: list[contact_csv.Problem]) -> list[dict[str, Any]]:
    return [vars(p) for p in problems[:SHOWN_PROBLEMS]]


@routes.post("/api/v1/contacts/import/preview")
async def preview(request: web.Request) -> web.Response:
    require_admin(request)
    async with request.app[POOL].acquire() as conn:
        header, mapping, rows, problems, _ = await _read(request, conn)
        found = await store.matches(conn, rows)
        rows = _one_per_contact(rows, found, problems)
    sample = [{**vars(r), "match": found.get(r.line)} for r in rows[:SAMPLE]]
    updates = sum(1 for r in rows if r.line in found)
    out = ImportPreviewOut.model_validate({
        "columns": header, "mapping": mapping, "rows": len(rows) + len(problems),
        "new": len(rows) - updates, "updates": updates, "problems": _problems(problems),
        "problem_count": len(problems), "sample": sample,
    })  # fmt: skip
    return responses.json_response(out)


@routes.post("/api/v1/contacts/import")
async def import_contacts(request: web.Request) -> web.Response:
    """Every good row, in one transaction; the bad ones are reported and nothing of them kept."""
    require_admin(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        _, _, rows, problems, owners = await _read(request, conn, held=True)
        found = await store.matches(conn, rows)
        rows = _one_per_contact(rows, found, problems)
        created, updated, conversations = await store.store(conn, rows, found, owners)
        await feed.record(conn, [("conversation.updated", i) for i in conversations])
    out = ImportOut.model_validate({
        "created": created, "updated": updated, "problems": _problems(problems),
        "problem_count": len(problems),
    })  # fmt: skip
    return responses.json_response(out)


# A cell a spreadsheet would run as a formula (=, +, -, @, a tab or a return first) is written
# with a quote before it; a phone number in E.164 is what it looks like, not a formula.
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_PHONE = re.compile(r"^\+[0-9]{6,15}$")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"  # as an import reads it back
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    text = str(value)
    return "'" + text if _FORMULA.match(text) and not _PHONE.match(text) else text


EXPORT_PAGE = 1_000
_HEADER = ("name", "phone", "other numbers", "email", "owner", "conversations", "last message",
           "added")  # fmt: skip


async def _columns(conn: Any, filters: contact_list.Filters) -> dict[str, str]:
    """Key → column of the attributes exported: the defined ones in their order, headed by
    their labels (an import maps a column by its attribute's label), then the others the
    listed contacts have, under their keys; at most contact_csv.MAX_COLUMNS in all."""
    columns: dict[str, str] = {}
    taken = {h.casefold() for h in _HEADER}
    limit = contact_csv.MAX_COLUMNS - len(_HEADER)
    defined = [(r["key"], r["label"]) for r in await attribute_store.all_of(conn)]
    others = await contact_list.attribute_names(conn, filters, limit)
    for key, label in [*defined, *((k, k) for k in others)]:
        name = label if label.casefold() not in taken else key
        if key in columns or name.casefold() in taken or len(columns) == limit:
            continue
        columns[key] = name
        taken.add(name.casefold())
    return columns


@routes.get("/api/v1/contacts/export.csv")
async def export(request: web.Request) -> web.StreamResponse:
    """The list as the manager filtered it, every page of it, streamed a thousand at a time."""
    query = ContactFilterQuery.model_validate(contact_query(request))
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="contacts.csv"',
            "Cache-Control": "no-store",
        }
    )
    async with request.app[POOL].acquire() as conn:
        filters = await filters_of(request, conn, query)
        attributes = await _columns(conn, filters)
        defined = await attribute_store.definitions(conn)

        def attribute(key: str, value: Any) -> Any:
            d = defined.get(key)
            return written(d, value) if d is not None and value is not None else value

        await response.prepare(request)
        header = [*_HEADER, *attributes.values()]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # spreadsheets read UTF-8 by its mark
        writer.writerow([_cell(h) for h in header])
        cursor = None
        while True:
            rows, more = await contact_list.page(conn, filters, cursor, EXPORT_PAGE, export=True)
            for r in rows:
                attrs = r["attributes"]
                values = attrs if isinstance(attrs, dict) else orjson.loads(attrs)
                writer.writerow([_cell(v) for v in (
                    r["display_name"], r["phone"], "; ".join(r["other_phones"]), r["email"],
                    r["owner_email"], r["conversation_count"], r["last_message_at"],
                    r["created_at"],
                    *(attribute(a, values.get(a)) for a in attributes))])  # fmt: skip
            await response.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
            if not more or not rows:
                break
            cursor = contact_list.cursor_of(rows[-1], filters.sort)
    await response.write_eof()
    return response
