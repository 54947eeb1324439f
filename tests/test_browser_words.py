"""What the inbox says and where it leads: a link to a conversation that is not there, the Team
page's own address, notifications that turn off again, a snooze of the manager's choosing shown
whole, links in messages that open safely, an emoji picker, a contact's e-mail shown and
cleared, and orders and notes changed in place."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.async_api import Browser

from . import chromium
from .chromium import WAIT, bubble, inbox_url, logged_in, row, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser


async def test_addresses_notifications_snooze_and_links(world: World, browser: Browser) -> None:
    _, conversation = await world.customer_writes(
        "15551300041", "Jo", "The sofa: https://shop.example/sofa?id=2. Nice!"
    )
    eve = await logged_in(world, browser)
    await eve.context.grant_permissions(["notifications"])

    # A link to a conversation that is not there says so, and leads back.
    await eve.goto(inbox_url(world) + "conversations/999999")
    await eve.get_by_text("This conversation does not exist").wait_for(timeout=WAIT)
    await eve.get_by_role("button", name="Back to the inbox").last.click()
    await eve.wait_for_url(inbox_url(world))

    # The Team page has its own address: a reload stays there, Back leaves it.
    await eve.get_by_role("button", name="Team").click()
    await eve.wait_for_url(inbox_url(world) + "team")
    await eve.reload()
    await eve.get_by_role("heading", name="Team", exact=True).wait_for(timeout=WAIT)
    await eve.go_back()
    await eve.get_by_role("tab", name="All").wait_for(timeout=WAIT)
    # So has every page: the account survives a reload, an address that is no page leads to
    # the inbox, and Back from a conversation returns to the list.
    await eve.locator("button.me").click()
    await eve.wait_for_url(inbox_url(world) + "account")
    await eve.reload()
    await eve.get_by_role("heading", name="Your account").wait_for(timeout=WAIT)
    await eve.goto(inbox_url(world) + "no/such/page")
    await eve.wait_for_url(inbox_url(world))
    await row(eve, conversation).click()
    await eve.wait_for_url(inbox_url(world) + f"conversations/{conversation}")
    await eve.go_back()
    await eve.wait_for_url(inbox_url(world))
    await eve.get_by_text("Pick a conversation on the left").wait_for(timeout=WAIT)

    # Notifications (the browser allows them): on, off again, and off they stay.
    on = eve.get_by_role("button", name="Notifications on")
    await on.wait_for(timeout=WAIT)
    await on.click()
    await eve.get_by_role("button", name="Notify me").wait_for(timeout=WAIT)
    await eve.reload()
    await eve.get_by_role("button", name="Notify me").click()
    await on.wait_for(timeout=WAIT)

    # A link in a message opens in a new tab, apart from the inbox.
    await row(eve, conversation).click()
    link = bubble(eve, "The sofa").get_by_role("link", name="https://shop.example/sofa?id=2")
    assert await link.get_attribute("target") == "_blank"
    assert await link.get_attribute("rel") == "noopener noreferrer nofollow"

    # An emoji from the composer's picker goes where the caret is.
    box = eve.get_by_role("textbox", name="Write a reply…")
    await box.fill("Thanks !")
    await box.evaluate("b => b.setSelectionRange(7, 7)")
    await eve.get_by_role("button", name="Emoji").click()
    grid = eve.get_by_role("dialog", name="Emoji")
    await grid.get_by_role("button", name="🙏").click()
    await grid.wait_for(state="detached")
    assert await box.input_value() == "Thanks 🙏!"
    await eve.get_by_role("button", name="Emoji").click()
    await grid.press("Escape")
    await grid.wait_for(state="detached")
    await box.fill("")

    # The contact's e-mail is shown, and every field can be cleared again.
    side = eve.get_by_role("complementary", name="Contact")
    await side.get_by_role("button", name="Edit contact").click()
    await side.get_by_label("E-mail").fill("jo@example.com")
    await side.get_by_role("button", name="Save").first.click()
    await side.get_by_role("link", name="jo@example.com").wait_for(timeout=WAIT)
    await side.get_by_role("button", name="Edit contact").click()
    await side.get_by_label("E-mail").fill("")
    await side.get_by_label("Name").fill("")
    await side.get_by_role("button", name="Save").first.click()
    await side.get_by_role("button", name="Edit contact").wait_for(timeout=WAIT)
    contact = await world.db.fetchrow(
        "SELECT ct.email, ct.display_name FROM contacts ct"
        " JOIN conversations c ON c.contact_id = ct.id WHERE c.id = $1",
        conversation,
    )
    assert contact is not None and contact["email"] is None and contact["display_name"] is None

    # A snooze until a time of the manager's choosing, shown whole.
    status = eve.get_by_label("Status").last
    await status.select_option("snooze:custom")
    until = (datetime.now() + timedelta(days=3)).replace(hour=14, minute=30)
    await eve.get_by_label("Snooze until", exact=True).fill(until.strftime("%Y-%m-%dT%H:%M"))
    await eve.get_by_role("button", name="Snooze", exact=True).click()
    label = status.locator("option:checked")
    await label.filter(has_text="Snoozed until").wait_for(state="attached", timeout=WAIT)
    text = await label.inner_text()
    assert "2:30" in text or "14:30" in text, text
    assert str(until.day) in text, text
    # The select shows the snooze as soon as it is asked for; the server's answer follows.
    snoozed = "SELECT snoozed_until FROM conversations WHERE id = $1"
    await world.until(
        lambda: world.db.fetchval(f"SELECT ({snoozed}) IS NOT NULL", conversation), "the snooze"
    )
    stored = await world.db.fetchval(snoozed, conversation)
    assert stored is not None and stored.astimezone().strftime("%d %H:%M") == until.strftime(
        "%d %H:%M"
    )
    box = await status.bounding_box()
    assert box is not None
    width = await status.evaluate("s => s.scrollWidth <= s.clientWidth + 1")
    assert width, "the snooze's end is cut off"
    await shot(eve, "20-snoozed-until")


async def test_orders_and_notes_are_changed_in_place_and_errors_say_what_is_wrong(
    world: World, browser: Browser
) -> None:
    _, conversation = await world.customer_writes("15551300042", "Lea", "I ordered two chairs")
    eve = await logged_in(world, browser)
    await row(eve, conversation).click()
    side = eve.get_by_role("complementary", name="Contact")
    await side.get_by_role("button", name="Add order").click()
    await side.get_by_label("Number").fill("B-7")
    await side.get_by_label("Total").fill("89,90")  # a decimal comma
    await side.get_by_label("Currency").fill("€")
    await side.get_by_label("Items").fill("Chair × 2 @ 44,95")
    await side.get_by_role("button", name="Save").first.click()
    await (
        side.get_by_role("alert")
        .filter(has_text="Currency: three letters, like EUR")
        .wait_for(timeout=WAIT)
    )
    await side.get_by_label("Currency").fill("EUR")
    await side.get_by_role("button", name="Save").first.click()
    order = side.locator("[data-order]")
    await order.filter(has_text="#B-7 · 89.90 EUR · new").wait_for(timeout=WAIT)
    assert "Chair × 2 @ 44.95" in await order.inner_text()
    assert await order.locator("time").count() == 1  # its date
    # Changed: a new total and status.
    await order.get_by_role("button", name="Edit").click()
    await side.get_by_label("Total").fill("44,95")
    await side.get_by_label("Items").fill("Chair @ 44,95")
    await side.get_by_role("combobox", name="Status").select_option("paid")
    await side.get_by_role("button", name="Save").first.click()
    await order.filter(has_text="#B-7 · 44.95 EUR · paid").wait_for(timeout=WAIT)

    # A note, changed and then deleted by its author, for every open inbox at once.
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "admin")
    await row(olga, conversation).click()
    await side.get_by_label("Add a note").fill("Wants delivery on Friday")
    await side.get_by_role("button", name="Save").last.click()
    note = side.locator("[data-note]")
    await note.filter(has_text="Wants delivery on Friday").wait_for(timeout=WAIT)
    theirs = olga.get_by_role("complementary", name="Contact").locator("[data-note]")
    await theirs.filter(has_text="Wants delivery on Friday").wait_for(timeout=WAIT)
    assert await theirs.get_by_role("button", name="Edit").count() == 0  # not Olga's to change
    await note.get_by_role("button", name="Edit").click()
    editor = note.get_by_role("textbox", name="Edit")
    await editor.fill("Wants delivery on Saturday")
    await editor.press("Enter")
    await theirs.filter(has_text="Wants delivery on Saturday").wait_for(timeout=WAIT)
    assert "Edited" in await theirs.inner_text()
    await shot(eve, "26-orders-and-notes")
    await note.get_by_role("button", name="Delete").click()
    await note.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    await theirs.wait_for(state="detached", timeout=WAIT)
    await order.get_by_role("button", name="Delete").click()
    await order.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    await order.wait_for(state="detached", timeout=WAIT)
    assert await world.db.fetchval("SELECT count(*) FROM orders") == 0
