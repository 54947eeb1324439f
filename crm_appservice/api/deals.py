"""Deals: a pipeline's board (each stage's count, total and first cards in one answer, then
each column paged on), a deal added, changed, moved between stages or removed, and a contact's
deals. A restricted manager sees the deals they own. Every change is pushed live as
`deal.updated` (`deal.hidden` to a restricted manager it left) and `deal.deleted`."""

from __future__ import annotations

from typing import Any

from aiohttp import web
import asyncpg

from ..keys import POOL
from ..store import deals as store, feed, labels as label_store, managers, pipelines
from ..store.database import Conn
from . import cursors, responses
from .contacts import CONTACT, visible_contact
from .deal_models import (
    BoardOut,
    BoardQuery,
    ColumnOut,
    ColumnQuery,
    DealBody,
    DealDetailOut,
    DealList,
    DealMove,
    DealPage,
    DealPatch,
    HistoryStepOut,
)
from .middleware import current, ids, query_of, restricted_to
from .pipelines import PIPELINE, pipeline_id
from .resources import deal_out, pipeline_out
from .view_models import who

routes = web.RouteTableDef()
DEALS = "/api/v1/deals"
DEAL = ids(DEALS + "/{deal_id:id}")
FIRST_PAGE = 30


def _filters(request: web.Request, query: BoardQuery) -> store.BoardFilters:
    return store.BoardFilters(
        owner=who(query.owner, current(request).manager.id),
        unowned=query.owner == "none",
        labels=tuple(dict.fromkeys(query.label)),
        all_labels=query.label_match == "all",
        visible_to=restricted_to(request),
    )


def _page(rows: list[asyncpg.Record], limit: int) -> DealPage:
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = cursors.encode(rows[-1]["position"], rows[-1]["id"]) if more else None
    return DealPage(items=[deal_out(r) for r in rows], next_cursor=cursor)


@routes.get(PIPELINE + "/board")
async def board(request: web.Request) -> web.Response:
    query = BoardQuery.model_validate(query_of(request, "label"))
    filters = _filters(request, query)
    async with request.app[POOL].acquire() as conn:
        row = await pipelines.get(conn, pipeline_id(request))
        if row is None:
            raise responses.not_found("pipeline")
        stage_ids = [s["id"] for s in pipelines.stages_of(row)]
        columns = await store.columns(conn, stage_ids, filters)
        cards = await store.first_cards(conn, stage_ids, filters, FIRST_PAGE + 1)
    out = [
        ColumnOut(
            stage_id=c.stage_id,
            count=c.count,
            totals=c.totals,
            deals=_page(cards[c.stage_id], FIRST_PAGE),
        )
        for c in columns
    ]
    return responses.json_response(BoardOut(pipeline=pipeline_out(row), columns=out))


@routes.get(DEALS)
async def column_page(request: web.Request) -> web.Response:
    """A column's next page (the board's first page of it came with the board)."""
    query = ColumnQuery.model_validate(query_of(request, "label"))
    after = cursors.number(query.cursor) if query.cursor else None
    async with request.app[POOL].acquire() as conn:
        rows = await store.column(
            conn, query.stage_id, _filters(request, query), after, query.limit + 1
        )
    return responses.json_response(_page(rows, query.limit))


def _visible(request: web.Request, row: asyncpg.Record | None) -> asyncpg.Record:
    me = restricted_to(request)
    if row is None or (me is not None and row["owner_id"] != me):
        raise responses.not_found("deal")
    return row


async def _deal(conn: Conn, request: web.Request, lock: bool = False) -> asyncpg.Record:
    return _visible(request, await store.get(conn, int(request.match_info["deal_id"]), lock))


async def _checked(conn: Conn, request: web.Request, fields: dict[str, Any]) -> None:
    """The contact, owner and labels a deal is given exist (and the contact is one the manager
    sees); a merged contact's id is its heir's."""
    if fields.get("contact_id") is not None:
        try:
            contact = await visible_contact(request, conn, fields["contact_id"])
        except responses.APIError as e:
            raise responses.invalid("contact_id", "No contact with that id") from e
        fields["contact_id"] = contact["id"]
    if fields.get("owner_id") is not None and not await managers.exists(conn, fields["owner_id"]):
        raise responses.invalid("owner_id", "No manager with that id")
    if fields.get("label_ids"):
        fields["label_ids"] = list(dict.fromkeys(fields["label_ids"]))
        if missing := await label_store.missing(conn, fields["label_ids"]):
            raise responses.invalid("label_ids", f"No label with id {missing[0]}")


async def _answer(conn: Conn, deal_id: int, status: int = 200) -> web.Response:
    row = await store.get(conn, deal_id)
    assert row is not None
    return responses.json_response(deal_out(row), status=status)


