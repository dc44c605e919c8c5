"""What is kept under data versions is read after them: a campaign loaded before the versions
(as every page loads it first) is read again when its aggregate is built, so a rename committed
in between is not kept under the newer versions (issue 22)."""

from __future__ import annotations

import io

import pytest

from foitrack.models import Campaign
from foitrack.services import campaigns, page_data
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.web.page_cache import PageCache
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces

pytestmark = pytest.mark.postgres

HEADER = b"authority,measure,period,dimension,category,value,caveat,source\n"


def test_a_rename_between_loading_the_campaign_and_reading_the_versions_is_not_kept(app, session):
    load_forces(session)
    made = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN)
    import_csv(session, TEST_ACTOR, made, io.BytesIO(HEADER + b"E23000032,offences,2018-19,,,1234,,\n"))
    session.commit()
    db = app.extensions["foitrack.db"]
    cache = PageCache()
    with db.session() as reader:
        campaign = reader.get(Campaign, made.id)  # the page's campaign_or_404
        with db.session() as writer:  # someone renames it meanwhile, and commits
            campaigns.update_campaign(writer, TEST_ACTOR, writer.get(Campaign, made.id),
                                      {"title": "Renamed"})
            writer.commit()
        page_data.built(reader, cache, campaign)  # the versions read now are the new ones
        reader.rollback()
    with db.session() as later:  # the next reader, with no write since
        found = page_data.built(later, cache, later.get(Campaign, made.id))
        assert "Renamed" in repr([chart.spec for chart in found.charts])
