"""Several WhatsApp numbers on one inbox, through a real Synapse and the emulator with two
logins: one customer writing to both is one contact with two conversations, each saying its
number and answered through it; admins name the numbers and see each one's state."""

from __future__ import annotations

import uuid

from testbed.chats import Portal

from .matrix_world import World, with_provisioning

SHOP, WAREHOUSE = "15550000001", "15550000002"


async def two_numbers(world: World) -> None:
    """The emulator logged in with both numbers (the warehouse's phone offline), the CRM
    talking to its provisioning API."""
    emu = world.emulator
    assert emu.owner_phone == SHOP
    emu.provisioning.logins.extend([SHOP, WAREHOUSE])
    emu.provisioning.states[WAREHOUSE] = {"state_event": "TRANSIENT_DISCONNECT",
                                          "error": "wa-phone-offline"}  # fmt: skip
    await with_provisioning(world)


async def customer_on_both(world: World, lid: str) -> tuple[Portal, Portal, int, int]:
    """One customer (their LID) writing to both numbers: the two portals, then the two
    conversation ids, each once its message is stored."""
    emu = world.emulator
    to_shop = await world.portal(lid, "Ana")
    to_warehouse = await world.portal(lid, "Ana", receiver=WAREHOUSE)
    shop = await emu.send_text(to_shop, lid, "Do you have it in blue?")
    warehouse = await emu.send_text(to_warehouse, lid, "When can I pick it up?")
    await world.message(shop)
    await world.message(warehouse)
    shop_id = await world.conversation_id(to_shop.room_id)
    return to_shop, to_warehouse, shop_id, await world.conversation_id(to_warehouse.room_id)


async def test_one_customer_on_two_numbers(world: World) -> None:
    emu = world.emulator
    await two_numbers(world)
    admin = await world.inbox()
    status, page = await admin.call("GET", "/api/v1/whatsapp")  # the page, before a name
    assert status == 200
    for login, name in ((SHOP, "Shop"), (WAREHOUSE, "Warehouse")):
        status, named = await admin.call("PUT", f"/api/v1/whatsapp/logins/{login}/name",
                                         json={"name": f"  {name} "})  # fmt: skip
        assert (status, named) == (200, {"login_id": login, "name": name})
    status, refused = await admin.call("PUT", f"/api/v1/whatsapp/logins/{SHOP}/name",
                                       json={"name": "x" * 81})  # fmt: skip
    assert status == 422 and refused["error"]["field"] == "name"
    status, page = await admin.call("GET", "/api/v1/whatsapp")
    assert status == 200
    assert [(n["login_id"], n["name"], n["state"]) for n in page["numbers"]] == [
        (SHOP, "Shop", "connected"), (WAREHOUSE, "Warehouse", "phone_offline")]  # fmt: skip

    to_shop, to_warehouse, shop_id, warehouse_id = await customer_on_both(world, "lid-9133001")
    status, listed = await admin.call("GET", "/api/v1/conversations")
    rows = {c["id"]: c for c in listed["items"]}
    assert rows[shop_id]["number"] == {"login_id": SHOP, "name": "Shop"}
    assert rows[warehouse_id]["number"] == {"login_id": WAREHOUSE, "name": "Warehouse"}
    assert rows[shop_id]["contact"]["id"] == rows[warehouse_id]["contact"]["id"]
    # The contact's page holds both chats, each on its number.
    status, ana = await admin.call("GET", f"/api/v1/contacts/{rows[shop_id]['contact']['id']}")
    assert status == 200
    assert {(c["id"], c["number"]["login_id"]) for c in ana["conversations"]} == {
        (shop_id, SHOP), (warehouse_id, WAREHOUSE)}  # fmt: skip
    status, only = await admin.call("GET", "/api/v1/conversations", params={"number": WAREHOUSE})
    assert [c["id"] for c in only["items"]] == [warehouse_id]
    forged = {"number": "1' OR 1"}
    status, refused = await admin.call("GET", "/api/v1/conversations", params=forged)
    assert status == 422 and refused["error"]["field"] == "number"

    for conversation, text in ((shop_id, "Yes, in blue"), (warehouse_id, "Tomorrow at 9")):
        status, _ = await admin.call(
            "POST", f"/api/v1/conversations/{conversation}/messages",
            json={"client_txn_id": uuid.uuid4().hex, "body": text},
        )  # fmt: skip
        assert status == 202
    await world.until(lambda: len(emu.sent_by_crm) == 2, "both replies at the bridge")
    sent = {s.content["body"]: s.room_id for s in emu.sent_by_crm}
    assert sent == {"Yes, in blue": to_shop.room_id, "Tomorrow at 9": to_warehouse.room_id}

    # A new chat asks which number; given one, it is on that number.
    status, answer = await admin.call("POST", "/api/v1/conversations/new",
                                      json={"phone": "+15551330002"})  # fmt: skip
    assert status == 422 and answer["error"]["field"] == "login_id"
    new = {"phone": "+15551330002", "login_id": WAREHOUSE}
    status, opened = await admin.call("POST", "/api/v1/conversations/new", json=new)
    assert status == 201 and opened["number"]["login_id"] == WAREHOUSE
    assert opened["contact"]["phone"] == "+15551330002"
    # What reaches the bridge's query string is a login id's digits, nothing else.
    smuggled = {**new, "login_id": "15550000002&user_id=@mallory:elsewhere.org"}
    status, answer = await admin.call("POST", "/api/v1/conversations/new", json=smuggled)
    assert status == 422 and answer["error"]["field"] == "login_id"
    unknown = {**new, "login_id": "15559999999"}
    status, answer = await admin.call("POST", "/api/v1/conversations/new", json=unknown)
    assert status == 422 and answer["error"]["code"] == "bridge_refused"
