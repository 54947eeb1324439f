"""Pipelines: everyone reads them (the board, "New deal"), admins keep them. A change of a
pipeline's stages or lost reasons is one request with the whole ordered list, checked against
the deals it holds (a stage with deals is not removed, a stage keeps its kind), and pushed live
as `pipeline.updated`; a removal as `pipeline.deleted`."""

from __future__ import annotations

from aiohttp import web

from ..keys import POOL
from ..store import feed, pipelines as store
from ..store.database import Conn
from . import responses
from .deal_models import PipelineBody, PipelineList, PipelinePatch, ReasonIn, StageIn
from .middleware import ids, require_admin
from .resources import pipeline_out

routes = web.RouteTableDef()
PIPELINES = "/api/v1/pipelines"
PIPELINE = ids(PIPELINES + "/{pipeline_id:id}")
# Each pipeline is a board of its own: a team has a few (sales, wholesale, renewals).
LIMIT = 20


def pipeline_id(request: web.Request) -> int:
    return int(request.match_info["pipeline_id"])


def _taken(name: str) -> responses.APIError:
    return responses.conflict(f"There is a pipeline named {name} already")


def _refused(e: store.Refused) -> responses.APIError:
    return (
        responses.conflict(e.message)
        if e.field == "pipeline"
        else responses.invalid(e.field, e.message)
    )


async def _lists(
    conn: Conn, pid: int, stages: list[StageIn] | None, reasons: list[ReasonIn] | None
) -> None:
    try:
        if stages is not None:
            await store.set_stages(conn, pid, [store.Stage(s.id, s.name, s.kind) for s in stages])
        if reasons is not None:
            await store.set_reasons(conn, pid, [store.Reason(r.id, r.name) for r in reasons])
    except store.Refused as e:
        raise _refused(e) from None


async def _answer(conn: Conn, pid: int, status: int = 200) -> web.Response:
    await feed.record(conn, [("pipeline.updated", pid)])
    row = await store.get(conn, pid)
    assert row is not None
    return responses.json_response(pipeline_out(row), status=status)


@routes.get(PIPELINES)
async def list_pipelines(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await store.all_pipelines(conn)
    return responses.json_response(PipelineList(items=[pipeline_out(r) for r in rows]))


@routes.post(PIPELINES)
async def add_pipeline(request: web.Request) -> web.Response:
    require_admin(request)
    body = PipelineBody.model_validate_json(await request.read())
    if any(s.id is not None for s in body.stages) or any(
        r.id is not None for r in body.lost_reasons
    ):
        raise responses.invalid("stages", "A new pipeline's stages and reasons are new: no ids")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await store.lock(conn)
        if await store.count(conn) >= LIMIT:
            raise responses.conflict(f"At most {LIMIT} pipelines")
        try:
            pid = await store.create(conn, body.name, body.currency)
        except store.NameTaken:
            raise _taken(body.name) from None
        await _lists(conn, pid, body.stages, body.lost_reasons)
        return await _answer(conn, pid, status=201)


@routes.patch(PIPELINE)
async def change_pipeline(request: web.Request) -> web.Response:
    require_admin(request)
    body = PipelinePatch.model_validate_json(await request.read())
    if not body.model_fields_set:
        raise responses.bad_request("Nothing to change")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        pid = pipeline_id(request)
        if not await store.hold(conn, pid):
            raise responses.not_found("pipeline")
        try:
            await store.update(conn, pid, body.name, body.currency)
        except store.NameTaken:
            raise _taken(body.name or "") from None
        await _lists(conn, pid, body.stages, body.lost_reasons)
        return await _answer(conn, pid)


@routes.delete(PIPELINE)
async def delete_pipeline(request: web.Request) -> web.Response:
    require_admin(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        pid = pipeline_id(request)
        if not await store.hold(conn, pid):
            raise responses.not_found("pipeline")
        try:
            await store.delete(conn, pid)
        except store.Refused as e:
            raise _refused(e) from None
        await feed.record(conn, [("pipeline.deleted", pid)])
    return responses.json_response({"deleted": True})
