"""A write to one campaign leaves every other campaign's kept pages valid, and shows on its own
pages at once (issue 22, point 2)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from foitrack.models import Authority
from foitrack.services import authorities, data_version, requests
from foitrack.services.campaigns import get_campaign
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.pages import cache_builds, page_text, sign_in

pytestmark = pytest.mark.postgres

HEADER = b"authority,measure,period,dimension,category,value,caveat,source\n"


@pytest.fixture
def two(client, session):
    """Campaigns "first" and "second", each with West Mercia's 2018-19 total; signed in."""
    load_forces(session)
    for slug, value in (("first", b"122"), ("second", b"73")):
        campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
            'slug = "grooming-2019"', f'slug = "{slug}"'))
        import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
            HEADER + b"E23000016,offences,2018-19,,," + value + b",,\n"))
    session.commit()
    sign_in(client, make_user(session, role="researcher").email)


def write_figure(session, slug: str, value: str) -> None:
    import_csv(session, TEST_ACTOR, get_campaign(session, slug), io.BytesIO(
        HEADER + f"E23000016,offences,2018-19,,,{value},,\n".encode()))
    session.commit()


PAGES = ["/campaigns/{}/aggregate", "/campaigns/{}/charts/national-total-offences.svg",
         "/campaigns/{}/release", "/campaigns/{}"]


def test_a_write_to_one_campaign_leaves_the_others_pages_kept(app, client, session, two):
    for page in PAGES:
        page_text(client, page.format("second"))
    kept = cache_builds(app)
    for page in PAGES:
        page_text(client, page.format("second"))
    assert cache_builds(app) == kept  # warm: nothing built again

    write_figure(session, "first", "150")

    for page in PAGES:
        page_text(client, page.format("second"))
    assert cache_builds(app) == kept  # the write to "first" rebuilt nothing of "second"
    assert ">73</a>" in page_text(client, "/campaigns/second/aggregate")


def test_the_written_campaign_shows_the_write_on_the_next_load(app, client, session, two):
    assert ">122</a>" in page_text(client, "/campaigns/first/aggregate")
    write_figure(session, "first", "150")
    page = page_text(client, "/campaigns/first/aggregate")
    assert ">150</a>" in page and ">122</a>" not in page
    assert "150" in page_text(client, "/campaigns/first/charts/national-total-offences.svg")


def test_a_change_to_the_registry_rebuilds_every_campaign(app, client, session, two):
    # Authority names are on every campaign's pages: renaming one must show everywhere.
    assert "West Mercia Police" in page_text(client, "/campaigns/second/aggregate")
    authority = session.scalars(select(Authority).where(Authority.slug == "west-mercia")).one()
    authorities.update_authority(session, TEST_ACTOR, authority, {"name": "West Mercia Constabulary"})
    session.commit()
    assert "West Mercia Constabulary" in page_text(client, "/campaigns/second/aggregate")


def test_a_sign_in_leaves_the_campaign_pages_kept(app, client, session, two):
    page_text(client, "/campaigns/second/aggregate")
    kept = cache_builds(app)
    other = app.test_client()
    sign_in(other, make_user(session, role="viewer").email)  # an audited change to accounts
    assert data_version.of_scopes(session, [data_version.ACCOUNTS])[0][0] == "accounts"
    page_text(client, "/campaigns/second/aggregate")
    assert cache_builds(app) == kept


def test_the_campaign_list_works_out_only_the_written_campaign_again(app, client, session, two):
    page_text(client, "/campaigns/")
    kept = cache_builds(app)
    page_text(client, "/campaigns/")
    assert cache_builds(app) == kept  # warm: every campaign's progress kept
    request = requests.get_request(session, "first", "west-mercia")
    requests.add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 4, 1),
                       today=dt.date(2019, 4, 2))
    session.commit()
    page = page_text(client, "/campaigns/")
    assert cache_builds(app) == kept + 1  # the first campaign's rows, not the second's
    row = page.split('href="/campaigns/first"', 1)[1].split("</tr>", 1)[0]
    # 43 requests, 1 sent: the event shows at once.
    assert re.search(r'<td class="numeric">43</td>\s*<td class="numeric">1</td>', row)


def test_the_checks_page_is_worked_out_again_only_after_its_own_campaign_changes(
        app, client, session, two, monkeypatch):
    from foitrack.services import checks

    worked_out = []
    real = checks.findings
    monkeypatch.setattr(checks, "findings", lambda *args, **kwargs: worked_out.append(
        args[1].slug) or real(*args, **kwargs))
    page_text(client, "/campaigns/second/checks/")
    page_text(client, "/campaigns/second/checks/")
    assert worked_out == ["second"]  # warm: kept
    write_figure(session, "first", "150")
    page_text(client, "/campaigns/second/checks/")
    assert worked_out == ["second"]  # a write elsewhere leaves it
    write_figure(session, "second", "80")
    page_text(client, "/campaigns/second/checks/")
    assert worked_out == ["second", "second"]  # its own write: worked out again


@pytest.mark.parametrize(("function", "page", "shows"), [
    # The national release withholds its total at 1 force of 43 (below the coverage threshold).
    ("national_release", "/campaigns/{}/release", "1 of the 43"),
    ("fact_sheet", "/campaigns/{}/fact-sheets/west-mercia", "80"),
])
def test_the_release_and_fact_sheets_are_worded_again_only_after_their_campaign_changes(
        app, client, session, two, monkeypatch, function, page, shows):
    from foitrack.services import release

    worded = []
    real = getattr(release, function)
    monkeypatch.setattr(release, function, lambda *args, **kwargs: worded.append(
        args[1].slug) or real(*args, **kwargs))
    page_text(client, page.format("second"))
    page_text(client, page.format("second"))
    assert worded == ["second"]  # warm: kept
    write_figure(session, "first", "150")
    page_text(client, page.format("second"))
    assert worded == ["second"]  # a write elsewhere leaves it
    write_figure(session, "second", "80")
    assert shows in page_text(client, page.format("second"))
    assert worded == ["second", "second"]  # its own write: worded again, showing it


def test_made_up_map_arguments_find_the_map_already_kept(app, client, session, two):
    # Unknown map choices fall back as the map does: they must not each keep a copy of it.
    page_text(client, "/campaigns/second/aggregate")
    kept = cache_builds(app)
    for n in range(5):
        page_text(client, f"/campaigns/second/aggregate?map_measure=nothing-{n}&map_show=x{n}")
    assert cache_builds(app) == kept
