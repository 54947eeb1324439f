"""Pipelines (migrations/0025): the team's sales pipelines, each with its stages in board order
(the open ones, then the won and the lost stage) and the reasons a deal is lost. A pipeline is
read with both lists in one row, so the board and every live frame get them in one query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from .database import Conn

_SELECT = """
SELECT p.id, p.name, p.currency, p.created_at, p.updated_at,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name, 'kind', s.kind)
                                  ORDER BY s.position), '[]')
          FROM deal_stages s WHERE s.pipeline_id = p.id) AS stages,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'name', r.name)
                                  ORDER BY r.position), '[]')
          FROM lost_reasons r WHERE r.pipeline_id = p.id) AS lost_reasons
  FROM pipelines p
"""


@dataclass(frozen=True)
class Stage:
    """A stage as an admin sends it: an id to keep an existing one, none for a new one."""

    id: int | None
    name: str
    kind: str


@dataclass(frozen=True)
class Reason:
    id: int | None
    name: str


class NameTaken(Exception):
    """Another pipeline has this name (compared without case)."""


class Refused(Exception):
    """A change the pipeline's deals do not allow (its message says why)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def stages_of(row: asyncpg.Record) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = orjson.loads(row["stages"])
    return found


def reasons_of(row: asyncpg.Record) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = orjson.loads(row["lost_reasons"])
    return found


async def all_pipelines(conn: Conn) -> list[asyncpg.Record]:
    return list(await conn.fetch(_SELECT + " ORDER BY lower(p.name), p.id"))


async def by_ids(conn: Conn, ids: list[int]) -> list[asyncpg.Record]:
    return list(await conn.fetch(_SELECT + " WHERE p.id = ANY($1::bigint[])", ids))


