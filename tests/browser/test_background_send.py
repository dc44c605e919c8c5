""""Send by email" to the 43 forces in a real browser, with a real `foitrack worker` and a mail
server that takes 0.2 s a message (issue 21, point 4): the progress page is back in under a
second, refreshes itself with a meta refresh (no script) until all 43 are sent, and is
accessible and fits a phone's screen while the send runs and when it is done."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Route, ViewportSize, expect
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from foitrack.services import requests as request_service
from foitrack.services.design import create_from_file
from tests.browser.chromium import LiveServer, Visits, new_page, sign_in
from tests.browser.test_pages import WIDEST
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.queue.conftest import (  # noqa: F401 - fixtures, used by name
    REDIS_URL,
    SlowRecorder,
    Worker,
    redis_is_up,
    slow_smtp,
    start_worker,
    worker_env,
)

pytestmark = pytest.mark.browser

# An iPhone 12-15's width in CSS pixels: the narrowest screen most researchers' phones have.
PHONE_390: ViewportSize = {"width": 390, "height": 844}
JOB_URL = re.compile(r"/jobs/\d+$")
REFRESH = re.compile(r'<meta http-equiv="refresh"[^>]*>')


@pytest.fixture
def broker_env(cli_env: dict[str, str]) -> dict[str, str]:
    """Redis only (worker_env asks for this by name): what the page does is the same on the
    embedded queue, which tests/queue/test_worker.py runs its workers on as well, and each broker
    would add half a minute of browser time."""
    if not redis_is_up():
        pytest.fail(f"Redis is not answering at {REDIS_URL}: start it (README, 'Running the "
                    "tests') or set FOITRACK_TEST_REDIS_URL")
    return {**cli_env, "FOITRACK_QUEUE": f"test-{uuid.uuid4().hex[:12]}",
            "FOITRACK_BROKER_URL": REDIS_URL}


@pytest.fixture
def served(app: Flask, session: Session,
           worker_env: dict[str, str]) -> Iterator[LiveServer]:  # noqa: F811
    """The test's own app (the one worker_env points at the worker's queue and mail server) on a
    loopback port, with a researcher to sign in as. The browser tests' module-wide live_server
    has a database of its own, which the worker process would not see."""
    researcher = make_user(session, "researcher", "rosa@example.org").email
    session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", researcher, researcher,
                         researcher, app.extensions["foitrack.db"].engine.dialect.name)
    finally:
        server.shutdown()
        thread.join(5)


def _held(page: Page, seen: list[str]) -> Page:
    """The page with the job's progress page loaded once and then held still: its refreshes are
    answered "204 No Content", which leaves the page as it is (meta refresh and all), so that a
    screenshot or axe's run is not cut off by a reload. The page as served is kept in ``seen``."""
    def first_only(route: Route) -> None:
        if seen:
            route.fulfill(status=204)
            return
        response = route.fetch()
        seen.append(response.text())
        route.fulfill(response=response)

    page.route(JOB_URL, first_only)
    return page


def _number(page: Page, selector: str) -> int:
    return int(page.locator(selector).inner_text())


def _fits(page: Page, name: str) -> None:
    # Wide tables scroll inside their own box; the page itself never scrolls sideways.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} is {overflow}px wider than the screen: {page.evaluate(WIDEST)}"


