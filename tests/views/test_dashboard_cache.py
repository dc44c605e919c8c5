"""The dashboard and the chase list take each campaign's request rows from the page cache, kept
under that campaign's own data version: a warm dashboard derives no request, and a write to
one campaign rebuilds that campaign's rows alone (issue 22, points 1 and 2)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select

from benchmarks.generate import generate
from foitrack.models import Campaign, Event, Request
from foitrack.services import data_version
from foitrack.services import requests as request_service
from foitrack.services.campaigns import create_campaign, get_campaign, update_campaign
from foitrack.web import campaign_rows
from tests.factories import TEST_ACTOR, load_forces, make_user
from tests.pages import cache_builds, page_text, sign_in

pytestmark = pytest.mark.postgres

TODAY = dt.date(2024, 6, 3)
FORCES = ("west-mercia", "kent", "surrey")


@contextlib.contextmanager
def counted(app) -> Iterator[dict[str, int]]:
    """Counts, while open, the SQL statements run and the requests and events loaded as
    objects (what deriving a request's state needs)."""
    engine = app.extensions["foitrack.db"].engine
    seen = {"queries": 0, "loaded": 0}

    def query(*_):
        seen["queries"] += 1

    def loaded(*_):
        seen["loaded"] += 1

    event.listen(engine, "before_cursor_execute", query)
    event.listen(Request, "load", loaded)
    event.listen(Event, "load", loaded)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", query)
        event.remove(Request, "load", loaded)
        event.remove(Event, "load", loaded)


def overdue_card(page: str) -> str:
    """The dashboard's "overdue" card."""
    return page.split("overdue</h3>", 1)[1].split("</div>", 1)[0]


def link(slug: str, authority: str) -> str:
    return f'href="/campaigns/{slug}/requests/{authority}"'


@pytest.fixture
def late(app, client, session):
    """Campaigns "first" and "second", each to three forces, every request sent on 1 April 2024
    and overdue on TODAY; a researcher signed in."""
    app.config["TODAY"] = TODAY
    load_forces(session)
    owner = make_user(session)
    for slug in ("first", "second"):
        campaign = create_campaign(session, TEST_ACTOR, title=slug.title(), slug=slug, subject=None,
                                   request_text="Please tell me.", set_slug=None,
                                   authority_keys=list(FORCES), owner=owner)
        session.flush()
        for found in request_service.campaign_requests(session, campaign):
            request_service.add_event(session, TEST_ACTOR, found, "sent", dt.date(2024, 4, 1),
                                      today=TODAY)
    session.commit()
    sign_in(client, make_user(session).email)


def answer(session, slug: str, authority: str) -> None:
    """An audited write to one campaign: its request to ``authority`` is answered."""
    found = request_service.get_request(session, slug, authority)
    request_service.add_event(session, TEST_ACTOR, found, "response", dt.date(2024, 5, 20),
                              today=TODAY, outcome="provided")
    session.commit()


def test_a_warm_dashboard_builds_nothing_and_derives_no_request(app, client, late):
    before = cache_builds(app)
    page_text(client, "/")
    assert cache_builds(app) == before + 2  # each campaign's rows, kept on their own

    with counted(app) as seen:
        page = page_text(client, "/")
    assert cache_builds(app) == before + 2
    assert seen["loaded"] == 0  # no request or event loaded, so no state derived
    assert '<span class="big-number">6</span> overdue' in page


def test_a_write_to_one_campaign_rebuilds_only_its_rows(app, client, session, late):
    page_text(client, "/")
    page_text(client, "/chase")
    kept = cache_builds(app)

    answer(session, "first", "kent")

    chase = page_text(client, "/chase")
    # The first campaign's rows, the chase list drawn from every campaign's rows and its
    # table: the second campaign's rows are found as they were kept.
    assert cache_builds(app) == kept + 3
    assert link("first", "kent") not in chase and link("second", "kent") in chase
    dashboard = page_text(client, "/")
    assert cache_builds(app) == kept + 3  # the dashboard finds the rows the chase list rebuilt
    card = overdue_card(dashboard)
    assert link("first", "kent") not in card and link("second", "kent") in card
    assert '<span class="big-number">5</span> overdue' in dashboard


def test_the_chase_list_works_out_the_written_campaign_s_part_alone(app, client, session, late,
                                                                     monkeypatch):
    """Each campaign's late rows and reminders are kept with its rows: after a write to one,
    the chase list works out that campaign's part again and merges it with the others'."""
    seen: list[str] = []
    worked_out = request_service.reminders

    def reminders(state, *args, **kwargs):
        seen.append(state.status)
        return worked_out(state, *args, **kwargs)

    monkeypatch.setattr(request_service, "reminders", reminders)
    first = page_text(client, "/chase")
    assert len(seen) == 2 * len(FORCES)
    assert link("first", "kent") in first and link("second", "kent") in first

    answer(session, "first", "kent")
    seen.clear()
    chase = page_text(client, "/chase")
    assert len(seen) == len(FORCES)  # the first campaign's three requests, not the second's
    assert link("first", "kent") not in chase and link("second", "kent") in chase
    assert link("first", "surrey") in chase


def test_the_campaign_page_shares_the_rows_and_shows_the_write(app, client, session, late):
    page_text(client, "/")
    answer(session, "second", "surrey")
    page = page_text(client, "/campaigns/second")
    assert "Surrey Police: Answered" in page  # on the map, at once
    kept = cache_builds(app)
    with counted(app) as seen:
        page_text(client, "/")
    # The dashboard finds the rows the campaign page rebuilt.
    assert cache_builds(app) == kept and seen["loaded"] == 0


def test_a_renamed_campaign_is_listed_under_its_new_title_at_once(app, client, session, late):
    assert "First · " in overdue_card(page_text(client, "/"))
    update_campaign(session, TEST_ACTOR, get_campaign(session, "first"), {"title": "Renamed"})
    session.commit()
    card = overdue_card(page_text(client, "/"))
    assert "Renamed · " in card and "First · " not in card


def test_each_campaigns_version_is_the_one_a_page_of_it_reads(app, session, late):
    ids = list(session.scalars(select(Campaign.id).order_by(Campaign.id)))
    answer(session, "first", "kent")
    with app.test_request_context():
        versions = campaign_rows.versions_of(session, ids)
    assert versions == {i: data_version.of_campaigns(session, [i]) for i in ids}
    assert versions[ids[0]] != versions[ids[1]]


def test_threads_missing_the_same_campaigns_build_them_once(app, late):
    database = app.extensions["foitrack.db"]
    with database.session() as session:
        ids = list(session.scalars(select(Campaign.id)))
    threads, found, failures = 4, [], []
    start = threading.Barrier(threads)

    def ask() -> None:
        try:
            with app.test_request_context(), database.session() as session:
                start.wait()
                found.append(campaign_rows.rows_of(session, ids))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    with counted(app) as seen:
        workers = [threading.Thread(target=ask) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert not failures
    assert cache_builds(app) == len(ids)
    assert seen["loaded"] == 6 + 6  # one build: six requests and their six events
    assert all(rows[i] is found[0][i] for rows in found for i in ids)


def _campaigns(session, first: int, count: int) -> None:
    for n in range(first, first + count):  # one campaign to the 43 forces each
        generate(session, 43 * 3 * 8, seed=n + 1, first=n)
    session.commit()


def _dashboard_counts(app, client) -> tuple[int, int, int, int]:
    """Queries run by a cold and a warm load of the dashboard, what the cold one built, and
    how many requests and events the warm one loaded."""
    app.extensions.pop("foitrack.web.page_cache", None)
    with counted(app) as cold:
        page_text(client, "/")
    built = cache_builds(app)
    with counted(app) as warm:
        page_text(client, "/")
    assert cache_builds(app) == built  # warm: nothing built
    return cold["queries"], warm["queries"], built, warm["loaded"]


def test_the_dashboard_runs_as_many_queries_with_three_times_the_campaigns(app, client, session):
    _campaigns(session, 0, 3)
    sign_in(client, make_user(session).email)
    cold, warm, built, loaded = _dashboard_counts(app, client)
    assert (built, loaded) == (3, 0)

    _campaigns(session, 3, 6)
    assert _dashboard_counts(app, client) == (cold, warm, 9, 0)
    page = page_text(client, "/")
    assert len(re.findall(r'<article class="card campaign-card">', page)) == 9