async def get(conn: Conn, pipeline_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(_SELECT + " WHERE p.id = $1", pipeline_id)


async def hold(conn: Conn, pipeline_id: int) -> bool:
    """Whether the pipeline exists, held until the transaction ends: its stages do not change
    under a deal being put in one, and a change of its stages waits for the deal."""
    return (
        await conn.fetchval("SELECT id FROM pipelines WHERE id = $1 FOR UPDATE", pipeline_id)
        is not None
    )


async def hold_shared(conn: Conn, pipeline_id: int) -> bool:
    """As `hold`, but deals being added or moved in the pipeline do not wait for each other."""
    return (
        await conn.fetchval("SELECT id FROM pipelines WHERE id = $1 FOR SHARE", pipeline_id)
        is not None
    )


async def count(conn: Conn) -> int:
    found: int = await conn.fetchval("SELECT count(*) FROM pipelines")
    return found


async def lock(conn: Conn) -> None:
    """Until the transaction ends, pipelines are added one after the other (counted, added)."""
    await conn.execute("LOCK TABLE pipelines IN SHARE ROW EXCLUSIVE MODE")


async def create(conn: Conn, name: str, currency: str) -> int:
    try:
        found: int = await conn.fetchval(
            "INSERT INTO pipelines (name, currency) VALUES ($1, $2) RETURNING id", name, currency
        )
    except asyncpg.UniqueViolationError:
        raise NameTaken from None
    return found


async def update(conn: Conn, pipeline_id: int, name: str | None, currency: str | None) -> None:
    try:
        await conn.execute(
            "UPDATE pipelines SET name = coalesce($2, name), currency = coalesce($3, currency),"
            " updated_at = now() WHERE id = $1",
            pipeline_id,
            name,
            currency,
        )
    except asyncpg.UniqueViolationError:
        raise NameTaken from None


async def set_stages(conn: Conn, pipeline_id: int, stages: list[Stage]) -> None:
    """Make the pipeline's stages these, in this order (the pipeline held by `hold`). A stage
    kept keeps its kind (its deals' status is that kind); one left out must hold no deal."""
    rows = await conn.fetch(
        "SELECT id, name, kind FROM deal_stages WHERE pipeline_id = $1", pipeline_id
    )
    existing = {r["id"]: r for r in rows}
    for stage in stages:
        if stage.id is None:
            continue
        old = existing.get(stage.id)
        if old is None:
            raise Refused("stages", f"No stage with id {stage.id} in this pipeline")
        if old["kind"] != stage.kind:
            raise Refused(
                "stages", f"{old['name']} is a stage of {old['kind']} deals: add a new one"
            )
    kept = {s.id for s in stages if s.id is not None}
    gone = [i for i in existing if i not in kept]
    if gone:
        busy = await conn.fetchrow(
            "SELECT s.name, count(*) AS n FROM deals d JOIN deal_stages s ON s.id = d.stage_id"
            " WHERE d.stage_id = ANY($1::bigint[]) GROUP BY s.name ORDER BY s.name LIMIT 1",
            gone,
        )
        if busy is not None:
            raise Refused(
                "stages", f"{busy['name']} holds {busy['n']} deals: move them before removing it"
            )
        await conn.execute("DELETE FROM deal_stages WHERE id = ANY($1::bigint[])", gone)
    for position, stage in enumerate(stages, start=1):
        if stage.id is None:
            await conn.execute(
                "INSERT INTO deal_stages (pipeline_id, name, kind, position)"
                " VALUES ($1, $2, $3, $4)",
                pipeline_id,
                stage.name,
                stage.kind,
                position,
            )
        else:
            await conn.execute(
                "UPDATE deal_stages SET name = $2, position = $3 WHERE id = $1",
                stage.id,
                stage.name,
                position,
            )


async def set_reasons(conn: Conn, pipeline_id: int, reasons: list[Reason]) -> None:
    """Make the pipeline's lost reasons these, in this order. A deal lost for a reason removed
    keeps its note and shows no reason."""
    existing = {
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM lost_reasons WHERE pipeline_id = $1", pipeline_id
        )
    }
    for reason in reasons:
        if reason.id is not None and reason.id not in existing:
            raise Refused("lost_reasons", f"No lost reason with id {reason.id} in this pipeline")
    kept = {r.id for r in reasons if r.id is not None}
    await conn.execute(
        "DELETE FROM lost_reasons WHERE pipeline_id = $1 AND NOT id = ANY($2::bigint[])",
        pipeline_id,
        list(kept),
    )
    for position, reason in enumerate(reasons, start=1):
        if reason.id is None:
            await conn.execute(
                "INSERT INTO lost_reasons (pipeline_id, name, position) VALUES ($1, $2, $3)",
                pipeline_id,
                reason.name,
                position,
            )
        else:
            await conn.execute(
                "UPDATE lost_reasons SET name = $2, position = $3 WHERE id = $1",
                reason.id,
                reason.name,
                position,
            )


async def delete(conn: Conn, pipeline_id: int) -> None:
    """Remove an empty pipeline (held by `hold`); one with deals is refused."""
    held = await conn.fetchval("SELECT count(*) FROM deals WHERE pipeline_id = $1", pipeline_id)
    if held:
        raise Refused("pipeline", f"The pipeline holds {held} deals: move or remove them first")
    await conn.execute("DELETE FROM pipelines WHERE id = $1", pipeline_id)


async def stage(conn: Conn, stage_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, pipeline_id, name, kind FROM deal_stages WHERE id = $1", stage_id
    )


async def reason_of(conn: Conn, pipeline_id: int, reason_id: int) -> bool:
    return (
        await conn.fetchval(
            "SELECT 1 FROM lost_reasons WHERE id = $1 AND pipeline_id = $2", reason_id, pipeline_id
        )
        is not None
    )


async def first(conn: Conn) -> int | None:
    """The pipeline a deal goes to when none is named: the first by name."""
    found: int | None = await conn.fetchval(
        "SELECT id FROM pipelines ORDER BY lower(name), id LIMIT 1"
    )
    return found
