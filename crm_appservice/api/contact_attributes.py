"""`/api/v1/contact-attributes`: the attributes a team keeps about its customers. Every manager
reads them (the contact's page and the list's filters are drawn from them); admins define them.

A definition made under a key contacts already have values for (from an import before, or a
definition removed and made again) takes those values if each is one of its kind, converted
("1500" becomes 1500 for a number); if any is not, it is refused with examples, and nothing
changes. A kind is never changed (the values would not be of it): a new attribute is made.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..attribute_kinds import BadValue, Definition, from_json, from_text, key_for, written
from ..keys import POOL
from ..store import contact_attributes as store
from . import responses
from .attribute_models import AttributeBody, AttributeList, AttributeOut, AttributePatch
from .middleware import ids, require_admin

routes = web.RouteTableDef()
ATTRIBUTE = ids("/api/v1/contact-attributes/{attribute_id:id}")
MAX_ATTRIBUTES = 100
SHOWN = 3
NUMBER_KIND = Definition("", "", "number")


def _out(row: Any) -> AttributeOut:
    return AttributeOut.model_validate({**dict(row), "choices": list(row["choices"])})


def _fitting(d: Definition, found: list[tuple[int, Any, bool]]) -> list[tuple[int, Any]]:
    """The values that change to fit the kind; raises when any of a live contact cannot (a
    merged contact's stays as it is)."""
    converted, bad = [], []
    for contact_id, value, live in found:
        try:
            kept = from_json(d, value)
        except BadValue:
            try:
                # A stored number as itself (1.234 is no ambiguous "1.234" of a text).
                as_text = value if isinstance(value, str) else written(NUMBER_KIND, value)
                kept = from_text(d, as_text)
            except BadValue:
                if live:
                    bad.append(value)
                continue
        if kept != value or type(kept) is not type(value):
            converted.append((contact_id, kept))
    if bad:
        examples = ", ".join(repr(v) for v in bad[:SHOWN])
        raise responses.invalid(
            "kind",
            f"{len(bad)} contacts have a value under {d.key} that is not a {d.kind} "
            f"(e.g. {examples}): change them first, or choose another kind or key",
        )
    return converted


def _free_key(key: str, taken: set[str]) -> str:
    """The key, or the first of key_2, key_3… not taken ("Budget EUR" after "Budget (EUR)")."""
    n = 1
    found = key
    while found in taken:
        n += 1
        suffix = f"_{n}"
        found = key[: 40 - len(suffix)] + suffix
    return found


@routes.get("/api/v1/contact-attributes")
async def list_attributes(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await store.all_of(conn)
    return responses.json_response(AttributeList(items=[_out(r) for r in rows]))


@routes.post("/api/v1/contact-attributes")
async def add_attribute(request: web.Request) -> web.Response:
    require_admin(request)
    body = AttributeBody.model_validate_json(await request.read())
    if (body.kind == "choice") != bool(body.choices):
        raise responses.invalid(
            "choices", "A choice needs its options" if body.kind == "choice"
            else "Only a choice has options")  # fmt: skip
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await store.hold_definitions(conn)
        there = await store.all_of(conn)
        if len(there) >= MAX_ATTRIBUTES:
            raise responses.conflict(f"A team keeps at most {MAX_ATTRIBUTES} attributes")
        key = body.key or _free_key(key_for(body.label), {r["key"] for r in there})
        d = Definition(key, body.label, body.kind, tuple(body.choices))
        try:
            row = await store.create(conn, key, body.label, body.kind, body.choices)
        except store.KeyTaken:
            raise responses.conflict(f"An attribute is kept under {key} already") from None
        await store.convert(conn, key, _fitting(d, await store.values(conn, key)))
    return responses.json_response(_out(row), status=201)


@routes.patch(ATTRIBUTE)
async def change_attribute(request: web.Request) -> web.Response:
    require_admin(request)
    body = AttributePatch.model_validate_json(await request.read())
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if not changes:
        raise responses.bad_request("Nothing to change")
    based_on = changes.pop("based_on", None)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await store.hold_definitions(conn)
        row = await store.get(conn, int(request.match_info["attribute_id"]))
        if row is None:
            raise responses.not_found("attribute")
        if based_on is not None and based_on != row["updated_at"]:
            raise responses.conflict(f"{row['label']} was changed meanwhile: look at it again")
        if not changes:
            raise responses.bad_request("Nothing to change")
        if "choices" in changes:
            if row["kind"] != "choice":
                raise responses.invalid("choices", "Only a choice has options")
            if not changes["choices"]:
                raise responses.invalid("choices", "A choice needs its options")
            left_out = [c for c in row["choices"] if c not in changes["choices"]]
            held = await store.using_choice(conn, row["key"], left_out)
            if held:
                choice, count = next(iter(held.items()))
                raise responses.conflict(
                    f"{count} contacts hold {choice!r}: change them before it is left out"
                )
        row = await store.update(conn, row["id"], changes)
    assert row is not None
    return responses.json_response(_out(row))


@routes.delete(ATTRIBUTE)
async def delete_attribute(request: web.Request) -> web.Response:
    """The values stay on the contacts (shown as other details, removable there)."""
    require_admin(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await store.hold_definitions(conn)
        if not await store.delete(conn, int(request.match_info["attribute_id"])):
            raise responses.not_found("attribute")
    return responses.json_response({"deleted": True})
