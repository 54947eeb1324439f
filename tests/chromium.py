"""What the browser tests share: Chromium (Debian's package, driven by Playwright), a Matrix
world with the CRM serving the built inbox, a signed-in manager's page, and the locators of a
list row and a message bubble. Screenshots go to `test-artifacts/` (or $CRM_ARTIFACTS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
import os
import shutil
from typing import Any

from playwright.async_api import Browser, Page, async_playwright
import pytest

from crm_appservice.store import managers
from crm_appservice.webapp import SOURCE_BUILD

from .conftest import PASSWORD, PASSWORD_HASH, ConfigFactory
from .matrix_world import SharedMatrix, World, running_world

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = os.environ.get("CRM_ARTIFACTS") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test-artifacts"
)
WAIT = 20_000  # ms, for the page to show what the backend did


@pytest.fixture
async def world(
    matrix: SharedMatrix, db_dsn: str, make_config: ConfigFactory, workdir: str
) -> AsyncIterator[World]:
    assert os.path.isfile(os.path.join(SOURCE_BUILD, "index.html")), (
        "the web inbox is not built: the README's test command builds it (npm run build in web/)"
    )
    async for w in running_world(make_config, workdir, db_dsn, shared=matrix):
        yield w


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
        )  # fmt: skip
        yield browser
        await browser.close()


async def shot(page: Page, name: str) -> None:
    os.makedirs(ARTIFACTS, exist_ok=True)
    await page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"))


# Every page records what its Content-Security-Policy refused (see `csp_violations`).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


async def csp_violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("window.__violations")
    return found


def inbox_url(world: World) -> str:
    aps = world.crm.settings.appservice
    return f"http://{aps.hostname}:{aps.port}/"


async def logged_in(
    world: World,
    browser: Browser,
    email: str = "eve@example.com",
    name: str = "Eve",
    role: str = "admin",
    **context_options: Any,
) -> Page:
    """A manager signed in, in a browser (context) of their own: a desktop's window unless
    `context_options` say otherwise (a phone's viewport and touch)."""
    await managers.create(world.db, email, name, role, PASSWORD_HASH,
                          update_existing=True)  # fmt: skip
    options = {"viewport": {"width": 1400, "height": 900}, **context_options}
    context = await browser.new_context(**options)
    await context.add_init_script(RECORD_VIOLATIONS)
    page = await context.new_page()
    await page.goto(inbox_url(world))
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("tab", name="All").wait_for(timeout=WAIT)
    return page


def row(page: Page, conversation_id: int) -> Any:
    return page.locator(f'[data-conversation="{conversation_id}"]')


def bubble(page: Page, text: str) -> Any:
    return page.locator(".bubble-row", has_text=text)


async def open_read(world: World, page: Page, conversation_id: int) -> None:
    """Open a conversation and wait until opening it has marked it read: that answer (a newer
    version) is in before the test changes the conversation, so it cannot undo the change."""
    await page.goto(inbox_url(world) + f"conversations/{conversation_id}")
    await world.until(
        lambda: world.db.fetchval(
            "SELECT unread_count = 0 FROM conversations WHERE id = $1", conversation_id
        ),
        f"conversation {conversation_id} read",
    )


async def label_from_header(page: Page, name: str) -> None:
    """Put a label on the open conversation from its header's Labels menu, and see its chip."""
    await page.get_by_role("button", name="Labels").click()
    await page.get_by_role("dialog", name="Labels").get_by_label(name).click()
    await page.locator(".thread-header .who .label-chip", has_text=name).wait_for(timeout=WAIT)
