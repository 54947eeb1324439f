"""Moving deals: to a place in a stage of their pipeline (above a card, or at the top), won or
lost (with a reason from the pipeline's list), reopened, each move in the deal's history and
pushed live; a move made on a version that changed since is refused, and moves at once into
the same place, or racing a change of the stages, leave every deal in a stage that exists."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg

from crm_appservice.store.deals import GAP

from .conftest import API, bearer
from .test_deals import D, P, deal, sales, settings  # noqa: F401  (the restricted settings)
from .test_live import frames_until
from .test_quick_replies import Caller


async def _move(api: API | Caller, deal_id: int, **body: Any) -> tuple[int, Any]:
    return await api.call("POST", f"{D}/{deal_id}/move", json=body)


async def _column(api: API, pipeline_id: int, stage_id: int) -> list[int]:
    board = await api.get(f"{P}/{pipeline_id}/board")
    column = next(c for c in board["columns"] if c["stage_id"] == stage_id)
    ids = [d["id"] for d in column["deals"]["items"]]
    cursor = column["deals"]["next_cursor"]
    while cursor:
        page = await api.get(D, params={"stage_id": stage_id, "cursor": cursor})
        ids += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
    return ids


async def test_won_lost_and_reopened_with_the_history_kept(api: API) -> None:
    pipeline = await sales(api)
    new, qualified, _offer, won, lost = (s["id"] for s in pipeline["stages"])
    price = pipeline["lost_reasons"][0]["id"]
    made = await deal(api, "Boat", value="100")
    status, moved = await _move(api, made["id"], stage_id=qualified)
    assert status == 200 and moved["stage_id"] == qualified and moved["version"] == 2
    status, closed = await _move(api, made["id"], stage_id=won)
    assert closed["status"] == "won" and closed["closed_at"] is not None
    # Lost needs a reason of this pipeline's; a reason goes with the lost stage only.
    for body in (
        {"stage_id": lost},
        {"stage_id": lost, "lost_reason_id": 999_999},
        {"stage_id": qualified, "lost_reason_id": price},
        {"stage_id": lost, "lost_reason_id": price, "lost_note": "a\nb"},
    ):
        status, refused = await _move(api, made["id"], **body)
        assert status == 422, (body, refused)
    status, gone = await _move(
        api, made["id"], stage_id=lost, lost_reason_id=price, lost_note="Too dear"
    )
    assert status == 200, gone
    assert gone["status"] == "lost" and gone["lost_reason_id"] == price
    assert gone["lost_note"] == "Too dear"
    # Reordered in the lost column, it stays lost for the same reason.
    other = await deal(api, "Car")
    await _move(api, other["id"], stage_id=lost, lost_reason_id=price)
    status, same = await _move(api, made["id"], stage_id=lost, before_id=other["id"])
    assert status == 200 and same["lost_reason_id"] == price and same["lost_note"] == "Too dear"
    # Reopened: open again, without a reason or a close date.
    status, back = await _move(api, made["id"], stage_id=new)
    assert back["status"] == "open" and back["lost_reason_id"] is None
    assert back["closed_at"] is None and back["lost_note"] is None
    detail = await api.get(f"{D}/{made['id']}")
    assert [(h["from_stage"], h["to_stage"]) for h in detail["history"]] == [
        (None, "New"), ("New", "Qualified"), ("Qualified", "Won"), ("Won", "Lost"),
        ("Lost", "New"),
    ]  # fmt: skip
    assert all(h["manager_name"] for h in detail["history"])


async def test_a_card_goes_where_it_is_dropped(api: API, db: asyncpg.Pool) -> None:
    pipeline = await sales(api)
    new, qualified = pipeline["stages"][0]["id"], pipeline["stages"][1]["id"]
    a, b, c = [await deal(api, name) for name in "abc"]
    assert await _column(api, pipeline["id"], new) == [c["id"], b["id"], a["id"]]
    # Above a card; at the top; into another stage above its card.
    await _move(api, c["id"], stage_id=new, before_id=a["id"])
    assert await _column(api, pipeline["id"], new) == [b["id"], c["id"], a["id"]]
    status, top = await _move(api, a["id"], stage_id=new)
    assert status == 200
    assert await _column(api, pipeline["id"], new) == [a["id"], b["id"], c["id"]]
    await _move(api, b["id"], stage_id=qualified)
    await _move(api, c["id"], stage_id=qualified, before_id=b["id"])
    assert await _column(api, pipeline["id"], qualified) == [c["id"], b["id"]]
    # Above a card of another stage, or itself: refused, nothing moved.
    for before in (a["id"], c["id"]):
        status, refused = await _move(api, c["id"], stage_id=qualified, before_id=before)
        assert status == 422 and refused["error"]["field"] == "before_id", refused
    # The top card moved to the top is no change: no new version.
    status, same = await _move(api, a["id"], stage_id=new)
    assert same["version"] == top["version"]
    # Forty drops into the same gap: the column is spread out again, in the same order.
    wanted = [a["id"]]
    for i in range(40):
        card = await deal(api, f"drop {i}")
        await _move(api, card["id"], stage_id=new, before_id=a["id"])
        wanted.insert(len(wanted) - 1, card["id"])
    assert await _column(api, pipeline["id"], new) == wanted
    gaps = await db.fetch("SELECT position FROM deals WHERE stage_id = $1 ORDER BY 1", new)
    assert len({r["position"] for r in gaps}) == len(gaps)
    assert max(r["position"] for r in gaps) <= (len(gaps) + 1) * GAP


async def test_a_move_on_a_stale_version_is_refused(
    api: API, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    mo = Caller(api, await bearer(db, await add_manager("mo@example.com", role="admin")))
    pipeline = await sales(api)
    qualified, offer = pipeline["stages"][1]["id"], pipeline["stages"][2]["id"]
    made = await deal(api, "Piano")
    async with api.client.ws_connect("/api/v1/ws", headers=mo.headers) as ws:
        await ws.receive_json()
        status, _ = await _move(api, made["id"], stage_id=qualified, version=made["version"])
        assert status == 200
        frames = await frames_until(ws, {"deal.updated"})
        assert frames[-1]["data"]["stage_id"] == qualified
    status, refused = await _move(mo, made["id"], stage_id=offer, version=made["version"])
    assert status == 409, refused
    detail = await api.get(f"{D}/{made['id']}")
    assert detail["deal"]["stage_id"] == qualified and len(detail["history"]) == 2


async def test_moves_at_once_and_a_stage_change_racing_them(api: API, db: asyncpg.Pool) -> None:
    pipeline = await sales(api)
    stages = pipeline["stages"]
    new, qualified = stages[0]["id"], stages[1]["id"]
    anchor = await deal(api, "anchor")
    await _move(api, anchor["id"], stage_id=qualified)
    cards = [await deal(api, f"card {i}") for i in range(12)]
    # Twelve cards dropped above the same card at once: each lands once, above it.
    answers = await asyncio.gather(
        *(_move(api, c["id"], stage_id=qualified, before_id=anchor["id"]) for c in cards)
    )
    assert [s for s, _ in answers] == [200] * 12
    column = await _column(api, pipeline["id"], qualified)
    assert sorted(column[:-1]) == sorted(c["id"] for c in cards) and column[-1] == anchor["id"]
    # Removing "New" (empty now) while cards move into it: each move either lands before the
    # change (which is then refused) or is refused after it; no deal is left in no stage.
    kept = [{"id": s["id"], "name": s["name"], "kind": s["kind"]} for s in stages[1:]]
    for _ in range(3):
        results = await asyncio.gather(
            api.call("PATCH", f"{P}/{pipeline['id']}", json={"stages": kept}),
            *(_move(api, c["id"], stage_id=new) for c in cards[:4]),
        )
        change, moves = results[0], results[1:]
        landed = [s for s, _ in moves if s == 200]
        if change[0] == 200:
            assert not landed and all(s == 422 for s, _ in moves), results
            break
        assert change[0] == 422 and "holds" in change[1]["error"]["message"], change
        for c in cards[:4]:
            await _move(api, c["id"], stage_id=qualified)
    orphans = await db.fetchval(
        "SELECT count(*) FROM deals d WHERE NOT EXISTS"
        " (SELECT 1 FROM deal_stages s WHERE s.id = d.stage_id)"
    )
    assert orphans == 0
