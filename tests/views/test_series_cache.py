"""The series page and its charts are kept until a campaign of the series changes: a write to a
campaign outside it leaves them, a write inside shows on the next load (issue 22)."""

from __future__ import annotations

import io

import pytest

from foitrack.services import series as service
from foitrack.services.campaigns import get_campaign
from foitrack.services.figures import import_csv
from tests.factories import TEST_ACTOR, make_campaign, make_fixture_campaign, make_user
from tests.pages import cache_builds, page_text, sign_in

pytestmark = pytest.mark.postgres

PAGE = "/series/series"
HEADER = b"authority,measure,period,dimension,category,value,caveat,source\n"


@pytest.fixture
def signed_in(app, client, session):
    """series-2019 to -2021 in the series "series", grooming-2019 outside it; signed in."""
    campaigns = [make_fixture_campaign(session, f"series-{year}") for year in (2019, 2020, 2021)]
    for source, repeat in zip(campaigns, campaigns[1:], strict=False):
        service.attach_repeat(session, source, repeat)
    make_campaign(session)  # grooming-2019, in no series
    session.commit()
    sign_in(client, make_user(session, role="researcher").email)
    return client


def write(session, slug: str, line: bytes) -> None:
    import_csv(session, TEST_ACTOR, get_campaign(session, slug), io.BytesIO(HEADER + line))
    session.commit()


def chart_paths(page: str) -> list[str]:
    return sorted({part.split('"', 1)[0].replace("&amp;", "&")
                   for part in page.split('src="')[1:] if "/charts/" in part.split('"', 1)[0]})


def test_a_warm_series_page_builds_nothing(app, signed_in, monkeypatch):
    tables = []
    real = service.series_table
    monkeypatch.setattr(service, "series_table",
                        lambda *args, **kwargs: tables.append(args) or real(*args, **kwargs))
    page = page_text(signed_in, PAGE)
    for path in chart_paths(page):
        page_text(signed_in, path)
    kept, built = cache_builds(app), len(tables)
    page = page_text(signed_in, PAGE)
    for path in chart_paths(page):
        page_text(signed_in, path)
    assert chart_paths(page) and built == 1
    assert cache_builds(app) == kept and len(tables) == built  # the table worked out once


def test_a_write_outside_the_series_leaves_it_kept(app, session, signed_in):
    page_text(signed_in, PAGE)
    kept = cache_builds(app)
    write(session, "grooming-2019", b"E23000016,offences,2018-19,,,122,,\n")
    page_text(signed_in, PAGE)
    assert cache_builds(app) == kept


def test_a_write_inside_the_series_shows_on_the_next_load(app, session, signed_in):
    assert ">100<" in page_text(signed_in, PAGE).replace(" ", "")  # West Mercia, 2020/21
    write(session, "series-2021", b"E23000016,offences,2020-21,,,135,,\n")
    page = page_text(signed_in, PAGE).replace(" ", "")
    assert ">135<" in page and ">100<" not in page
