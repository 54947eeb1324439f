"""CSV import of contacts (a preview, then every good row in one transaction, each bad row
reported with its line and nothing of it kept; duplicates found by number or e-mail) and the CSV
export of the list as filtered. The files are hostile until checked."""

from __future__ import annotations

from collections.abc import Callable
import csv
import io
from typing import Any

import asyncpg

from . import factories as f
from .conftest import API, PASSWORD, Homeserver, define
from .test_contacts_page import _contact

HEADER = "Name;Mobile;E-mail;Owner;City\n"


async def _import(api: API, text: str, **extra: Any) -> tuple[int, Any]:
    return await api.call("POST", "/api/v1/contacts/import", json={"csv": text, **extra})


async def test_ten_thousand_rows_with_bad_ones_import_the_rest_and_report_each(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    await add_manager("ola@example.com", name="Ola")
    await define(api, city="text")
    lines = [HEADER]
    bad: dict[int, str] = {}
    for i in range(10_000):
        line = i + 2  # the header is line 1
        name, phone, email, owner = f"Customer {i}", f"0151 {20000000 + i}", "", ""
        if i % 1000 == 7:
            phone, bad[line] = "12", "Mobile"  # too short for any country
        elif i % 1000 == 8:
            email, bad[line] = "not-an-address", "E-mail"
        elif i % 1000 == 9:
            owner, bad[line] = "nobody@example.com", "Owner"
        elif i % 1000 == 10:
            name, bad[line] = "Bell\u0007name", "Name"
        elif i % 2500 == 11:
            owner = "OLA@example.com"
        lines.append(f"{name};{phone};{email};{owner};Köln\n")
    lines.append("Anna S.;+49 151 12345678;anna@example.de;;Berlin\n")  # Anna, known by her number
    lines.append(f"Twice;0151 {20000000 + 5};;;\n")  # the same person as line 7
    text = "".join(lines)

    status, preview = await api.call(
        "POST", "/api/v1/contacts/import/preview", json={"csv": text, "region": "DE"}
    )
    assert status == 200, preview
    assert preview["mapping"] == {"Name": "display_name", "Mobile": "phone", "E-mail": "email",
                                  "Owner": "owner", "City": "attribute:city"}  # fmt: skip
    assert (preview["new"], preview["updates"]) == (10_000 - len(bad), 1)
    assert preview["sample"][0]["phone"] == "+4915120000000"
    assert await db.fetchval("SELECT count(*) FROM contacts") == 1  # a preview stores nothing

    status, result = await _import(api, text, region="DE")
    assert status == 200, result
    assert (result["created"], result["updated"]) == (10_000 - len(bad), 1)
    problems = {p["line"]: p for p in result["problems"]}
    assert {line: problems[line]["column"] for line in bad} == bad
    twice = problems[10_003]
    assert (twice["column"], twice["message"]) == (None, "the same person as line 7")
    assert result["problem_count"] == len(bad) + 1
    # Nothing of a bad row is kept; every good one is there, its number as WhatsApp spells it.
    assert await db.fetchval("SELECT count(*) FROM contacts WHERE display_name LIKE 'Customer %'"
                             ) == 10_000 - len(bad)  # fmt: skip
    for line in bad:
        assert not await db.fetchval(
            "SELECT count(*) FROM contacts WHERE display_name = $1", f"Customer {line - 2}"
        )
    row = await db.fetchrow("SELECT * FROM contacts WHERE display_name = 'Customer 11'")
    assert (row["phone"], row["platform"], row["remote_id"]) == (
        "+4915120000011", "whatsapp", "4915120000011")  # fmt: skip
    assert row["owner_id"] == await db.fetchval("SELECT id FROM managers WHERE name = 'Ola'")
    known = await api.get(f"/api/v1/contacts/{anna}")
    assert (known["display_name"], known["email"]) == ("Anna Schmidt", "anna@example.de")
    assert known["attributes"] == {"city": "Berlin"}

    # The customer writing later is the imported contact, not a second one.
    await hs.ok(f.portal("!c11", "4915120000011", "C. Eleven"))
    assert (
        await db.fetchval("SELECT contact_id FROM conversations WHERE room_id = '!c11'")
        == row["id"]
    )


async def test_files_and_mappings_that_cannot_be_read_are_refused(
    api: API, db: asyncpg.Pool, add_manager: Callable[..., Any]
) -> None:
    ok = "name,phone\nAna,+351912345678\n"
    for body, field in [
        ({"csv": ""}, "csv"),
        ({"csv": "name,name\nA,B\n"}, "csv"),
        ({"csv": "a\x00b\n1\n"}, "csv"),
        ({"csv": ok, "mapping": {"name": "display_name"}}, "mapping"),  # neither phone nor e-mail
        ({"csv": ok, "mapping": {"name": "phone", "phone": "phone"}}, "mapping"),
        ({"csv": ok, "mapping": {"nope": "phone"}}, "mapping"),
        ({"csv": ok, "mapping": {"phone": "phone", "name": "password_hash"}}, "mapping"),
        ({"csv": ok, "mapping": {"phone": "phone", "name": "attribute:" + "x" * 65}}, "mapping"),
        ({"csv": ok, "mapping": {"phone": "phone", "name": "attribute:nope"}}, "mapping"),
        ({"csv": ok, "region": "de'; --"}, "region"),
        ({"csv": ok, "extra": 1}, "extra"),
    ]:
        status, err = await api.call("POST", "/api/v1/contacts/import", json=body)
        assert (status, err["error"]["field"]) == (422, field), (body, err)
    assert await db.fetchval("SELECT count(*) FROM contacts") == 0
    # A number without its country code needs the file's country.
    status, result = await _import(api, "name,phone\nAna,0151 1234567\n")
    assert status == 200 and result["problems"][0]["message"].endswith("a country for the file")
    # Only admins import.
    await add_manager("mo@example.com")
    mo = API(api.client)
    assert (await mo.login("mo@example.com", PASSWORD))[0] == 200
    status, _ = await _import(mo, ok)
    assert status == 403


async def test_export_is_the_filtered_list_and_defuses_formulas(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    await define(api, notes="text")
    await _import(api, "name,phone,email,Notes\n"
                       "=1+2,+4915111111111,a@example.com,@SUM(A1)\n"
                       "Bob,+4915122222222,,fine\n")  # fmt: skip
    resp = await api.client.get("/api/v1/contacts/export.csv")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    text = (await resp.read()).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["name"], r["phone"], r["Notes"]) for r in rows] == [
        ("'=1+2", "+4915111111111", "'@SUM(A1)"), ("Bob", "+4915122222222", "fine")]  # fmt: skip
    resp = await api.client.get("/api/v1/contacts/export.csv", params={"q": "bob"})
    rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["Bob"]


