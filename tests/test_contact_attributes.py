"""Contact attributes defined by admins: each value checked by its kind wherever it comes from
(an edit, an import, a definition made over values already there), edits of two attributes at
once both kept, and the list filtered by them, by value and by range."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import csv
import io
from typing import Any

import asyncpg

from crm_appservice.store import contact_attributes as attribute_store

from . import factories as f
from .conftest import API, PASSWORD, Homeserver, define

ATTRIBUTES = "/api/v1/contact-attributes"


async def _contact(hs: Homeserver, db: asyncpg.Pool, room: str, phone: str, name: str) -> int:
    await hs.ok([*f.portal(room, phone, name), f.text(room, f.ghost(phone), "Hello")])
    found: int = await db.fetchval("SELECT contact_id FROM conversations WHERE room_id = $1", room)
    return found


async def _patch(api: API, contact: int, attributes: dict[str, Any]) -> tuple[int, Any]:
    return await api.call("PATCH", f"/api/v1/contacts/{contact}", json={"attributes": attributes})


async def test_admins_define_attributes_and_nobody_else_does(
    api: API, add_manager: Callable[..., Any]
) -> None:
    status, budget = await api.call(
        "POST", ATTRIBUTES, json={"label": "Budget (EUR)", "kind": "number"}
    )
    assert (status, budget["key"], budget["choices"]) == (201, "budget_eur", [])
    status, tier = await api.call("POST", ATTRIBUTES, json={
        "label": "Tier", "kind": "choice", "choices": ["Gold", "Silver"]})  # fmt: skip
    assert status == 201
    for body, field in [
        ({"label": "Tier", "kind": "text", "key": "tier"}, None),  # the key is taken: 409
        ({"label": "Size", "kind": "choice"}, "choices"),  # a choice without its options
        ({"label": "City", "kind": "text", "choices": ["a"]}, "choices"),
        ({"label": "Tone", "kind": "choice", "choices": ["Warm", "warm"]}, "choices"),
        ({"label": "Colour", "kind": "colour"}, "kind"),
        ({"label": "x", "kind": "text", "key": "Bad Key"}, "key"),
        ({"label": "two\nlines", "kind": "text"}, "label"),
        ({"label": "", "kind": "text"}, "label"),
    ]:
        status, err = await api.call("POST", ATTRIBUTES, json=body)
        assert (status, err["error"].get("field")) == ((409, None) if field is None else
                                                   (422, field)), (body, err)  # fmt: skip
    await add_manager("mo@example.com")
    mo = API(api.client)
    assert (await mo.login("mo@example.com", PASSWORD))[0] == 200
    listed = await mo.get(ATTRIBUTES)
    assert [(a["key"], a["kind"]) for a in listed["items"]] == [
        ("budget_eur", "number"), ("tier", "choice")]  # fmt: skip
    for method, path, body in [
        ("POST", ATTRIBUTES, {"label": "Mine", "kind": "text"}),
        ("PATCH", f"{ATTRIBUTES}/{tier['id']}", {"label": "Level"}),
        ("DELETE", f"{ATTRIBUTES}/{tier['id']}", None),
    ]:
        status, _ = await mo.call(method, path, json=body)
        assert status == 403, (method, path)
    assert len((await api.get(ATTRIBUTES))["items"]) == 2


async def test_values_are_checked_by_kind_and_two_edits_at_once_keep_both(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    await define(api, budget="number", birthday="date", vip="boolean", city="text",
                 tier=["Gold", "Silver"])  # fmt: skip
    status, out = await _patch(api, anna, {"budget": 1500.5, "tier": "gold", "vip": True})
    assert status == 200, out
    # A choice is stored as its admin spelt it.
    assert out["attributes"] == {"budget": 1500.5, "tier": "Gold", "vip": True}
    for attributes, message in [
        ({"budget": "lots"}, "must be a number"),
        ({"budget": True}, "must be a number"),
        ({"budget": 1e20}, "must be a number below"),
        ({"birthday": "31.13.1990"}, "is no date"),
        ({"birthday": "1990-02-30"}, "must be a date"),
        ({"birthday": "19901231"}, "must be a date"),
        ({"vip": "yes"}, "must be true or false"),
        ({"tier": "Bronze"}, "must be one of Gold, Silver"),
        ({"city": 12}, "must be text"),
        ({"colour": "red"}, "No attribute is kept under this key"),
        ({"city": "Köln", "tier": "Platinum"}, "must be one of"),  # one bad: none stored
    ]:
        status, err = await _patch(api, anna, attributes)
        assert status == 422 and message in err["error"]["message"], (attributes, err)
        assert err["error"]["field"].startswith("attributes."), err
    contact = await api.get(f"/api/v1/contacts/{anna}")
    assert contact["attributes"] == {"budget": 1500.5, "tier": "Gold", "vip": True}
    # Two managers editing two attributes at the same time: both are kept (merged in SQL).
    await define(api, notes="text")
    results = [
        await _patch(api, anna, {"city": "Köln"}),
        await _patch(api, anna, {"birthday": "1990-12-31", "vip": None}),
    ]
    assert all(status == 200 for status, _ in results)
    contact = await api.get(f"/api/v1/contacts/{anna}")
    assert contact["attributes"] == {"budget": 1500.5, "tier": "Gold", "city": "Köln",
                                     "birthday": "1990-12-31"}  # fmt: skip


async def test_a_definition_over_values_there_converts_them_or_is_refused(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    """Values from before a definition (an import of old, a definition removed and made
    again) become its kind when each can; if one cannot, nothing changes."""
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    bob = await _contact(hs, db, "!bob", "4917699887766", "Bob Meyer")
    await db.execute("""UPDATE contacts SET attributes = '{"budget": "1 500,50", "vip": "ja"}'
                        WHERE id = $1""", anna)  # fmt: skip
    await db.execute("""UPDATE contacts SET attributes = '{"budget": "about 2k", "vip": "no"}'
                        WHERE id = $1""", bob)  # fmt: skip
    status, err = await api.call("POST", ATTRIBUTES, json={
        "label": "Budget", "kind": "number"})  # fmt: skip
    assert status == 422 and "1 contacts have a value under budget that is not a number" in (
        err["error"]["message"]) and "'about 2k'" in err["error"]["message"]  # fmt: skip
    assert (await api.get(ATTRIBUTES))["items"] == []
    assert (await api.get(f"/api/v1/contacts/{anna}"))["attributes"]["budget"] == "1 500,50"
    status, _ = await api.call("POST", ATTRIBUTES, json={"label": "VIP", "kind": "boolean"})
    assert status == 201
    assert (await api.get(f"/api/v1/contacts/{anna}"))["attributes"]["vip"] is True
    assert (await api.get(f"/api/v1/contacts/{bob}"))["attributes"]["vip"] is False
    # Filtered by at once: the converted values are the ones the filter reads.
    page = await api.get("/api/v1/contacts", params={"attribute": "vip=yes"})
    assert [c["id"] for c in page["items"]] == [anna]


async def test_choices_in_use_stay_and_a_removed_definition_keeps_the_values(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    await define(api, tier=["Gold", "Silver", "Bronze"])
    tier = (await api.get(ATTRIBUTES))["items"][0]
    assert (await _patch(api, anna, {"tier": "Silver"}))[0] == 200
    status, err = await api.call("PATCH", f"{ATTRIBUTES}/{tier['id']}",
                                 json={"choices": ["Gold", "Bronze"]})  # fmt: skip
    assert status == 409 and "1 contacts hold 'Silver'" in err["error"]["message"]
    change = {"label": "Level", "choices": ["Silver", "Gold"]}
    status, out = await api.call("PATCH", f"{ATTRIBUTES}/{tier['id']}", json=change)
    assert (status, out["label"], out["choices"]) == (200, "Level", ["Silver", "Gold"])
    status, _ = await api.call("PATCH", f"{ATTRIBUTES}/{tier['id']}", json={"choices": []})
    assert status == 422
    status, _ = await api.call("DELETE", f"{ATTRIBUTES}/{tier['id']}")
    assert status == 200
    contact = await api.get(f"/api/v1/contacts/{anna}")
    assert contact["attributes"] == {"tier": "Silver"}  # kept, shown as another detail
    status, _ = await _patch(api, anna, {"tier": "Gold"})
    assert status == 422  # not defined any more: only removed
    assert (await _patch(api, anna, {"tier": None}))[1]["attributes"] == {}
    assert await db.fetchval("SELECT count(*) FROM contact_attribute_values") == 0


async def test_the_list_is_filtered_by_values_and_ranges_and_pages_through_them(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    await define(api, budget="number", since="date", vip="boolean", city="text",
                 tier=["Gold", "Silver"])  # fmt: skip
    await db.execute(
        """INSERT INTO contacts (platform, remote_id, display_name, phone, attributes)
           SELECT 'whatsapp', (15552000000 + i)::text, 'Customer ' || lpad(i::text, 2, '0'),
                  '+' || (15552000000 + i),
                  jsonb_strip_nulls(jsonb_build_object(
                      'budget', i * 100, 'since', to_char(date '2026-01-01' + i * 7, 'YYYY-MM-DD'),
                      'vip', i % 3 = 0, 'city', CASE WHEN i % 2 = 0 THEN 'Berlin' END,
                      'tier', CASE WHEN i % 5 = 0 THEN 'Gold' END))
             FROM generate_series(1, 40) i"""
    )

    async def names(*conditions: str, **params: str) -> list[str]:
        found: list[str] = []
        query: dict[str, Any] = {"limit": "3", **params}
        while True:
            page = await api.get(
                "/api/v1/contacts",
                params=[*query.items(), *(("attribute", c) for c in conditions)],
            )
            found += [c["name"] for c in page["items"]]
            if page["next_cursor"] is None:
                return found
            query["cursor"] = page["next_cursor"]

    def customers(numbers: Any) -> list[str]:
        return [f"Customer {i:02}" for i in numbers]

    assert await names("budget>=3 500") == customers(range(35, 41))
    assert await names("budget>=1000", "budget<=1 200,0") == customers(range(10, 13))
    assert await names("budget=2500") == customers([25])
    assert await names("since>=01.03.2026", "since<=2026-03-31") == customers(range(9, 13))
    assert await names("vip=yes", "tier=gold") == customers([15, 30])
    assert await names("city=Berlin", "budget<=800") == customers([2, 4, 6, 8])
    assert await names("tier") == customers(range(5, 41, 5))
    assert await names("tier", sort="newest") == customers(range(40, 4, -5))
    for condition, message in [
        ("colour=red", "No attribute is kept under colour"),
        ("tier>=Gold", "only numbers and dates have ranges"),
        ("budget>=lots", "must be a number"),
        ("budget<=1.200", "could be 1200 or 1.200"),
        ("since<=2026-13-01", "must be a date"),
        ("vip=maybe", "must be yes or no"),
        ("Budget>=1", "Write key=value"),
        ("budget>1", "Write key=value"),
    ]:
        status, err = await api.call("GET", "/api/v1/contacts", params={"attribute": condition})
        assert (status, err["error"]["field"]) == (422, "attribute"), condition
        assert message in err["error"]["message"], (condition, err)
    status, err = await api.call("GET", "/api/v1/contacts", params=[("attribute", "vip")] * 6)
    assert (status, err["error"]["field"]) == (422, "attribute")
    # The export is the filtered list, each defined attribute a column headed by its label.
    resp = await api.client.get("/api/v1/contacts/export.csv", params={"attribute": "budget<=300"})
    rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    columns = ("name", "Budget", "Since", "Vip", "City", "Tier")
    assert [tuple(r[c] for c in columns) for r in rows] == [
        ("Customer 01", "100", "2026-01-08", "no", "", ""),
        ("Customer 02", "200", "2026-01-15", "no", "Berlin", ""),
        ("Customer 03", "300", "2026-01-22", "yes", "", ""),
    ]  # fmt: skip


async def test_an_import_checks_each_attribute_by_its_kind(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    await define(api, budget="number", since="date", vip="boolean", tier=["Gold", "Silver"])
    text = ("Name;Phone;Budget;Since;VIP;Tier;Notes\n"
            "Ana;+351912345678;1.234,50;31.12.2025;ja;gold;x\n"
            "Bea;+351912345679;lots;2026-01-01;no;Silver;y\n"
            "Cid;+351912345670;10;2026-02-30;no;Silver;z\n"
            "Dan;+351912345671;10;2026-01-01;maybe;Silver;z\n"
            "Eva;+351912345672;10;2026-01-01;no;Bronze;z\n")  # fmt: skip
    status, preview = await api.call("POST", "/api/v1/contacts/import/preview", json={"csv": text})
    assert status == 200, preview
    assert preview["mapping"] == {
        "Name": "display_name", "Phone": "phone", "Budget": "attribute:budget",
        "Since": "attribute:since", "VIP": "attribute:vip", "Tier": "attribute:tier",
        "Notes": "ignore"}  # fmt: skip
    assert [(p["line"], p["column"]) for p in preview["problems"]] == [
        (3, "Budget"), (4, "Since"), (5, "VIP"), (6, "Tier")]  # fmt: skip
    assert "must be one of Gold, Silver" in preview["problems"][3]["message"]
    status, result = await api.call("POST", "/api/v1/contacts/import", json={"csv": text})
    assert (status, result["created"], result["problem_count"]) == (200, 1, 4)
    ana = await db.fetchval("SELECT attributes FROM contacts WHERE display_name = 'Ana'")
    assert ana == '{"vip": true, "tier": "Gold", "since": "2025-12-31", "budget": 1234.5}'


async def test_a_definition_change_waits_for_values_checked_by_the_old_one(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    """A manager's edit checked against the choices as they were commits before an admin's
    change of them looks at what is stored: the choice it wrote is then in use, not dropped
    from under it."""
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    await define(api, tier=["Gold", "Silver"])
    tier = (await api.get(ATTRIBUTES))["items"][0]
    async with db.acquire() as conn, conn.transaction():  # the manager's edit, checked
        defined = await attribute_store.definitions(conn, held=True)
        assert defined["tier"].choices == ("Gold", "Silver")
        change = asyncio.create_task(api.call(
            "PATCH", f"{ATTRIBUTES}/{tier['id']}", json={"choices": ["Gold"]}))  # fmt: skip
        await asyncio.sleep(0.3)
        assert not change.done()  # waits for the edit
        await conn.execute(
            """UPDATE contacts SET attributes = attributes || '{"tier": "Silver"}'
                WHERE id = $1""",
            anna,
        )
    status, err = await change
    assert status == 409 and "1 contacts hold 'Silver'" in err["error"]["message"]
    assert (await api.get(f"/api/v1/contacts/{anna}"))["attributes"] == {"tier": "Silver"}


async def test_hostile_and_mistyped_values_are_refused_with_their_reason(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    await define(api, budget="number", since="date", notes="text")
    for value in ["1E+1000000", "-1e999999999", "10.05.2026", "1,5,0", "1.200"]:
        status, err = await _patch(api, anna, {"budget": value})
        assert (status, err["error"]["field"]) == (422, "attributes.budget"), value
        status, err = await api.call(
            "GET", "/api/v1/contacts", params={"attribute": f"budget>={value}"}
        )
        assert (status, err["error"]["field"]) == (422, "attribute"), value
    text = "Name;Phone;Budget\nAna;+351912345678;1E+1000000\nBea;+351912345679;10.05.2026\n"
    status, preview = await api.call("POST", "/api/v1/contacts/import/preview", json={"csv": text})
    assert status == 200 and [p["line"] for p in preview["problems"]] == [2, 3], preview
    # What a person typed is read by the server, as a CSV cell is.
    status, out = await _patch(api, anna, {"budget": " 1 234,5 ", "since": "31.12.2026"})
    assert status == 200 and out["attributes"] == {"budget": 1234.5, "since": "2026-12-31"}


async def test_an_export_is_imported_back_as_it_was(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    await define(api, budget="number", vip="boolean")
    assert (await _patch(api, anna, {"budget": 1.234, "vip": True}))[0] == 200
    resp = await api.client.get("/api/v1/contacts/export.csv")
    exported = (await resp.read()).decode("utf-8-sig")
    assert "1.2340" in exported  # never "1.234" alone, which could be 1234
    assert (await _patch(api, anna, {"budget": None, "vip": None}))[0] == 200
    status, result = await api.call("POST", "/api/v1/contacts/import", json={"csv": exported})
    assert (status, result["problem_count"], result["updated"]) == (200, 0, 1), result
    assert (await api.get(f"/api/v1/contacts/{anna}"))["attributes"] == {
        "budget": 1.234,
        "vip": True,
    }


async def test_a_merged_contacts_value_holds_up_no_definition(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    """Nobody can change a contact merged into another: its values neither refuse a new kind
    nor keep a choice from being left out."""
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    twin = await _contact(hs, db, "!twin", "4915112345679", "Anna Schmidt")
    await define(api, tier="text")
    assert (await _patch(api, anna, {"tier": "Gold"}))[0] == 200
    assert (await _patch(api, twin, {"tier": "vip"}))[0] == 200
    status, _ = await api.call("POST", f"/api/v1/contacts/{anna}/merge", json={"contact_id": twin})
    assert status == 200
    tier = (await api.get(ATTRIBUTES))["items"][0]
    assert (await api.call("DELETE", f"{ATTRIBUTES}/{tier['id']}"))[0] == 200
    status, made = await api.call("POST", ATTRIBUTES, json={
        "label": "Tier", "kind": "choice", "choices": ["Gold", "Silver", "vip"]})  # fmt: skip
    assert status == 201, made
    status, changed = await api.call(
        "PATCH", f"{ATTRIBUTES}/{made['id']}", json={"choices": ["Gold", "Silver"]}
    )
    assert status == 200, changed
    assert (await api.get(f"/api/v1/contacts/{anna}"))["attributes"] == {"tier": "Gold"}


async def test_long_texts_are_compared_whole(api: API, hs: Homeserver, db: asyncpg.Pool) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    bert = await _contact(hs, db, "!bert", "4915112345670", "Bert Brecht")
    await define(api, notes="text")
    same = "x" * 200
    assert (await _patch(api, anna, {"notes": same + "a" * 50}))[0] == 200
    assert (await _patch(api, bert, {"notes": same + "b" * 50}))[0] == 200
    page = await api.get("/api/v1/contacts", params={"attribute": f"notes={same + 'b' * 50}"})
    assert [c["id"] for c in page["items"]] == [bert]


async def test_keys_made_from_labels_never_collide_and_stale_edits_are_refused(api: API) -> None:
    keys = []
    for label in ["Budget (EUR)", "Budget EUR", "Бюджет", "预算"]:
        status, made = await api.call("POST", ATTRIBUTES, json={"label": label, "kind": "text"})
        assert status == 201, made
        keys.append(made["key"])
    assert keys == ["budget_eur", "budget_eur_2", "attribute", "attribute_2"]
    status, tier = await api.call(
        "POST", ATTRIBUTES, json={"label": "Tier", "kind": "choice", "choices": ["Gold"]}
    )
    path = f"{ATTRIBUTES}/{tier['id']}"
    body = {"choices": ["Gold", "Bronze"], "based_on": tier["updated_at"]}
    status, first = await api.call("PATCH", path, json=body)
    assert status == 200
    status, err = await api.call("PATCH", path, json={**body, "choices": ["Gold", "Silver"]})
    assert status == 409 and "changed meanwhile" in err["error"]["message"]
    body = {"choices": ["Gold", "Bronze", "Silver"], "based_on": first["updated_at"]}
    status, again = await api.call("PATCH", path, json=body)
    assert (status, again["choices"]) == (200, ["Gold", "Bronze", "Silver"])
