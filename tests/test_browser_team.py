"""A manager's own account (name, password, API tokens) and an admin's part in a colleague's
(role, a new password), in the page."""

from __future__ import annotations

from playwright.async_api import Browser

from crm_appservice import passwords

from . import chromium
from .chromium import PASSWORD, WAIT, inbox_url, logged_in, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser


async def test_own_account_and_an_admins_changes(world: World, browser: Browser) -> None:
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager")
    await olga.get_by_role("button", name="Olga").click()
    await olga.wait_for_url(inbox_url(world) + "account")
    await olga.get_by_label("Your name, as colleagues see it").fill("Olga Kowalska")
    await olga.get_by_role("button", name="Save name").click()
    await olga.get_by_role("button", name="Olga Kowalska").wait_for(timeout=WAIT)
    stored = "SELECT name, role, password_hash FROM managers WHERE email = 'olga@example.com'"
    assert (await world.db.fetchrow(stored))["name"] == "Olga Kowalska"

    # A new password needs the current one.
    await olga.get_by_label("Current password").fill("not it")
    await olga.get_by_label("New password (at least 8 characters)").fill("olga's new password")
    await olga.get_by_role("button", name="Change password").click()
    await (
        olga.get_by_role("alert")
        .filter(has_text="Current password: not the right one")
        .wait_for(timeout=WAIT)
    )
    await olga.get_by_label("Current password").fill(PASSWORD)
    await olga.get_by_role("button", name="Change password").click()
    await olga.get_by_text("Password changed.").wait_for(timeout=WAIT)
    row = await world.db.fetchrow(stored)
    assert passwords.verify_password(row["password_hash"], "olga's new password")

    # An API token: shown once, listed, revoked after a question.
    await olga.get_by_label("What it is for").fill("Nightly export")
    await olga.get_by_label("Your password").fill("olga's new password")
    await olga.get_by_role("button", name="Make a token").click()
    shown = olga.locator(".new-token code")
    await shown.wait_for(timeout=WAIT)
    token = await shown.inner_text()
    assert len(token) > 20
    listed = olga.locator("[data-token]", has_text="Nightly export")
    await listed.wait_for(timeout=WAIT)
    await shot(olga, "27-own-account")
    await listed.get_by_role("button", name="Revoke").click()
    await listed.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
    await listed.wait_for(state="detached", timeout=WAIT)
    assert await world.db.fetchval("SELECT count(*) FROM sessions WHERE kind = 'api_token'") == 0

    # The admin: another role, and a new password for a colleague who lost theirs.
    eve = await logged_in(world, browser)
    await eve.get_by_role("button", name="Team").click()
    line = eve.locator("tr", has_text="olga@example.com")
    await line.get_by_label("Role of Olga Kowalska").select_option("admin")
    await world.until(
        lambda: world.db.fetchval(
            "SELECT role = 'admin' FROM managers WHERE email = 'olga@example.com'"
        ),
        "the new role",
    )
    await line.get_by_role("button", name="Reset password").click()
    await line.get_by_label("New password for them").fill("reset by eve 123")
    await line.get_by_role("button", name="Save").click()
    await line.get_by_text("password is changed").wait_for(timeout=WAIT)
    row = await world.db.fetchrow(stored)
    assert passwords.verify_password(row["password_hash"], "reset by eve 123")
    await shot(eve, "28-team-admin")


async def test_a_form_sent_incomplete_says_what_is_missing_in_the_inboxs_words(
    world: World, browser: Browser
) -> None:
    """One style for every error: the server's sentence, not the browser's own bubble."""
    eve = await logged_in(world, browser)
    await eve.get_by_role("button", name="Team").click()
    form = eve.locator("form", has=eve.get_by_role("button", name="Add a manager"))

    async def says(text: str) -> None:
        await form.get_by_role("button", name="Add a manager").click()
        await form.get_by_role("alert").filter(has_text=text).wait_for(timeout=WAIT)

    await says("E-mail: an e-mail address, like name@example.com")
    await form.get_by_label("E-mail").fill("pia@example.com")
    await says("Name: cannot be empty")
    await form.get_by_label("Name").fill("Pia")
    await form.get_by_label("Password (at least 8 characters)").fill("short")
    await says("Password: at least 8 characters")
    await shot(eve, "29-plain-words")
