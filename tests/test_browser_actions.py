"""A manager's actions that are hard to take back ask first or offer an undo; the editor and the
composer keep the same keys; one reaction of the team per message, as WhatsApp shows it; a
draft is its manager's, on every device, and no one else's on a shared browser."""

from __future__ import annotations

from playwright.async_api import Browser, Page

from . import chromium
from .chromium import WAIT, bubble, inbox_url, logged_in, row, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser


async def _reply(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Write a reply…")
    await box.fill(text)
    await box.press("Enter")
    await bubble(page, text).locator(".tick-delivered, .tick-read").wait_for(timeout=WAIT)


async def test_delete_asks_resolve_undoes_and_the_editor_keeps_the_composers_keys(
    world: World, browser: Browser
) -> None:
    emu = world.emulator
    _, conversation = await world.customer_writes("15551300031", "Gil", "Can I change my order?")
    eve = await logged_in(world, browser)
    await row(eve, conversation).click()
    await _reply(eve, "Yes, what would you like?")
    await _reply(eve, "Sent by mistake")

    # Deleting asks once: nothing happens until it is confirmed.
    doomed = bubble(eve, "Sent by mistake")
    await doomed.hover()
    await doomed.get_by_role("button", name="Delete").click()
    question = doomed.get_by_role("alertdialog")
    await question.get_by_text("It disappears from the customer's WhatsApp too").wait_for()
    await shot(eve, "16-delete-asks")
    await question.get_by_role("button", name="Cancel").click()
    await doomed.hover()
    await doomed.get_by_role("button", name="Delete").click()
    await doomed.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    await eve.locator(".bubble-row", has_text="This message was deleted").wait_for(timeout=WAIT)
    redacted = [e for e in emu.sent_by_crm if e.content.get("body") == "Sent by mistake"]
    assert len(redacted) == 1

    # The editor: as wide as the bubble may be, Shift+Enter a new line, Enter saves.
    # (By its id: while edited, its text is in the text box.)
    mid = await bubble(eve, "Yes, what would you like?").get_attribute("data-message")
    mine = eve.locator(f'[data-message="{mid}"]')
    await mine.hover()
    await mine.get_by_role("button", name="Edit").click()
    editor = mine.get_by_role("textbox", name="Edit")
    await editor.press("End")
    await editor.press("Shift+Enter")
    await editor.type("Size or colour?")
    assert await editor.input_value() == "Yes, what would you like?\nSize or colour?"
    box = await editor.bounding_box()
    thread = await eve.locator(".messages").bounding_box()
    assert box is not None and thread is not None
    assert box["width"] >= min(500, 0.7 * thread["width"]) - 24
    lines = await editor.evaluate(
        "e => e.clientHeight / parseFloat(getComputedStyle(e).lineHeight)"
    )
    assert lines >= 1.9  # grown with its two lines
    await shot(eve, "17-editor")
    await editor.press("Enter")
    await bubble(eve, "Size or colour?").locator(".edited").wait_for(timeout=WAIT)
    # Esc leaves it as it was.
    await mine.hover()
    await mine.get_by_role("button", name="Edit").click()
    await mine.get_by_role("textbox", name="Edit").fill("Something else")
    await mine.get_by_role("textbox", name="Edit").press("Escape")
    await mine.get_by_role("textbox", name="Edit").wait_for(state="detached")
    assert "Something else" not in await mine.inner_text()

    # `e` resolves at once, and offers to take it back for a moment.
    await eve.locator(".messages").click()
    await eve.keyboard.press("e")
    await row(eve, conversation).wait_for(state="detached", timeout=WAIT)
    toast = eve.get_by_role("status").filter(has_text="Gil: resolved")
    await toast.wait_for(timeout=WAIT)
    await shot(eve, "18-resolve-undo")
    await toast.get_by_role("button", name="Undo").click()
    await row(eve, conversation).wait_for(timeout=WAIT)  # at once, before the server's answer
    await world.until(
        lambda: world.db.fetchval(
            "SELECT status = 'open' FROM conversations WHERE id = $1", conversation),
        "the undone resolve",
    )  # fmt: skip


async def test_one_reaction_of_the_team_per_message_as_on_whatsapp(
    world: World, browser: Browser
) -> None:
    emu = world.emulator
    hal = await world.portal("15551300032", "Hal")
    question = await emu.send_text(hal, "15551300032", "Did my parcel leave?")
    conversation = await world.conversation_id(hal.room_id)
    eve = await logged_in(world, browser)
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager")
    for page in (eve, olga):
        await row(page, conversation).click()
    message = bubble(eve, "Did my parcel leave?")
    await message.hover()
    await message.locator(".actions button", has_text="👍").click()
    await (
        bubble(olga, "Did my parcel leave?")
        .locator(".reactions", has_text="👍")
        .wait_for(timeout=WAIT)
    )
    theirs = bubble(olga, "Did my parcel leave?")
    await theirs.hover()
    await theirs.locator(".actions button", has_text="❤️").click()
    for page in (eve, olga):
        reactions = bubble(page, "Did my parcel leave?").locator(".reactions")
        await reactions.filter(has_text="❤️").wait_for(timeout=WAIT)
        assert "👍" not in await reactions.inner_text()

    async def on_whatsapp() -> bool:
        return emu.reactions_on_whatsapp.get(question) == "❤️"

    await world.until(on_whatsapp, "the reaction replaced on WhatsApp")
    live = await world.db.fetchval(
        "SELECT count(*) FROM reactions WHERE deleted_at IS NULL AND sender_manager_id IS NOT NULL"
    )
    assert live == 1
    await shot(olga, "19-one-reaction")


async def test_a_draft_is_its_managers_and_gone_from_the_browser_on_sign_out(
    world: World, browser: Browser
) -> None:
    _, conversation = await world.customer_writes(
        "15551300033", "Ida", "What are your opening hours?"
    )
    eve = await logged_in(world, browser)
    await row(eve, conversation).click()
    await eve.get_by_role("textbox", name="Write a reply…").fill("We open at 9, and")

    async def kept() -> bool:
        body = await world.db.fetchval("SELECT body FROM drafts WHERE conversation_id = $1",
                                       conversation)  # fmt: skip
        return bool(body == "We open at 9, and")

    await world.until(kept, "the draft on the server")
    await eve.get_by_role("button", name="Sign out").click()
    # Olga on the same browser: nothing of Eve's.
    await logged_in(world, browser, "olga@example.com", "Olga", "manager")
    await eve.goto(inbox_url(world))
    await eve.get_by_label("E-mail").fill("olga@example.com")
    await eve.get_by_label("Password").fill(chromium.PASSWORD)
    await eve.get_by_role("button", name="Sign in").click()
    await row(eve, conversation).click()
    olga_box = eve.get_by_role("textbox", name="Write a reply…")
    await olga_box.wait_for(timeout=WAIT)
    assert await olga_box.input_value() == ""
    stored = await eve.evaluate("() => Object.keys(localStorage).join(',')")
    assert "draft" not in stored
    # Eve on another device finds her draft.
    elsewhere = await logged_in(world, browser)
    await row(elsewhere, conversation).click()
    box = elsewhere.get_by_role("textbox", name="Write a reply…")
    await box.wait_for(timeout=WAIT)
    assert await box.input_value() == "We open at 9, and"
    # Sent, it is gone everywhere.
    await box.fill("We open at 9, and close at 6.")
    await box.press("Enter")
    await bubble(elsewhere, "close at 6").wait_for(timeout=WAIT)
    await world.until(
        lambda: world.db.fetchval("SELECT count(*) = 0 FROM drafts"), "the draft removed"
    )


async def test_deactivating_a_colleague_asks_first(world: World, browser: Browser) -> None:
    await logged_in(world, browser, "olga@example.com", "Olga", "manager")
    eve = await logged_in(world, browser)
    await eve.get_by_role("button", name="Team").click()
    line = eve.locator("tr", has_text="olga@example.com")
    await line.get_by_role("button", name="Deactivate").click()
    await line.get_by_text("They are signed out everywhere at once").wait_for()
    active = "SELECT is_active FROM managers WHERE email = 'olga@example.com'"
    assert await world.db.fetchval(active) is True
    await line.get_by_role("button", name="Cancel").click()
    await line.get_by_role("button", name="Deactivate").click()
    await line.get_by_role("alertdialog").get_by_role("button", name="Deactivate").click()
    await line.get_by_role("button", name="Activate", exact=True).wait_for(timeout=WAIT)
    assert await world.db.fetchval(active) is False
