"""Pages say what codes mean (issue 16, point 8): outcome labels, the design's labels, and the
history's fields by name. The codes stay in CSV and JSON."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from flask import get_template_attribute

from foitrack.services import audit
from foitrack.services.campaigns import campaign_snapshot, get_campaign
from foitrack.services.figures import import_csv
from tests.factories import TEST_ACTOR, load_forces, make_campaign, make_user, respond
from tests.pages import post_new_campaign, sign_in


@pytest.fixture
def researcher(client, session):
    make_campaign(session)
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def words(page: str) -> str:
    """What a person reads: the page's text, without its tags and attributes."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_a_request_page_names_its_outcome(client, researcher, session):
    respond(session, "grooming-2019", "kent", outcome="ncnd", exemptions="s.23")
    text = words(client.get("/campaigns/grooming-2019/requests/kent").get_data(as_text=True))
    assert "Neither confirm nor deny" in text
    assert "ncnd" not in text


def test_the_dashboard_names_outcomes(client, researcher, session):
    respond(session, "grooming-2019", "surrey", outcome="part_provided")
    respond(session, "grooming-2019", "kent", outcome="provided")
    text = words(client.get("/").get_data(as_text=True))
    assert "Part provided" in text and "Provided" in text
    assert "part provided" not in text and "part_provided" not in text
    assert " provided" not in text.replace("Part provided", "")


def _import(session, rows: bytes) -> None:
    import_csv(session, TEST_ACTOR, get_campaign(session, "grooming-2019"), io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n" + rows))
    session.commit()


def test_the_aggregate_table_shows_the_designs_labels(client, researcher, session):
    _import(session, b"E23000016,offences,2018-19,,,1480,,letter\n"
                     b"E23000016,offences,2018-19,platform,Instagram,7,,letter\n")
    page = client.get("/campaigns/grooming-2019/aggregate").get_data(as_text=True)
    table = page[page.index('<table class="table" id="aggregate">'):]
    table = table[:table.index("</table>")]
    assert "<td>Offences of sexual communication with a child recorded</td><td>2018/19</td>" \
        in table
    assert "<td>offences</td>" not in table and "<td>2018-19</td>" not in table
    by_authority = page[page.index('id="by-authority"'):]
    assert "<td>offences</td>" not in by_authority[:by_authority.index("</table>")]


def test_the_drill_down_names_the_measure_period_and_group(client, researcher, session):
    _import(session, b"E23000016,offences,2018-19,platform,Instagram,7,,letter\n")
    page = client.get("/campaigns/grooming-2019/aggregate/cell?measure=offences&period=2018-19"
                      "&dimension=platform&category=facebook-owned").get_data(as_text=True)
    assert ("<p>Offences of sexual communication with a child recorded, 2018/19, "
            "Communication method: Facebook-owned apps.</p>") in page
    assert "facebook-owned" not in words(page)


def test_the_history_names_fields_and_whom_they_point_to(app, session):
    campaign = make_campaign(session)
    owner = make_user(session, role="researcher")
    before = campaign_snapshot(campaign)
    campaign.owner_id = owner.id
    campaign.embargo_until = dt.date(2026, 11, 12)
    audit.record(session, TEST_ACTOR, "campaign", campaign.id, "update",
                 *audit.changed_fields(before, campaign_snapshot(campaign)))
    session.commit()
    with app.test_request_context():
        table = str(get_template_attribute("_macros.html", "history_table")(
            audit.history(session, "campaign", campaign.id)))
    assert "<dt>Owner</dt><dd>\N{EM DASH}</dd>" in table
    assert f"<dt>Owner</dt><dd>{owner.email}</dd>" in table
    assert "<dt>Embargo until</dt><dd>12 Nov 2026</dd>" in table
    for key in ("owner_id", "embargo_until", "None"):
        assert key not in table


def test_field_labels_and_values_without_a_lookup(session):
    assert audit.field_label("target_set_id") == "Set"
    assert audit.field_label("cadence_months") == "Repeated every (months)"
    assert audit.field_label("some_new_field") == "Some new field"
    assert audit.shown_value(session, "outcome", "ncnd") == "Neither confirm nor deny"
    assert audit.shown_value(session, "repeat_of_id", 3) == "changed"  # may be embargoed
    assert audit.shown_value(session, "owner_id", 987654) == "changed"  # since deleted


def test_a_campaigns_status_reads_as_a_word(client, session):
    """'Active', not the stored 'active', on the campaign list and the campaign's page."""
    load_forces(session)
    sign_in(client, make_user(session, role="researcher").email)
    post_new_campaign(client)
    for url in ("/campaigns/", "/campaigns/grooming-2019"):
        text = client.get(url).get_data(as_text=True)
        assert re.search(r">\s*Draft\s*<", text) or re.search(r">\s*Active\s*<", text), url
        assert not re.search(r">\s*(draft|active)\s*<", text), url
