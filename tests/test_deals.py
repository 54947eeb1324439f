"""Pipelines and deals: admins keep the pipelines (stages in board order, lost reasons), any
manager adds and changes the deals they see (a restricted manager: their own and nobody's),
the board counts and totals each stage under its filters and pages its columns, and every
change is pushed live. Moving deals between stages: test_deal_moves.py."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from crm_appservice.config import Settings

from . import factories as f
from .conftest import API, ConfigFactory, Homeserver, bearer, offline_settings
from .test_live import frames_until
from .test_quick_replies import Caller

P = "/api/v1/pipelines"
D = "/api/v1/deals"
STAGES = [{"name": "New"}, {"name": "Won", "kind": "won"}, {"name": "Lost", "kind": "lost"}]


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    # Managers see their own and unassigned conversations, and the deals they own.
    return offline_settings(make_config, {"web.managers_see": "assigned"})


async def sales(api: API | Caller) -> Any:
    """The pipeline a team starts with."""
    status, body = await api.call("GET", P)
    assert status == 200, body
    return next(p for p in body["items"] if p["name"] == "Sales")


async def deal(caller: API | Caller, title: str, **fields: Any) -> Any:
    status, made = await caller.call("POST", D, json={"title": title, **fields})
    assert status == 201, made
    return made


async def contact(hs: Homeserver, db: asyncpg.Pool, n: int, assignee: int | None = None) -> int:
    room, phone = f"!deal{n}", f"3369300{n:04d}"
    await hs.ok([*f.portal(room, phone, f"Customer {n}"), f.text(room, f.ghost(phone), "hi")])
    row = await db.fetchrow("SELECT id, contact_id FROM conversations WHERE room_id = $1", room)
    if assignee is not None:
        await db.execute("UPDATE conversations SET assignee_id = $2 WHERE id = $1", row["id"],
                         assignee)  # fmt: skip
    found: int = row["contact_id"]
    return found


async def test_a_team_starts_with_a_sales_pipeline(api: API) -> None:
    pipeline = await sales(api)
    assert [(s["name"], s["kind"]) for s in pipeline["stages"]] == [
        ("New", "open"), ("Qualified", "open"), ("Offer sent", "open"), ("Won", "won"),
        ("Lost", "lost"),
    ]  # fmt: skip
    assert [r["name"] for r in pipeline["lost_reasons"]][:2] == ["Price", "Chose a competitor"]
    assert pipeline["currency"] == "EUR"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "name": "P",
                "stages": [
                    {"name": "Won", "kind": "won"},
                    {"name": "Lost", "kind": "lost"},
                    {"name": "Lost 2", "kind": "lost"},
                ],
            },
            "stages",
        ),
        (
            {
                "name": "P",
                "stages": [
                    {"name": "A"},
                    {"name": "Lost", "kind": "lost"},
                    {"name": "Won", "kind": "won"},
                ],
            },
            "stages",
        ),
        (
            {
                "name": "P",
                "stages": [
                    {"name": "A"},
                    {"name": "a"},
                    {"name": "W", "kind": "won"},
                    {"name": "L", "kind": "lost"},
                ],
            },
            "stages",
        ),
        ({"name": "P", "stages": [{"name": "A", "kind": "closed"}, *STAGES[1:]]}, "stages"),
        ({"name": "P", "stages": [{"name": "A\nB"}, *STAGES[1:]]}, "stages"),
        ({"name": "", "stages": STAGES}, "name"),
        ({"name": "P", "currency": "eur", "stages": STAGES}, "currency"),
        (
            {"name": "P", "stages": STAGES, "lost_reasons": [{"name": "x"}, {"name": "X"}]},
            "lost_reasons",
        ),
        ({"name": "P", "stages": [{"id": 1, "name": "New"}, *STAGES[1:]]}, "stages"),
        ({"name": "P", "stages": STAGES, "colour": "red"}, "colour"),
    ],
)
async def test_a_pipeline_is_refused_when_its_stages_are_not_a_board(
    api: API, body: dict[str, Any], field: str
) -> None:
    status, answer = await api.call("POST", P, json=body)
    assert status == 422, answer
    assert answer["error"]["field"].split(".")[0] == field, answer
    assert len((await api.get(P))["items"]) == 1


async def test_admins_keep_pipelines_and_deals_hold_their_stages(
    api: API, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    mo = Caller(api, await bearer(db, await add_manager("mo@example.com")))
    status, _ = await mo.call("POST", P, json={"name": "Mine", "stages": STAGES})
    assert status == 403
    status, made = await api.call(
        "POST", P, json={"name": " Wholesale ", "currency": "USD", "stages": STAGES,
                         "lost_reasons": [{"name": "Price"}]},
    )  # fmt: skip
    assert status == 201, made
    assert made["name"] == "Wholesale" and made["currency"] == "USD"
    status, again = await api.call("POST", P, json={"name": "wholesale", "stages": STAGES})
    assert status == 409, again
    new, won, lost = (s["id"] for s in made["stages"])
    held = await deal(mo, "Pallets", pipeline_id=made["id"])
    assert held["stage_id"] == new and held["currency"] == "USD" and held["status"] == "open"

    # Renamed, reordered, a stage added: the ids kept keep their deals.
    status, changed = await api.call("PATCH", f"{P}/{made['id']}", json={"stages": [
        {"name": "Lead"}, {"id": new, "name": "Talking"},
        {"id": won, "name": "Won", "kind": "won"},
        {"id": lost, "name": "Lost", "kind": "lost"}]})  # fmt: skip
    assert status == 200, changed
    assert [s["name"] for s in changed["stages"]] == ["Lead", "Talking", "Won", "Lost"]
    # A stage with deals is not removed; a kept stage keeps its kind; ids are the pipeline's.
    lead = changed["stages"][0]["id"]
    for stages, wanted in (
        ([{"id": lead, "name": "Lead"}, *changed["stages"][2:]], "Talking holds 1 deals"),
        ([{"id": new, "name": "Talking", "kind": "won"}, {"name": "L", "kind": "lost"}], None),
        ([{"id": 1, "name": "Theirs"}, *changed["stages"][1:]], "No stage with id 1"),
    ):
        full = [{k: v for k, v in s.items() if k in ("id", "name", "kind")} for s in stages]
        status, refused = await api.call("PATCH", f"{P}/{made['id']}", json={"stages": full})
        assert status == 422, refused
        if wanted:
            assert wanted in refused["error"]["message"], refused
    status, refused = await api.call("DELETE", f"{P}/{made['id']}")
    assert status == 409 and "holds 1 deals" in refused["error"]["message"]
    # An empty stage goes; so does an empty pipeline, with its frame.
    kept = [{k: v for k, v in s.items() if k in ("id", "name", "kind")}
            for s in changed["stages"][1:]]  # fmt: skip
    status, fewer = await api.call("PATCH", f"{P}/{made['id']}", json={"stages": kept})
    assert status == 200 and len(fewer["stages"]) == 3
    status, _ = await api.call("DELETE", f"{D}/{held['id']}")
    async with api.client.ws_connect("/api/v1/ws", headers=mo.headers) as ws:
        await ws.receive_json()
        status, _ = await api.call("DELETE", f"{P}/{made['id']}")
        assert status == 200
        frames = await frames_until(ws, {"pipeline.deleted"})
    assert frames[-1]["data"] == {"id": made["id"]}


async def test_a_deal_is_checked_and_defaults_to_its_pipeline(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    pipeline = await sales(api)
    customer = await contact(hs, db, 1)
    made = await deal(api, "Kitchen", value="1.234,50", contact_id=customer, label_ids=[])
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    assert (
        made["pipeline_id"] == pipeline["id"] and made["stage_id"] == pipeline["stages"][0]["id"]
    )
    assert Decimal(made["value"]) == Decimal("1234.50") and made["currency"] == "EUR"
    assert made["owner_id"] == me and made["contact"]["id"] == customer
    assert made["contact"]["display_name"] == "Customer 1" and made["version"] == 1
    won = pipeline["stages"][3]["id"]
    for body, field in (
        ({"title": " "}, "title"),
        ({"title": "x", "value": "-1"}, "value"),
        ({"title": "x", "value": "1e20"}, "value"),
        ({"title": "x", "value": "0.001"}, "value"),
        ({"title": "x", "value": "NaN"}, "value"),
        ({"title": "x", "value": "Infinity"}, "value"),
        ({"title": "x", "value": "1,2,3"}, "value"),
        ({"title": "x", "value": 1e300}, "value"),
        ({"title": "Sofa\nfor Rita"}, "title"),
        ({"title": "Sofa\u2028for Rita"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "x", "label_ids": list(range(1, 52))}, "label_ids"),
        ({"title": "x", "contact_id": 10**19}, "contact_id"),
        ({"title": "x", "currency": "€"}, "currency"),
        ({"title": "x", "stage_id": won}, "stage_id"),
        ({"title": "x", "stage_id": 999_999}, "stage_id"),
        ({"title": "x", "pipeline_id": 999_999}, "pipeline_id"),
        ({"title": "x", "contact_id": 999_999}, "contact_id"),
        ({"title": "x", "owner_id": 999_999}, "owner_id"),
        ({"title": "x", "label_ids": [999_999]}, "label_ids"),
        ({"title": "x", "expected_close": "tomorrow"}, "expected_close"),
        ({"title": "x", "status": "won"}, "status"),
    ):
        status, answer = await api.call("POST", D, json=body)
        assert status == 422, (body, answer)
        assert answer["error"]["field"] == field, (body, answer)
    assert await db.fetchval("SELECT count(*) FROM deals") == 1

    # A PATCH changes what it names; the same values again change nothing.
    status, label = await api.call(
        "POST", "/api/v1/labels", json={"name": "VIP", "colour": "#aa0000"}
    )
    assert status == 201
    body = {"title": "Kitchen and hall", "label_ids": [label["id"]],
            "expected_close": "2027-01-31",
            "contact_id": None}  # fmt: skip
    status, changed = await api.call("PATCH", f"{D}/{made['id']}", json=body)
    assert status == 200, changed
    assert changed["version"] == 2 and changed["contact"] is None
    assert changed["label_ids"] == [label["id"]] and changed["expected_close"] == "2027-01-31"
    status, same = await api.call("PATCH", f"{D}/{made['id']}", json=body)
    assert same["version"] == 2
    status, _ = await api.call("PATCH", f"{D}/{made['id']}", json={"title": None})
    assert status == 422
    # A label's removal takes it off the deal.
    await api.call("DELETE", f"/api/v1/labels/{label['id']}")
    assert (await api.get(f"{D}/{made['id']}"))["deal"]["label_ids"] == []


async def test_restricted_managers_see_the_deals_they_own(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    mo_id, ola_id = await add_manager("mo@example.com"), await add_manager("ola@example.com")
    mo, ola = Caller(api, await bearer(db, mo_id)), Caller(api, await bearer(db, ola_id))
    theirs = await contact(hs, db, 2, assignee=ola_id)
    status, refused = await mo.call("POST", D, json={"title": "x", "contact_id": theirs})
    assert status == 422 and refused["error"]["field"] == "contact_id"
    olas = await deal(ola, "Ola's", contact_id=theirs)
    nobodys = await deal(api, "Open to all", owner_id=None)
    assert nobodys["owner_id"] is not None  # null means "me" on a new deal
    await api.call("PATCH", f"{D}/{nobodys['id']}", json={"owner_id": None})
    mine = await deal(mo, "Mo's")
    pipeline = await sales(api)
    status, board = await mo.call("GET", f"{P}/{pipeline['id']}/board")
    assert status == 200
    # Nobody's deal names a customer Mo may not see: only his own are his.
    assert [d["id"] for d in board["columns"][0]["deals"]["items"]] == [mine["id"]]
    assert board["columns"][0]["count"] == 1
    status, _ = await mo.call("GET", f"{D}/{nobodys['id']}")
    assert status == 404
    # Nor can he find one out as the card to drop his above.
    new = pipeline["stages"][0]["id"]
    status, refused = await mo.call(
        "POST", f"{D}/{mine['id']}/move", json={"stage_id": new, "before_id": olas["id"]}
    )
    assert status == 422 and refused["error"]["field"] == "before_id"
    status, _ = await mo.call("GET", f"{D}/{olas['id']}")
    assert status == 404
    status, _ = await mo.call("PATCH", f"{D}/{olas['id']}", json={"title": "mine now"})
    assert status == 404
    status, _ = await mo.call("DELETE", f"{D}/{olas['id']}")
    assert status == 404

    # Mo hands his deal to Ola: his board drops it live; Ola's gets it.
    async with (
        api.client.ws_connect("/api/v1/ws", headers=mo.headers) as mo_ws,
        api.client.ws_connect("/api/v1/ws", headers=ola.headers) as ola_ws,
    ):
        await mo_ws.receive_json()
        await ola_ws.receive_json()
        status, handed = await mo.call("PATCH", f"{D}/{mine['id']}", json={"owner_id": ola_id})
        assert status == 200 and handed["owner_name"] == "ola"
        got = await frames_until(mo_ws, {"deal.hidden"})
        assert got[-1]["data"] == {"id": mine["id"]}
        got = await frames_until(ola_ws, {"deal.updated"})
        assert got[-1]["data"]["owner_id"] == ola_id and got[-1]["data"]["version"] == 2
        status, _ = await ola.call("DELETE", f"{D}/{mine['id']}")
        assert status == 200
        got = await frames_until(mo_ws, {"deal.deleted"})
        assert got[-1]["data"] == {"id": mine["id"]}


async def test_the_board_counts_totals_and_pages_each_stage(
    api: API, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    pipeline = await sales(api)
    new = pipeline["stages"][0]["id"]
    mo_id = await add_manager("mo@example.com")
    status, label = await api.call(
        "POST", "/api/v1/labels", json={"name": "Hot", "colour": "#aa0000"}
    )
    made = []
    for i in range(75):
        fields: dict[str, Any] = {
            "value": f"{i}.50",
            "label_ids": [label["id"]] if i % 3 == 0 else [],
        }
        if i % 5 == 0:
            fields |= {"currency": "USD", "owner_id": mo_id}
        made.append(await deal(api, f"Deal {i}", **fields))
    board = await api.get(f"{P}/{pipeline['id']}/board")
    first = board["columns"][0]
    assert first["stage_id"] == new and first["count"] == 75
    eur = sum(Decimal(f"{i}.50") for i in range(75) if i % 5)
    usd = sum(Decimal(f"{i}.50") for i in range(75) if i % 5 == 0)
    assert {k: Decimal(v) for k, v in first["totals"].items()} == {"EUR": eur, "USD": usd}
    assert [c["count"] for c in board["columns"][1:]] == [0, 0, 0, 0]
    # Newest on top; the rest of the column by its cursor, in order, each once.
    seen = [d["id"] for d in first["deals"]["items"]]
    assert seen[0] == made[-1]["id"] and len(seen) == 30
    cursor = first["deals"]["next_cursor"]
    while cursor:
        page = await api.get(D, params={"stage_id": new, "cursor": cursor, "limit": 20})
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
    assert seen == [d["id"] for d in reversed(made)]
    # Filters: the owner, labels; the counts follow them.
    mine = await api.get(f"{P}/{pipeline['id']}/board", params={"owner": str(mo_id)})
    assert mine["columns"][0]["count"] == 15 and list(mine["columns"][0]["totals"]) == ["USD"]
    hot = await api.get(f"{P}/{pipeline['id']}/board", params={"label": str(label["id"])})
    assert hot["columns"][0]["count"] == 25
    both = await api.get(
        f"{P}/{pipeline['id']}/board", params={"label": str(label["id"]), "owner": str(mo_id)}
    )
    assert both["columns"][0]["count"] == 5
    nobody = await api.get(f"{P}/{pipeline['id']}/board", params={"owner": "none"})
    assert nobody["columns"][0]["count"] == 0
    for params in ({"owner": "everyone"}, {"owner": "٧"}, {"label": "x"}, {"label_match": "some"}):
        status, _ = await api.call("GET", f"{P}/{pipeline['id']}/board", params=params)
        assert status == 422, params
    # The inbox list and the contacts read their owner (and assignee) the same way.
    for path, params in (
        ("/api/v1/conversations", {"owner": "٧"}),
        ("/api/v1/conversations", {"assignee": "７"}),
        ("/api/v1/contacts", {"owner": "٧"}),
    ):
        status, _ = await api.call("GET", path, params=params)
        assert status == 422, (path, params)
    for cursor in ("x", "WzEuNSwgMV0", "WyJhIiwxXQ", "WzAsIDEwMDAwMDAwMDAwMDAwMDAwMDAwXQ"):
        status, _ = await api.call("GET", D, params={"stage_id": new, "cursor": cursor})
        assert status == 422, cursor
    status, _ = await api.call("GET", f"{P}/999999/board")
    assert status == 404


async def test_a_conversation_shows_its_contacts_open_deals(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    customer = await contact(hs, db, 3)
    conversation = await db.fetchval(
        "SELECT id FROM conversations WHERE contact_id = $1", customer
    )
    open_one = await deal(api, "Sofa", contact_id=customer)
    closed = await deal(api, "Chair", contact_id=customer)
    won = (await sales(api))["stages"][3]["id"]
    status, _ = await api.call("POST", f"{D}/{closed['id']}/move", json={"stage_id": won})
    assert status == 200
    bundle = await api.get(f"/api/v1/conversations/{conversation}")
    assert [d["id"] for d in bundle["deals"]] == [open_one["id"]]
    every = await api.get(f"/api/v1/contacts/{customer}/deals")
    assert [d["id"] for d in every["items"]] == [open_one["id"], closed["id"]]


async def test_a_merged_contacts_deals_go_to_the_contact_it_became(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    kept, gone = await contact(hs, db, 4), await contact(hs, db, 5)
    moved = await deal(api, "Table", contact_id=gone)
    status, answer = await api.call(
        "POST", f"/api/v1/contacts/{kept}/merge", json={"contact_id": gone}
    )
    assert status == 200, answer
    after = (await api.get(f"{D}/{moved['id']}"))["deal"]
    assert after["contact"]["id"] == kept and after["version"] == 2
    # A deal given the merged contact's id goes to its heir too.
    assert (await deal(api, "Lamp", contact_id=gone))["contact"]["id"] == kept
