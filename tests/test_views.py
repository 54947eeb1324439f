"""Saved views: a manager's own and the team's (admins keep those), their filters checked as
the list checks its query, counted for each viewer as that viewer's list would hold them, and
pushed live (`view.updated` to whoever sees the view, `view.deleted`). Which conversations a
view's filters hold, and the web's copy of that rule: test_list_rules.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest

from crm_appservice.api.views import LIMIT
from crm_appservice.config import Settings

from . import factories as f
from .conftest import API, ConfigFactory, Homeserver, bearer, offline_settings
from .test_live import frames_until
from .test_quick_replies import Caller

V = "/api/v1/views"
C = "/api/v1/conversations"


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    # Managers see their own and unassigned conversations: a view's count follows that.
    return offline_settings(make_config, {"web.managers_see": "assigned"})


async def _chat(hs: Homeserver, db: asyncpg.Pool, n: int) -> int:
    room, phone = f"!view{n}", f"3369200{n:04d}"
    await hs.ok([*f.portal(room, phone, f"Customer {n}"), f.text(room, f.ghost(phone), "hi")])
    found: int = await db.fetchval("SELECT id FROM conversations WHERE room_id = $1", room)
    return found


async def _view(caller: API | Caller, name: str, shared: bool = False, **filters: Any) -> Any:
    status, made = await caller.call(
        "POST", V, json={"name": name, "shared": shared, "filters": filters}
    )
    assert status == 201, made
    return made


async def test_views_are_kept_per_manager_and_the_teams_by_admins(
    api: API, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    mo = Caller(api, await bearer(db, await add_manager("mo@example.com")))
    ola = Caller(api, await bearer(db, await add_manager("ola@example.com")))
    team = await _view(api, " Hot leads ", shared=True, status="open", waiting=True)
    assert team["view"]["name"] == "Hot leads" and team["view"]["shared"] is True
    assert team["view"]["filters"]["waiting"] is True and team["count"] == 0
    own = await _view(mo, "Mine waiting", assignee="me", waiting_hours=4)
    # waiting_hours implies waiting, and is kept so.
    assert own["view"]["filters"]["waiting"] is True and own["view"]["shared"] is False
    # A manager's own name may be the team's too; not twice in one set, whatever the case.
    await _view(mo, "hot leads")
    status, err = await mo.call("POST", V, json={"name": "MINE WAITING", "filters": {}})
    assert status == 409 and "named MINE WAITING already" in err["error"]["message"]
    status, err = await mo.call("POST", V, json={"name": "Ours", "shared": True, "filters": {}})
    assert status == 403

    _, listed = await mo.call("GET", V)
    assert [v["name"] for v in listed["items"]] == ["Hot leads", "hot leads", "Mine waiting"]
    _, theirs = await ola.call("GET", V)
    assert [v["name"] for v in theirs["items"]] == ["Hot leads"]
    # Another manager's own view is not there for them; the team's is the admins' to change.
    mine = own["view"]["id"]
    for method, body in (("PATCH", {"name": "x"}), ("DELETE", None)):
        status, _ = await ola.call(method, f"{V}/{mine}", json=body)
        assert status == 404
        status, _ = await api.call(method, f"{V}/{mine}", json=body)
        assert status == 404
        status, err = await mo.call(method, f"{V}/{team['view']['id']}", json=body)
        assert status == 403 and "admins" in err["error"]["message"]

    status, changed = await mo.call(
        "PATCH", f"{V}/{mine}", json={"filters": {"assignee": "me", "unread": True}}
    )
    assert status == 200 and changed["view"]["filters"]["unread"] is True
    assert changed["view"]["filters"]["waiting_hours"] is None  # the filters are replaced
    status, _ = await mo.call("PATCH", f"{V}/{mine}", json={"name": "hot leads"})
    assert status == 409
    status, _ = await mo.call("PATCH", f"{V}/{mine}", json={})
    assert status == 400
    status, _ = await mo.call("PATCH", f"{V}/{mine}", json={"name": None})
    assert status == 422
    status, _ = await mo.call("DELETE", f"{V}/{mine}")
    assert status == 200
    status, _ = await mo.call("DELETE", f"{V}/{mine}")
    assert status == 404


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"colour": "red"}, "filters.colour"),
        ({"status": "closed"}, "filters.status"),
        ({"waiting_hours": 0}, "filters.waiting_hours"),
        ({"waiting_hours": 721}, "filters.waiting_hours"),
        ({"assignee": "everyone"}, "filters.assignee"),
        ({"owner": "1; DROP TABLE contacts"}, "filters.owner"),
        ({"assignee": "999999"}, "filters.assignee"),
        ({"owner": "999999"}, "filters.owner"),
        ({"label": [999999]}, "filters.label"),
        ({"label": [1] * 11}, "filters.label"),
        ({"number": "+1 555"}, "filters.number"),
        ({"q": "search"}, "filters.q"),
    ],
)
async def test_bad_filters_are_refused_and_nothing_is_kept(
    api: API, db: asyncpg.Pool, filters: dict[str, Any], field: str
) -> None:
    status, err = await api.call("POST", V, json={"name": "Bad", "filters": filters})
    assert status == 422 and err["error"]["field"] == field, err
    assert await db.fetchval("SELECT count(*) FROM saved_views") == 0


@pytest.mark.parametrize(
    "name", ["", " ", "x" * 41, "two\nlines", "tab\there", "\u2028"], ids=repr
)
async def test_bad_names_are_refused(api: API, name: str) -> None:
    status, err = await api.call("POST", V, json={"name": name, "filters": {}})
    assert status == 422 and err["error"]["field"] == "name", err


async def test_a_manager_has_at_most_the_limit_of_views(api: API) -> None:
    for n in range(LIMIT):
        await _view(api, f"View {n}")
    status, err = await api.call("POST", V, json={"name": "One more", "filters": {}})
    assert status == 409 and f"At most {LIMIT}" in err["error"]["message"]
    # The team's are counted apart.
    await _view(api, "Team view", shared=True)


async def test_each_viewer_counts_a_view_as_their_list_holds_it(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    mo_id, ola_id = await add_manager("mo@example.com"), await add_manager("ola@example.com")
    mo = Caller(api, await bearer(db, mo_id))
    chats = [await _chat(hs, db, n) for n in range(5)]
    assign = "UPDATE conversations SET assignee_id = $2 WHERE id = $1"
    await db.execute(assign, chats[0], mo_id)
    await db.execute(assign, chats[1], ola_id)
    await db.execute(assign, chats[2], me)
    # chats[3] answered by the team; chats[4] unassigned and waiting.
    await db.execute("UPDATE conversations SET last_message_out = true WHERE id = $1", chats[3])
    mine = await _view(api, "Mine", shared=True, assignee="me", waiting=True)
    waiting = await _view(api, "Waiting", shared=True, waiting=True)
    assert (mine["count"], waiting["count"]) == (1, 4)
    _, seen_by_admin = await api.call("GET", V)
    _, seen_by_mo = await mo.call("GET", V)
    ids = str(mine["view"]["id"]), str(waiting["view"]["id"])
    assert [seen_by_admin["counts"][i] for i in ids] == [1, 4]
    # Mo sees his own and the unassigned: his own one, and two of the four waiting.
    assert [seen_by_mo["counts"][i] for i in ids] == [1, 2]
    # The view's list is the list of its filters.
    _, page = await mo.call("GET", f"{C}?waiting=true")
    assert sorted(c["id"] for c in page["items"]) == sorted([chats[0], chats[4]])
    assert all(c["waiting_since"] is not None for c in page["items"])


async def test_a_view_of_long_waits_says_when_it_next_grows(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    old, recent, answered = [await _chat(hs, db, n) for n in (10, 11, 12)]
    now = datetime.now(UTC)
    moved = "UPDATE conversations SET last_message_at = $2, last_message_out = $3 WHERE id = $1"
    await db.execute(moved, old, now - timedelta(hours=5), False)
    await db.execute(moved, recent, now - timedelta(hours=1), False)
    await db.execute(moved, answered, now - timedelta(hours=9), True)
    made = await _view(api, "Over 3 hours", waiting_hours=3)
    assert made["count"] == 1
    due = datetime.fromisoformat(made["changes_at"])
    assert abs(due - (now + timedelta(hours=2))) < timedelta(seconds=5)
    _, page = await api.call("GET", f"{C}?waiting_hours=3")
    assert [c["id"] for c in page["items"]] == [old]
    # Once the recent one has waited long enough it is in.
    await db.execute(moved, recent, now - timedelta(hours=4), False)
    _, listed = await api.call("GET", V)
    assert listed["counts"][str(made["view"]["id"])] == 2 and listed["changes_at"] is None


async def test_views_are_pushed_live_to_whoever_sees_them(
    api: API, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    mo_id = await add_manager("mo@example.com")
    mo = Caller(api, await bearer(db, mo_id))
    status, vip = await api.call(
        "POST", "/api/v1/labels", json={"name": "VIP", "colour": "#000000"}
    )
    status, big = await api.call(
        "POST", "/api/v1/labels", json={"name": "Big", "colour": "#000000"}
    )
    async with (
        api.client.ws_connect("/api/v1/ws") as admin_ws,
        api.client.ws_connect("/api/v1/ws", headers=mo.headers) as mo_ws,
    ):
        for ws in (admin_ws, mo_ws):
            assert (await ws.receive_json())["type"] == "hello"
        own = await _view(mo, "VIP waiting", label=[vip["id"], big["id"]], label_match="all")
        frame = (await frames_until(mo_ws, {"view.updated"}))[-1]
        assert frame["data"] == own["view"]
        shared = await _view(api, "VIP", shared=True, label=[vip["id"]])
        # The admin's socket gets the team's view first: Mo's own was not sent there. (The
        # labels' frames may come before: the hub may have sent them after the hello.)
        first = (await frames_until(admin_ws, {"view.updated"}))[-1]
        assert first["data"]["id"] == shared["view"]["id"]
        await frames_until(mo_ws, {"view.updated"})

        # A removed label leaves every view that named it, pushed as the view's new filters.
        status, _ = await api.call("DELETE", f"/api/v1/labels/{vip['id']}")
        assert status == 200
        changed: dict[int, Any] = {}
        while len(changed) < 2:
            frame = await _next(mo_ws)
            if frame["type"] == "view.updated":
                changed[frame["data"]["id"]] = frame["data"]["filters"]
        _, listed = await mo.call("GET", V)
        filters = {v["id"]: v["filters"] for v in listed["items"]}
        assert filters[own["view"]["id"]]["label"] == [big["id"]]
        assert filters[shared["view"]["id"]]["label"] == []
        assert filters[shared["view"]["id"]]["label_match"] == "any"
        assert changed == filters

        status, _ = await api.call("DELETE", f"{V}/{shared['view']['id']}")
        gone = await frames_until(mo_ws, {"view.deleted"})
        assert gone[-1]["data"] == {"id": shared["view"]["id"]}


async def _next(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    frame: dict[str, Any] = await ws.receive_json(timeout=10)
    return frame


async def test_a_label_removed_while_views_are_saved_with_it_is_in_none_of_them(
    api: API, db: asyncpg.Pool
) -> None:
    for round_ in range(5):
        _, label = await api.call(
            "POST", "/api/v1/labels", json={"name": f"Race {round_}", "colour": "#000000"}
        )

        async def save(n: int, label_id: int = label["id"], r: int = round_) -> int:
            body = {"name": f"R{r} {n}", "filters": {"label": [label_id], "unread": True}}
            status, _ = await api.call("POST", V, json=body)
            return status

        results = await asyncio.gather(
            *(save(n) for n in range(4)),
            api.call("DELETE", f"/api/v1/labels/{label['id']}"),
        )
        # Saved before the removal (then taken off) or refused after it; never a failure.
        assert all(status in (201, 422) for status in results[:4]), results
        assert results[4][0] == 200
        left = await db.fetchval(
            "SELECT count(*) FROM saved_views"
            " WHERE filters -> 'label' @> to_jsonb(ARRAY[$1::bigint])",
            label["id"],
        )
        assert left == 0


async def test_my_customers_follow_the_contacts_owner(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    olga = await add_manager("olga@example.com")
    chat = await _chat(hs, db, 20)
    contact = await db.fetchval("SELECT contact_id FROM conversations WHERE id = $1", chat)
    made = await _view(api, "My customers", owner="me")
    assert made["count"] == 0
    async with api.client.ws_connect("/api/v1/ws") as ws:
        assert (await ws.receive_json())["type"] == "hello"
        status, _ = await api.call("PATCH", f"/api/v1/contacts/{contact}", json={"owner_id": me})
        assert status == 200
        frame = (await frames_until(ws, {"conversation.updated"}))[-1]
        assert frame["data"]["contact"]["owner_id"] == me
    _, page = await api.call("GET", f"{C}?owner=me")
    assert [c["id"] for c in page["items"]] == [chat]
    _, listed = await api.call("GET", V)
    assert listed["counts"][str(made["view"]["id"])] == 1
    await api.call("PATCH", f"/api/v1/contacts/{contact}", json={"owner_id": olga})
    _, page = await api.call("GET", f"{C}?owner=me")
    assert page["items"] == []
    _, page = await api.call("GET", f"{C}?owner={olga}")
    assert [c["id"] for c in page["items"]] == [chat]
    await api.call("PATCH", f"/api/v1/contacts/{contact}", json={"owner_id": None})
    _, page = await api.call("GET", f"{C}?owner=none")
    assert chat in [c["id"] for c in page["items"]]


async def test_a_view_changed_while_it_is_removed_is_gone_not_a_failure(api: API) -> None:
    me = (await api.get("/api/v1/me"))["manager"]["id"]
    for n in range(5):
        # A manager's id as typed with a leading zero is kept as the id (the browser writes
        # it back so, and the view must not look changed).
        made = await _view(api, f"Race {n}", assignee=f"0{me}")
        assert made["view"]["filters"]["assignee"] == str(me)
        path = f"{V}/{made['view']['id']}"
        (changed, _), (deleted, _) = await asyncio.gather(
            api.call("PATCH", path, json={"filters": {"unread": True}}),
            api.call("DELETE", path),
        )
        assert changed in (200, 404) and deleted == 200