@routes.post(DEALS)
async def add_deal(request: web.Request) -> web.Response:
    body = DealBody.model_validate_json(await request.read())
    me = current(request).manager.id
    fields = body.model_dump(exclude_none=True)
    fields.setdefault("owner_id", me)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        pid = body.pipeline_id or await pipelines.first(conn)
        if pid is None or not await pipelines.hold_shared(conn, pid):
            raise responses.invalid("pipeline_id", "No pipeline with that id")
        pipeline = await pipelines.get(conn, pid)
        assert pipeline is not None
        fields["pipeline_id"] = pid
        fields.setdefault("currency", pipeline["currency"])
        stages = pipelines.stages_of(pipeline)  # held: they stay so until the deal is in
        # The first open stage unless one is named (a pipeline has one: PipelineBody).
        stage = next(
            (s for s in stages if s["id"] == body.stage_id or body.stage_id is None), None
        )
        if stage is None:
            raise responses.invalid("stage_id", "No stage with that id in the pipeline")
        if stage["kind"] != "open":
            raise responses.invalid("stage_id", "A deal starts open: move it to close it")
        fields["stage_id"] = stage["id"]
        await _checked(conn, request, fields)
        deal_id = await store.create(conn, fields, me)
        await feed.record(conn, [("deal.updated", deal_id)])
        return await _answer(conn, deal_id, status=201)


@routes.get(DEAL)
async def get_deal(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await _deal(conn, request)
        steps = await store.history(conn, row["id"])
    out = DealDetailOut(
        deal=deal_out(row), history=[HistoryStepOut.model_validate(dict(s)) for s in steps]
    )
    return responses.json_response(out)


@routes.patch(DEAL)
async def change_deal(request: web.Request) -> web.Response:
    body = DealPatch.model_validate_json(await request.read())
    given: dict[str, Any] = body.model_dump(exclude_unset=True)
    if not given:
        raise responses.bad_request("Nothing to change")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        # The labels first, then the deal, as a label's removal takes them: never a deadlock.
        await _checked(conn, request, given)
        row = await _deal(conn, request, lock=True)
        changes = {k: v for k, v in given.items() if row[k] != v}
        if changes:
            await store.update(conn, row["id"], changes)
            await feed.record(conn, [("deal.updated", row["id"])])
        return await _answer(conn, row["id"])


async def _lost(
    conn: Conn, deal: asyncpg.Record, stage: asyncpg.Record, body: DealMove
) -> tuple[int | None, str | None]:
    """The reason and note a move to the lost stage gives (one already lost keeps its own
    when only its place changes); a move elsewhere gives none."""
    if stage["kind"] != "lost":
        if body.lost_reason_id is not None or body.lost_note is not None:
            raise responses.invalid(
                "lost_reason_id", "Only a deal moved to the lost stage has one"
            )
        return None, None
    if body.lost_reason_id is None and body.lost_note is None and deal["stage_id"] == stage["id"]:
        return deal["lost_reason_id"], deal["lost_note"]
    if body.lost_reason_id is not None:
        if not await pipelines.reason_of(conn, stage["pipeline_id"], body.lost_reason_id):
            raise responses.invalid("lost_reason_id", "No such reason in the pipeline")
    else:
        row = await pipelines.get(conn, stage["pipeline_id"])
        if row is not None and pipelines.reasons_of(row):
            raise responses.invalid("lost_reason_id", "Say why the deal was lost")
    return body.lost_reason_id, body.lost_note or None


@routes.post(DEAL + "/move")
async def move_deal(request: web.Request) -> web.Response:
    body = DealMove.model_validate_json(await request.read())
    async with request.app[POOL].acquire() as conn, conn.transaction():
        peek = await _deal(conn, request)
        # The pipeline first, as a change of its stages takes it: never a deadlock.
        await pipelines.hold_shared(conn, peek["pipeline_id"])
        deal = await _deal(conn, request, lock=True)
        if body.version is not None and body.version != deal["version"]:
            raise responses.conflict("This deal was changed meanwhile: look again and retry")
        stage = await pipelines.stage(conn, body.stage_id)
        if stage is None or stage["pipeline_id"] != deal["pipeline_id"]:
            raise responses.invalid("stage_id", "No stage with that id in the deal's pipeline")
        lost = await _lost(conn, deal, stage, body)
        try:
            moved = await store.move(
                conn,
                deal,
                stage["id"],
                body.before_id,
                current(request).manager.id,
                restricted_to(request),
                lost,
            )
        except store.NotInStage:
            raise responses.invalid("before_id", "Not a deal of that stage") from None
        if moved:
            # A spread column moved every card of it: the boards showing it load again.
            spread = [("pipeline.updated", deal["pipeline_id"])] if moved.spread else []
            await feed.record(conn, [("deal.updated", deal["id"]), *spread])
        return await _answer(conn, deal["id"])


@routes.delete(DEAL)
async def delete_deal(request: web.Request) -> web.Response:
    session = current(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await _deal(conn, request, lock=True)
        if session.manager.role != "admin" and row["owner_id"] != session.manager.id:
            raise responses.forbidden("Only its owner or an admin may remove a deal")
        await store.delete(conn, row["id"])
        await feed.record(conn, [("deal.deleted", row["id"])])
    return responses.json_response({"deleted": True})


@routes.get(CONTACT + "/deals")
async def contact_deals(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        contact = await visible_contact(request, conn, int(request.match_info["contact_id"]))
        rows = await store.of_contact(conn, contact["id"], restricted_to(request), False)
    return responses.json_response(DealList(items=[deal_out(r) for r in rows]))