def test_send_by_email_answers_at_once_and_the_progress_page_follows_the_send(
        browser: Browser, served: LiveServer, session: Session, slow_smtp: SlowRecorder,  # noqa: F811
        start_worker: Callable[..., Worker], record_property: Callable[[str, object], None],  # noqa: F811
) -> None:
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN)
    session.commit()
    addresses = sorted(str(r.authority.foi_email)
                       for r in request_service.campaign_requests(session, campaign))
    assert len(addresses) == 43
    slow_smtp.delay = 0.1  # 43 messages take at least 4.3 s to go
    worker = start_worker("w1")
    visits = Visits("background-send")

    page = new_page(browser, served)
    # Every time the progress page asks the server again: a reload, or a script's fetch.
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url)
            if JOB_URL.search(request.url) and request.method == "GET" else None)
    sign_in(page, served.researcher)
    page.goto("/campaigns/grooming-2019")
    page.get_by_role("link", name="Send by email").click()
    expect(page.get_by_role("heading", name="Send the request by email")).to_be_visible()
    expect(page.locator("#send-list tbody tr")).to_have_count(43)
    visits.check(page, "send the request")

    # (a) The click answers with the progress page, loaded, in under a second.
    with page.expect_navigation(url=JOB_URL, wait_until="load"):
        clicked = time.perf_counter()
        page.get_by_role("button", name="Send 43 messages").click()
    took = time.perf_counter() - clicked
    # The browser's own count, from the form's submission to the progress page's load event:
    # the POST answered with its redirect, then the progress page fetched, then loaded.
    timing = page.evaluate("(({redirectEnd, responseEnd, loadEventEnd}) => "
                           "({redirectEnd, responseEnd, loadEventEnd}))"
                           "(performance.getEntriesByType('navigation')[0].toJSON())")
    job_url = page.url
    left_at_first = _number(page, "#job-left")
    print(f"\nclick to progress page loaded: {took * 1000:.0f} ms; the browser's navigation "
          f"timing {timing['loadEventEnd']:.0f} ms (POST and redirect {timing['redirectEnd']:.0f}"
          f" ms, progress page {timing['responseEnd'] - timing['redirectEnd']:.0f} ms, loading "
          f"it {timing['loadEventEnd'] - timing['responseEnd']:.0f} ms); {left_at_first} of 43 "
          "still to send then")
    record_property("click_to_progress_page_ms", round(took * 1000))
    record_property("browser_navigation_ms", round(timing["loadEventEnd"]))
    assert took < 1.0, f"the progress page took {took:.2f} s to come back"
    assert left_at_first > 0, "the page came back only after the send was over"
    expect(page.locator("#job-total")).to_have_text("43")

    # Someone with script turned off follows the same job: only a meta refresh can move it on.
    no_script = new_page(browser, served, javascript=False)
    sign_in(no_script, served.researcher)
    no_script.goto(job_url)
    # And the page as it is while the send runs, held still for the checks at the end.
    served_html: list[str] = []
    running = _held(new_page(browser, served), served_html)
    sign_in(running, served.researcher)
    running.goto(job_url)
    # (The worker may not have taken the job yet: "waiting to start" is as good.)
    expect(running.locator("#job-state")).to_have_text(re.compile("^(running|waiting to start)$"))
    expect(running.get_by_role("button", name="Cancel the rest")).to_be_visible()
    expect(running.locator("#job-messages tbody tr")).to_have_count(43)
    assert REFRESH.search(served_html[0]), "the running page has no meta refresh"

    # (b) The page follows the send by itself, to the last message, then stops.
    expect(page.locator("#job-state")).to_have_text("done", timeout=90_000)
    assert (_number(page, "#job-sent"), _number(page, "#job-failed"), _number(page, "#job-left"),
            _number(page, "#job-total")) == (43, 0, 0, 43), worker.output()
    expect(page.locator("#job-messages tbody tr")).to_have_count(43)
    assert Counter(page.locator("#job-messages tbody tr td:nth-child(3)").all_text_contents()) \
        == {"sent": 43}
    assert page.locator('meta[http-equiv="refresh"]').count() == 0  # done: no more reloads
    again = asked.count(job_url) - 1
    print(f"the progress page asked for its job again {again} times before the send was done")
    assert again >= 3, "the page did not refresh itself while 4.3 s of sending went on"
    settled = len(asked)
    expect(no_script.locator("#job-state")).to_have_text("done", timeout=10_000)
    expect(no_script.locator("#job-sent")).to_have_text("43")

    # (c) The mail server got 43 messages, one to each force.
    assert sorted(m["To"] for m in slow_smtp.messages) == addresses

    # (d) Accessible while it runs and once it is done, and no wider than a 390 px phone.
    for shown, name in ((running, "progress, running"), (page, "progress, done")):
        visits.check(shown, name)
        shown.set_viewport_size(PHONE_390)
        visits.check(shown, f"{name}, phone")
        _fits(shown, f"the {name} page")
    assert len(asked) == settled, "the finished page still asks the server again"
    for opened in (page, no_script, running):
        assert opened.problems == [], opened.problems  # type: ignore[attr-defined]
