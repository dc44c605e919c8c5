"""What `foitrack datasette` serves, without a server: the public releases' databases as the
clock moves, their metadata and canned queries, and SQLite refusing to open another file."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from foitrack.cli.datasette_plugin import ReleasesPlugin
from foitrack.services import datasette_site, publishing
from foitrack.services.datasette_site import Catalogue
from tests.factories import TEST_ACTOR
from tests.test_publish import answered_campaign

TODAY = dt.date(2019, 6, 10)
PUBLISHED = dt.datetime(2019, 6, 10, 9, 30, tzinfo=dt.UTC)
EMBARGO = dt.datetime(2019, 9, 19, 23, 1, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def campaign(session):
    made = answered_campaign(session)
    session.commit()
    return made


def publish(app, session, campaign, *, files=True, **options):
    options.setdefault("title", "Online grooming: 2018/19")
    release = publishing.publish(session, TEST_ACTOR, campaign, today=TODAY, now=PUBLISHED,
                                 **options)
    if files:
        publishing.write_files(release, publishing.release_folder(root(app), release))
    session.commit()
    return release


def root(app) -> Path:
    return Path(app.instance_path) / "releases"


def catalogue(app, clock) -> Catalogue:
    return Catalogue(app.extensions["foitrack.db"].sessionmaker, root(app), clock)


def test_a_release_joins_the_catalogue_when_its_embargo_lifts(app, session, campaign):
    publish(app, session, campaign)
    publish(app, session, campaign, note="Kent corrected", embargo_until=EMBARGO)
    clock = Clock(EMBARGO - dt.timedelta(seconds=1))
    shown = catalogue(app, clock)
    added, gone = shown.refresh()
    assert [db.name for db in added] == ["grooming-2019-v1"] and gone == []
    assert shown.refresh() == ([], [])  # nothing new: nothing added again
    clock.now = EMBARGO
    added, gone = shown.refresh()
    assert [db.name for db in added] == ["grooming-2019-v2"] and gone == []
    assert list(shown.databases) == ["grooming-2019-v1", "grooming-2019-v2"]
    assert added[0].path == root(app) / "grooming-2019" / "v2" / "grooming-2019-v2.sqlite"
    clock.now = EMBARGO - dt.timedelta(days=1)  # set back: what is embargoed again goes
    assert shown.refresh() == ([], ["grooming-2019-v2"])
    assert list(shown.databases) == ["grooming-2019-v1"]


def test_a_release_whose_file_is_not_written_yet_is_tried_again(app, session, campaign):
    release = publish(app, session, campaign, files=False)
    shown = catalogue(app, Clock(PUBLISHED))
    assert shown.refresh() == ([], [])
    publishing.write_files(release, publishing.release_folder(root(app), release))
    assert [db.name for db in shown.refresh()[0]] == ["grooming-2019-v1"]


def test_the_metadata_describes_the_release_and_only_the_public_ones(app, session, campaign):
    publish(app, session, campaign)
    publish(app, session, campaign, title="Not yet", note="Kent corrected",
            embargo_until=EMBARGO)
    shown = catalogue(app, Clock(PUBLISHED))
    shown.refresh()
    site = datasette_site.site_metadata("Figures", list(shown.databases.values()))
    assert list(site["databases"]) == ["grooming-2019-v1"]
    described = site["databases"]["grooming-2019-v1"]
    assert {key: described[key] for key in ("title", "license", "license_url", "source")} == {
        "title": "Online grooming: 2018/19", "license": "Open Government Licence v3.0",
        "license_url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/"
                       "version/3/",
        "source": "Freedom of Information requests by foitrack"}
    assert described["description"].startswith(
        "Sexual communication with a child, 2017/18 and 2018/19: figures from Freedom of "
        "Information requests to every authority the campaign asked. Version 1, published "
        "2019-06-10. Cite as: foitrack (2019). Online grooming: 2018/19, version 1")
    assert described["tables"]["requests"]["columns"]["days_taken"].startswith(
        "working days from receipt to the first response")
    assert described["tables"]["authorities"] == {
        "title": "Authorities", "description": "Every authority asked, with its population.",
        "columns": {"code": "ONS code of the authority (or its foitrack slug)",
                    "name": "the authority's name",
                    "population": "the authority's resident population (mid-year estimate) "
                                  "for the release's latest period, when one is held",
                    "population_year": "the mid-year (30 June) of that estimate"}}
    assert described["queries"]["force_figures"]["params"] == ["authority"]
    assert described["queries"]["national_totals"]["title"] == "The national totals"


def test_a_later_version_says_what_changed(app, session, campaign):
    publish(app, session, campaign)
    release = publish(app, session, campaign, note="Kent's figure corrected")
    described = datasette_site.database_metadata(publishing.content_of(release))
    assert "Version 2, published 2019-06-10. What changed: Kent's figure corrected" \
        in described["description"]


def test_sqlite_refuses_to_attach_another_file(app, tmp_path):
    other = tmp_path / "embargoed.sqlite"
    sqlite3.connect(other).close()
    connection = sqlite3.connect(":memory:")
    plugin = ReleasesPlugin(catalogue(app, Clock(PUBLISHED)), "Figures")
    plugin.prepare_connection(connection, "grooming-2019-v1", None)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
        connection.execute("ATTACH DATABASE ? AS e", (str(other),))
    assert connection.execute("select 1").fetchone() == (1,)
