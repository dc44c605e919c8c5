"""Driving Debian's headless Chromium against the live test server: opening pages that record
every script error or failed resource, signing in, and photographing each page a test visits
into test-artifacts/browser/ with an axe-core check (serious or critical violations fail)."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page

from tests.databases import POSTGRES_URL
from tests.factories import PASSWORD

CHROMIUM = os.environ.get("FOITRACK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("FOITRACK_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[2] / "test-artifacts")) / "browser" \
    / ("postgresql" if POSTGRES_URL else "sqlite")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
# The width of a common phone today (an iPhone 12 to 15): the researcher's day is walked at it.
PHONE_390 = {"width": 390, "height": 844}
# Chromium's own calls home fail on a closed network and slow every start; the sandbox needs
# user namespaces that a root CI container does not have.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class LiveServer:
    """The app on a real HTTP port, with the accounts a test story signs in with."""

    app: Flask
    url: str
    researcher: str
    checker: str
    admin: str
    backend: str

    def session(self):
        return self.app.extensions["foitrack.db"].session()


@dataclass
class Visits:
    """Screenshots and accessibility checks of the pages a test passes through."""

    prefix: str
    seen: list[str] = field(default_factory=list)
    axe: Axe = field(default_factory=Axe)
    # On a phone, a page wider than the screen must be scrolled sideways to be read: checked
    # on every page when set (a wide table scrolls in its own box instead).
    narrow: bool = False

    def check(self, page: Page, name: str, full_page: bool = True) -> None:
        """Photograph the page and fail on any serious or critical axe-core violation."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # Charts are rendered on the server: photograph the page once every image is in.
        images_loaded(page)
        broken = page.evaluate("Array.from(document.images).filter(i => !i.naturalWidth)"
                               ".map(i => i.src)")
        assert not broken, f"{name}: images that did not load: {broken}"
        number = len(self.seen) + 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        page.screenshot(path=str(ARTIFACTS / f"{self.prefix}-{number:02d}-{slug}.png"),
                        full_page=full_page)
        self.seen.append(name)
        if self.narrow:
            assert_no_sideways_scroll(page, name)
        results = self.axe.run(page, options={"runOnly": {"type": "tag", "values": [
            "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
        bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name} ({page.url}): " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(n["target"]) for n in v["nodes"][:5]) for v in bad)


def assert_no_sideways_scroll(page: Page, name: str) -> None:
    """Fail if the page is wider than the window, naming the widest elements that stick out."""
    wide = page.evaluate("""() => {
        const width = window.innerWidth;
        if (document.documentElement.scrollWidth <= width) return null;
        const out = Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > width + 0.5)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                      + (e.className && typeof e.className === 'string'
                         ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                      + ' (' + Math.round(e.getBoundingClientRect().right) + 'px)');
        return {scroll: document.documentElement.scrollWidth, width, out: out.slice(0, 8)};
    }""")
    assert wide is None, (f"{name} ({page.url}) scrolls sideways: {wide['scroll']}px wide in a "
                          f"{wide['width']}px window; sticking out: {', '.join(wide['out'])}")


def wait_until(page: Page, holds: Callable[[], object], what: str, timeout: float = 15) -> None:
    """Poll ``holds()`` (a page.evaluate or locator.evaluate) until it is true. Not Playwright's
    wait_for_function: it evaluates its predicate with eval whenever the first try is false,
    which the app's Content-Security-Policy (script-src 'self', no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout
    while not holds():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout} s on {page.url}")
        page.wait_for_timeout(50)


def images_loaded(page: Page) -> None:
    """Every image of the page is in (charts are rendered on the server)."""
    wait_until(page, lambda: page.evaluate("Array.from(document.images).every(i => i.complete)"),
               "images still loading")


def new_page(browser: Browser, server: LiveServer, viewport: dict[str, int] = DESKTOP,
             javascript: bool = True) -> Page:
    context = browser.new_context(viewport=viewport, base_url=server.url, accept_downloads=True,
                                  java_script_enabled=javascript, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    # A script error, a refused resource or a blocked CSP rule on any page is a failure.
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # A form sent back with errors answers 400 by design; a failed image, script or style
    # sheet never should. Chromium logs both as "Failed to load resource", so the responses
    # are judged by their kind instead.
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None)
    page.on("response", lambda response: problems.append(
        f"{response.status} for the {response.request.resource_type} {response.url}")
        if response.status >= 400 and response.request.resource_type != "document" else None)
    # (Aborted is not failed: a download, or images cut off by the next page.)
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url} "
                                                             f"({request.failure})")
            if request.failure != "net::ERR_ABORTED" else None)
    page.problems = problems  # type: ignore[attr-defined]
    return page


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$|/campaigns"))


def fill_date(page: Page, legend: str, day: dt.date) -> None:
    """Types a date into the Day, Month and Year boxes of the date named ``legend``."""
    group = page.get_by_role("group", name=legend, exact=True)
    group.get_by_label("Day", exact=True).fill(str(day.day))
    group.get_by_label("Month", exact=True).fill(str(day.month))
    group.get_by_label("Year", exact=True).fill(str(day.year))
