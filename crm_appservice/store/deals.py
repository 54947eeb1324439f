"""Deals (migrations/0025): a board's columns in order, a contact's deals, and a deal added,
changed, moved between stages (with its history) or removed. A deal's status follows its stage
by the table's trigger; its place in a column is `position` (smaller is higher)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg

from . import labels
from .database import Conn, set_clause
from .sql import Where

# The room left between two cards: a card dropped between them takes the middle, so about 20
# drops into the same gap fit before its column is spread out again.
GAP = 1 << 20

_SELECT = """
SELECT d.id, d.pipeline_id, d.stage_id, d.position, d.title, d.value, d.currency, d.contact_id,
       c.display_name AS contact_name, c.phone AS contact_phone, d.owner_id,
       m.name AS owner_name, d.expected_close, d.status, d.lost_reason_id, d.lost_note,
       d.closed_at, d.label_ids, d.version, d.created_at, d.updated_at
  FROM deals d
  LEFT JOIN contacts c ON c.id = d.contact_id
  LEFT JOIN managers m ON m.id = d.owner_id
"""
# Who may see a deal: everyone, or (a restricted manager, $n) their own: a deal names its
# customer, whom a restricted manager may not see unless the deal is given to them.
_VISIBLE = "({0}::bigint IS NULL OR d.owner_id = {0})"
# The changes a PATCH may make, and the columns they are.
EDITABLE = frozenset(
    {"title", "value", "currency", "contact_id", "owner_id", "expected_close", "label_ids"}
)


@dataclass
class BoardFilters:
    """What narrows a board: the owner (or nobody's), labels, who looks."""

    owner: int | None = None
    unowned: bool = False
    labels: tuple[int, ...] = ()
    all_labels: bool = False
    visible_to: int | None = None

    def where(self) -> Where:
        where = Where()
        where.add(_VISIBLE, self.visible_to)
        if self.unowned:
            where.add("d.owner_id IS NULL")
        elif self.owner is not None:
            where.add("d.owner_id = {0}", self.owner)
        if self.labels:
            where.add(labels.condition("d.label_ids", self.all_labels), self.labels)
        return where


@dataclass(frozen=True)
class Column:
    stage_id: int
    count: int
    totals: dict[str, Decimal]


async def get(conn: Conn, deal_id: int, lock: bool = False) -> asyncpg.Record | None:
    """The deal; with `lock`, its row held until the transaction ends (a change, a move)."""
    held = " FOR NO KEY UPDATE OF d" if lock else ""
    return await conn.fetchrow(_SELECT + f" WHERE d.id = $1{held}", deal_id)


async def by_ids(conn: Conn, ids: list[int]) -> list[asyncpg.Record]:
    return list(await conn.fetch(_SELECT + " WHERE d.id = ANY($1::bigint[])", ids))


async def columns(conn: Conn, stage_ids: list[int], filters: BoardFilters) -> list[Column]:
    """Each stage's number of deals and their total per currency, in one statement. Narrowed
    by owner or labels, it is read from their indexes; a whole pipeline is every one of its
    deals read once (measured by bench.web)."""
    where = filters.where()
    where.add("d.stage_id = ANY({0}::bigint[])", stage_ids)
    rows = await conn.fetch(
        "SELECT d.stage_id, d.currency, count(*) AS n, sum(d.value) AS total FROM deals d"
        f" WHERE {where.sql()} GROUP BY d.stage_id, d.currency",
        *where.args,
    )
    counts = dict.fromkeys(stage_ids, 0)
    totals: dict[int, dict[str, Decimal]] = {s: {} for s in stage_ids}
    for row in rows:
        counts[row["stage_id"]] += row["n"]
        totals[row["stage_id"]][row["currency"]] = row["total"]
    return [Column(s, counts[s], totals[s]) for s in stage_ids]


async def first_cards(
    conn: Conn, stage_ids: list[int], filters: BoardFilters, limit: int
) -> dict[int, list[asyncpg.Record]]:
    """The first `limit` deals of each stage in board order, in one statement (a board opens
    with one query for its cards, whatever its number of stages)."""
    where = filters.where()
    where.add("d.stage_id = s.stage_id")
    stages = len(where.args) + 1
    rows = await conn.fetch(
        f"SELECT x.* FROM unnest(${stages}::bigint[]) AS s(stage_id) CROSS JOIN LATERAL"
        f" ({_SELECT} WHERE {where.sql()} ORDER BY d.position, d.id LIMIT {int(limit)}) x",
        *where.args,
        stage_ids,
    )
    found: dict[int, list[asyncpg.Record]] = {s: [] for s in stage_ids}
    for row in rows:
        found[row["stage_id"]].append(row)
    return found


async def column(
    conn: Conn,
    stage_id: int,
    filters: BoardFilters,
    after: tuple[int, int] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """A page of a stage's deals in board order, after the (position, id) of a cursor."""
    where = filters.where()
    where.add("d.stage_id = {0}", stage_id)
    if after is not None:
        where.add("(d.position, d.id) > ({0}, {1})", *after)
    return list(
        await conn.fetch(
            _SELECT + f" WHERE {where.sql()} ORDER BY d.position, d.id LIMIT {int(limit)}",
            *where.args,
        )
    )


async def of_contact(
    conn: Conn, contact_id: int, visible_to: int | None, open_only: bool
) -> list[asyncpg.Record]:
    """A contact's deals, open ones first and newest first (at most 100: a side panel's)."""
    where = Where()
    where.add(_VISIBLE, visible_to)
    where.add("d.contact_id = {0}", contact_id)
    if open_only:
        where.add("d.status = 'open'")
    return list(
        await conn.fetch(
            _SELECT + f" WHERE {where.sql()} ORDER BY d.status <> 'open', d.id DESC LIMIT 100",
            *where.args,
        )
    )


async def _top(conn: Conn, stage_id: int) -> int:
    found: int | None = await conn.fetchval(
        "SELECT min(position) FROM deals WHERE stage_id = $1", stage_id
    )
    return (found if found is not None else 0) - GAP


async def create(conn: Conn, fields: dict[str, Any], manager_id: int) -> int:
    """Add a deal at the top of its stage, with its first history row."""
    columns_ = ["pipeline_id", "stage_id", *sorted(set(fields) - {"pipeline_id", "stage_id"})]
    values = [fields[c] for c in columns_]
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    n = len(values)
    deal_id: int = await conn.fetchval(
        f"INSERT INTO deals ({', '.join(columns_)}, position, created_by)"
        f" VALUES ({params}, ${n + 1}, ${n + 2}) RETURNING id",
        *values,
        await _top(conn, fields["stage_id"]),
        manager_id,
    )
    await _history(conn, deal_id, None, fields["stage_id"], manager_id)
    return deal_id


async def update(conn: Conn, deal_id: int, changes: dict[str, Any]) -> None:
    assert set(changes) <= EDITABLE
    sets, values = set_clause(changes, first_param=2)
    await conn.execute(
        f"UPDATE deals SET {sets}, version = version + 1, updated_at = now() WHERE id = $1",
        deal_id,
        *values,
    )


async def _spread(conn: Conn, stage_id: int) -> None:
    """Give a column's cards their room again, in the same order."""
    await conn.execute(
        """
        UPDATE deals d SET position = r.n * $2::bigint, version = d.version + 1
          FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS n
                  FROM deals WHERE stage_id = $1) r
         WHERE d.id = r.id
        """,
        stage_id,
        GAP,
    )


@dataclass
class Placed:
    """Where a move put a deal: its position, and whether its column was spread out for it
    (every card of it moved: the boards showing it load again)."""

    position: int | None = None
    spread: bool = False


async def _place(
    conn: Conn, deal_id: int, stage_id: int, before_id: int | None, visible_to: int | None
) -> Placed:
    """The position that puts the deal just above `before_id` in the stage (None: at the top);
    none if `before_id` is not a deal of that stage the manager sees."""
    placed = Placed()
    if before_id is None:
        placed.position = await _top(conn, stage_id)
        return placed
    for _ in range(2):
        below = await conn.fetchrow(
            f"SELECT position, id FROM deals d WHERE id = $1 AND stage_id = $2"
            f" AND {_VISIBLE.format('$3')}",
            before_id,
            stage_id,
            visible_to,
        )
        if below is None:
            return placed
        above: int | None = await conn.fetchval(
            "SELECT position FROM deals WHERE stage_id = $1 AND id <> $2"
            " AND (position, id) < ($3, $4) ORDER BY position DESC, id DESC LIMIT 1",
            stage_id,
            deal_id,
            below["position"],
            below["id"],
        )
        if above is None:
            placed.position = below["position"] - GAP
            return placed
        if below["position"] - above > 1:
            placed.position = (above + below["position"]) // 2
            return placed
        await _spread(conn, stage_id)
        placed.spread = True
    raise AssertionError("a spread column has room")


class NotInStage(Exception):
    """The card to go above is not in the stage the deal is moved to."""


async def move(
    conn: Conn,
    deal: asyncpg.Record,
    stage_id: int,
    before_id: int | None,
    manager_id: int,
    visible_to: int | None,
    lost: tuple[int | None, str | None] = (None, None),
) -> Placed | None:
    """Move a held deal to a place in a stage of its pipeline (`lost`: the reason and note,
    when that stage is the lost one); None if it is there already."""
    if before_id == deal["id"]:
        raise NotInStage
    if before_id is None and deal["stage_id"] == stage_id and not any(lost):
        top = await conn.fetchval(
            "SELECT id FROM deals WHERE stage_id = $1 ORDER BY position, id LIMIT 1", stage_id
        )
        if top == deal["id"]:
            return None
    placed = await _place(conn, deal["id"], stage_id, before_id, visible_to)
    if placed.position is None:
        raise NotInStage
    reason, note = lost
    await conn.execute(
        "UPDATE deals SET stage_id = $2, position = $3, lost_reason_id = $4, lost_note = $5,"
        " version = version + 1, updated_at = now() WHERE id = $1",
        deal["id"],
        stage_id,
        placed.position,
        reason,
        note,
    )
    if deal["stage_id"] != stage_id:
        await _history(conn, deal["id"], deal["stage_id"], stage_id, manager_id)
    return placed


async def _history(
    conn: Conn, deal_id: int, from_stage: int | None, to_stage: int, manager_id: int
) -> None:
    await conn.execute(
        "INSERT INTO deal_stage_history (deal_id, from_stage_id, to_stage_id, manager_id)"
        " VALUES ($1, $2, $3, $4)",
        deal_id,
        from_stage,
        to_stage,
        manager_id,
    )


async def history(conn: Conn, deal_id: int) -> list[asyncpg.Record]:
    """The deal's moves, oldest first, with the stages' and managers' names of now."""
    return list(
        await conn.fetch(
            """
            SELECT h.id, h.from_stage_id, f.name AS from_stage, h.to_stage_id,
                   t.name AS to_stage, h.manager_id, m.name AS manager_name, h.at
              FROM deal_stage_history h
              LEFT JOIN deal_stages f ON f.id = h.from_stage_id
              LEFT JOIN deal_stages t ON t.id = h.to_stage_id
              LEFT JOIN managers m ON m.id = h.manager_id
             WHERE h.deal_id = $1 ORDER BY h.id LIMIT 500
            """,
            deal_id,
        )
    )


async def delete(conn: Conn, deal_id: int) -> None:
    await conn.execute("DELETE FROM deals WHERE id = $1", deal_id)