async def test_a_file_that_names_one_person_twice_or_hides_a_formula_in_a_header(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    anna = await _contact(hs, db, "!anna", "4915112345678", "Anna Schmidt")
    await api.call("PATCH", f"/api/v1/contacts/{anna}", json={"email": "anna@example.de"})
    # One row finds Anna by her number, another by her e-mail; blank lines and a cell with a
    # line break do not shift the lines reported.
    text = ("name,phone,email,notes\n\n"
            '"Anna A",+4915112345678,,"two\nlines"\n'
            "Anna B,,anna@example.de,\n"
            "Carl,+4915199999999,,\n")  # fmt: skip
    mapping = {"name": "display_name", "phone": "phone", "email": "email", "notes": "ignore"}
    status, result = await _import(api, text, mapping=mapping)
    assert status == 200, result
    assert (result["created"], result["updated"]) == (1, 1)
    assert [(p["line"], p["message"]) for p in result["problems"]] == [
        (5, "the same person as line 3")]  # fmt: skip
    # An attribute's name is a header cell of the export: a formula there is defused too.
    # (Kept from before attributes were defined: no admin can define such a key.)
    await db.execute("""UPDATE contacts SET attributes = '{"=cmd|x": "1"}' WHERE id = $1""", anna)
    resp = await api.client.get("/api/v1/contacts/export.csv")
    header = (await resp.read()).decode("utf-8-sig").splitlines()[0]
    assert header.endswith(",'=cmd|x")
