"""The public portal's charts and tile map (foitrack.exporters.public_charts): drawn from a
release's frozen content, they are the app's own charts of the numbers published, and stay so
when the live figures move on."""

from __future__ import annotations

import base64
import datetime as dt
import io

import pytest

from foitrack.exporters import charts, public_charts
from foitrack.services import aggregate, publishing
from foitrack.services.campaigns import authority_kinds
from foitrack.services.figures import import_csv
from tests.factories import TEST_ACTOR, load_forces
from tests.test_charts import fixture_campaign

TODAY = dt.date(2019, 6, 10)
NOW = dt.datetime(2019, 6, 10, 9, 30, tzinfo=dt.UTC)
WEST_MERCIA = "E23000016"


@pytest.fixture
def grooming(session):
    load_forces(session)
    return fixture_campaign(session, "grooming-2019")


@pytest.fixture
def content(session, grooming):
    release = publishing.publish(session, TEST_ACTOR, grooming, title="Online grooming",
                                 today=TODAY, now=NOW)
    session.commit()
    return publishing.content_of(release)


def live_charts(session, campaign):
    design = charts.outline(campaign, authority_kinds(session, campaign))
    return {c.name: c for c in charts.catalogue(design, aggregate.build(session, campaign))}


def test_a_release_s_charts_are_the_aggregate_page_s_charts_at_publication(session, grooming,
                                                                            content):
    live = live_charts(session, grooming)
    frozen = {c.name: c for c in public_charts.release_charts(content)}
    # Every chart, the rates by force too (each force's rate and rank frozen in "rates").
    assert set(frozen) == set(live)
    assert "national-total-offences" in frozen and "force-change-offences" in frozen
    assert "force-rates-offences" in frozen
    for name, chart in frozen.items():
        assert (chart.title, chart.subtitle, chart.alt, chart.rows) == (
            live[name].title, live[name].subtitle, live[name].alt, live[name].rows), name


def test_a_release_before_rates_were_frozen_draws_every_chart_but_the_rates(session, grooming,
                                                                           content):
    older = {**content, "format": 2,
             "tables": [table for table in content["tables"] if table["name"] != "rates"]}
    live = live_charts(session, grooming)
    frozen = {c.name for c in public_charts.release_charts(older)}
    assert frozen == {name for name in live if not name.startswith("force-rates-")}


def test_a_figure_changed_after_publication_leaves_the_release_s_charts_as_published(
        session, grooming, content):
    before = {c.name: c.rows for c in public_charts.release_charts(content)}
    import_csv(session, TEST_ACTOR, grooming, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        + f"{WEST_MERCIA},offences,2018-19,,,9999,,letter\n".encode()))
    session.commit()
    assert live_charts(session, grooming)["national-total-offences"].rows \
        != before["national-total-offences"]
    assert {c.name: c.rows for c in public_charts.release_charts(content)} == before


def test_a_force_s_chart_puts_its_frozen_figure_beside_the_total(session, grooming, content):
    found = public_charts.authority_charts(content, WEST_MERCIA)
    assert [c.name for c in found] == ["offences"]
    plotted = {(row["series"], row["period"]): row["value"] for row in found[0].rows}
    figures = {row["period"]: row["value"] for row in publishing.table_rows(content, "figures")
               if row["authority_code"] == WEST_MERCIA and row["measure"] == "offences"
               and not row["dimension"]}
    assert plotted[("West Mercia Police", "2018/19")] == figures["2018-19"]
    assert public_charts.authority_charts(content, "no-such-code") == []


def test_the_tile_map_colours_each_force_by_its_frozen_figure_and_links_its_page(content):
    links = {row["code"]: f"/force/{row['code']}"
             for row in publishing.table_rows(content, "authorities")}
    drawn = public_charts.force_map(content, links)
    assert drawn is not None and drawn.caption.endswith("2018/19")
    tiles = {t.position.code: t.mark for t in drawn.map.tiles}
    assert tiles[WEST_MERCIA].link == f"/force/{WEST_MERCIA}"
    value = next(row["value"] for row in publishing.table_rows(content, "figures")
                 if row["authority_code"] == WEST_MERCIA and row["measure"] == "offences"
                 and row["period"] == "2018-19" and not row["dimension"])
    assert tiles[WEST_MERCIA].text == f"{value:,}"
    assert tiles[WEST_MERCIA].fill.startswith("seq-")


def test_each_picture_is_an_svg_in_the_page_full_and_narrow(content):
    drawn = public_charts.pictures(public_charts.release_charts(content)[:1])
    prefix = "data:image/svg+xml;base64,"
    assert drawn[0].src.startswith(prefix) and drawn[0].narrow.startswith(prefix)
    full = base64.b64decode(drawn[0].src.removeprefix(prefix))
    narrow = base64.b64decode(drawn[0].narrow.removeprefix(prefix))
    assert full.startswith(b"<svg") and narrow.startswith(b"<svg") and full != narrow
    assert b"<script" not in full
