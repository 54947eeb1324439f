"""Quick replies as managers use them: an admin adds the team's with a photo on the Team page, a
manager adds their own on their account; in the composer `/` opens the list, the keyboard
picks one, the variables are filled in for the customer (one with no value is said, and the
reply refused until it is filled in), and the photo reaches the bridge with the text as its
caption (desktop and phone)."""

from __future__ import annotations

from playwright.async_api import Browser

from testbed.media import png

from . import chromium
from .chromium import WAIT, bubble, logged_in, row, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def test_slash_fills_in_a_quick_reply_and_its_photo_reaches_the_customer(
    world: World, browser: Browser
) -> None:
    emu = world.emulator
    ana = await world.portal("15551270001", "Ana Lima")
    await emu.send_text(ana, "15551270001", "Do you have a catalogue?")
    ana_id = await world.conversation_id(ana.room_id)
    await world.until(
        lambda: world.db.fetchval("SELECT count(*) = 1 FROM messages"), "Ana's message"
    )
    page = await logged_in(world, browser)
    await page.get_by_role("button", name="Team").click()
    team = page.get_by_role("region", name="The team's quick replies")
    await team.get_by_label("Name", exact=True).fill("Catalogue")
    await team.get_by_label("Shortcut").fill("catalogue")
    await team.get_by_label("Text").fill("Hi {{contact.first_name}}, here is our catalogue")
    await team.get_by_role("button", name="Add quick reply").click()
    made = team.locator('[data-quick-reply="catalogue"]')
    await made.wait_for(timeout=WAIT)
    photo = png(60, 40)
    await made.get_by_label("Add a file: Catalogue").set_input_files(
        {"name": "sofa.png", "mimeType": "image/png", "buffer": photo}
    )
    await made.get_by_role("link", name="sofa.png").wait_for(timeout=WAIT)
    await shot(page, "42-quick-reply-settings")

    await page.goto(page.url.replace("/team", f"/conversations/{ana_id}"))
    box = page.get_by_role("textbox", name="Write a reply…")
    await box.fill("/zz")
    await page.get_by_text("No quick reply matches").wait_for(timeout=WAIT)
    await box.press("Escape")  # closed, the text kept
    await page.get_by_role("listbox", name="Quick replies").wait_for(state="hidden", timeout=WAIT)
    assert await box.input_value() == "/zz"
    await box.fill("/cat")
    picker = page.get_by_role("listbox", name="Quick replies")
    await picker.get_by_role("option", name="/catalogue Catalogue").wait_for(timeout=WAIT)
    await shot(page, "43-quick-reply-picker")
    await box.press("Enter")
    await page.wait_for_function(
        "() => document.querySelector('.composer textarea').value.startsWith('Hi Ana')",
        timeout=WAIT,
    )
    assert await box.input_value() == "Hi Ana, here is our catalogue"
    await page.locator('[data-quick-file="sofa.png"]').wait_for(timeout=WAIT)
    await box.press("End")
    await box.type(" 📖")
    await box.press("Enter")
    sent = bubble(page, "Hi Ana, here is our catalogue 📖")
    await sent.locator(".tick-read").wait_for(timeout=WAIT)
    assert await sent.locator("img").count() == 1
    [content] = [e.content for e in emu.sent_by_crm if e.content.get("msgtype") == "m.image"]
    assert content["body"] == "Hi Ana, here is our catalogue 📖"
    assert (await emu.download(content["url"]))[0] == photo
    await row(page, ana_id).get_by_text("Hi Ana, here is our catalogue").wait_for(timeout=WAIT)

    # A manager's own, on a phone: a variable with no value is said, and not sent as it is.
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager", **PHONE)
    await olga.goto(page.url.split("/conversations")[0] + "/account")
    own = olga.get_by_role("region", name="Your quick replies")
    await own.get_by_label("Name", exact=True).fill("Shipped")
    await own.get_by_label("Shortcut").fill("shipped")
    await own.get_by_label("Text").fill(
        "{{contact.first_name}}, order {{order.number}} is on its way"
    )
    await own.get_by_role("button", name="Add quick reply").click()
    await own.locator('[data-quick-reply="shipped"]').wait_for(timeout=WAIT)
    await olga.goto(page.url)
    box = olga.get_by_role("textbox", name="Write a reply…")
    await box.fill("/")
    options = olga.get_by_role("listbox", name="Quick replies").get_by_role("option")
    await options.nth(1).wait_for(timeout=WAIT)
    assert await options.all_inner_texts() != []
    await box.press("ArrowDown")  # the second: her own /shipped after the team's /catalogue
    await box.press("Enter")
    await olga.get_by_text("No value here for {{order.number}}").wait_for(timeout=WAIT)
    assert await box.input_value() == "Ana, order {{order.number}} is on its way"
    await shot(olga, "44-quick-reply-missing-value-on-a-phone")
    await box.press("Enter")  # refused where she writes, her text kept
    await olga.get_by_role("alert").get_by_text("No value here for").wait_for(timeout=WAIT)
    assert await box.input_value() == "Ana, order {{order.number}} is on its way"
    await box.fill("Ana, order A-17 is on its way")
    await olga.get_by_role("status").get_by_text("No value here").wait_for(state="hidden")
    await box.press("Enter")
    await (
        bubble(olga, "Ana, order A-17 is on its way").locator(".tick-read").wait_for(timeout=WAIT)
    )
    bodies = [e.content.get("body") for e in emu.sent_by_crm]
    assert not any("{{" in (b or "") for b in bodies), bodies
