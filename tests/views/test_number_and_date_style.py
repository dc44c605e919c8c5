"""One style for numbers and dates where people read them (issue 16, point 9): "1,480",
"12 Nov 2026" in tables, and dates typed as Day / Month / Year, never the browser's own picker."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from werkzeug.datastructures import MultiDict

from foitrack.services.campaigns import get_campaign
from foitrack.services.figures import import_csv
from foitrack.web.formatting import long_date, percent, short_date, thousands
from foitrack.web.forms.campaigns import EventForm
from tests.factories import TEST_ACTOR, make_campaign, make_user
from tests.pages import cell_names, csrf_token, sign_in

REQUEST = "/campaigns/grooming-2019/requests/west-mercia"
MEASURE = "Offences of sexual communication with a child recorded"


@pytest.fixture
def researcher(client, session):
    make_campaign(session)
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


@pytest.fixture
def figures(session, researcher):
    import_csv(session, TEST_ACTOR, get_campaign(session, "grooming-2019"), io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,,,1480,,letter\n"))
    session.commit()


def test_the_filters():
    day = dt.date(2026, 11, 12)
    assert short_date(day) == "12 Nov 2026" and long_date(day) == "12 November 2026"
    assert short_date(dt.datetime(2026, 3, 2, 9, 0)) == "2 Mar 2026"
    assert short_date("2026-11-12") == "12 Nov 2026" and short_date(None) == ""
    assert thousands(1480) == "1,480" and thousands("1480") == "1,480"
    assert thousands(None) == "" and thousands("<5") == "<5" and thousands(-1200) == "-1,200"
    assert percent(0.123) == "12.3%" and percent(0.5) == "50.0%" and percent(None) == ""


def test_the_drill_down_writes_thousands(client, figures):
    page = client.get("/campaigns/grooming-2019/aggregate/cell?measure=offences&period=2018-19"
                      ).get_data(as_text=True)
    assert '<td class="numeric">1,480</td>' in page
    assert ">1480<" not in page


def test_the_grid_shows_thousands_and_saves_them_unchanged(client, figures):
    url = f"{REQUEST}/figures"
    page = client.get(url).get_data(as_text=True)
    total = cell_names(page)[f"{MEASURE}, 2018/19, total"]
    assert f'name="{total}" value="1,480"' in page
    assert f'name="base-{total}" value="1480"' in page  # what was saved, to merge against
    # Saved again as shown: nothing changed.
    response = client.post(url, data={"csrf_token": csrf_token(client, url), total: "1,480",
                                      f"base-{total}": "1480"}, follow_redirects=True)
    assert "0 new, 0 changed, 1 unchanged" in response.get_data(as_text=True)


def test_a_cell_left_as_shown_keeps_a_colleagues_change(app, client, figures, session):
    url = f"{REQUEST}/figures"
    total = cell_names(client.get(url).get_data(as_text=True))[f"{MEASURE}, 2018/19, total"]
    colleague = app.test_client()
    sign_in(colleague, make_user(session, role="researcher").email)
    assert colleague.post(url, data={"csrf_token": csrf_token(colleague, url), total: "1490",
                                     f"base-{total}": "1480"}).status_code == 302
    # This page still shows 1,480, untouched: the colleague's 1490 stays, no conflict.
    kept = client.post(url, data={"csrf_token": csrf_token(client, url), total: "1,480",
                                  f"base-{total}": "1480"}, follow_redirects=True)
    assert kept.status_code == 200
    assert "value=\"1,490\"" in kept.get_data(as_text=True)


def test_the_timeline_and_deadlines_write_dates_for_people(client, researcher):
    event = client.post(f"{REQUEST}/events", data={
        "csrf_token": csrf_token(client, REQUEST), "kind": "sent", "occurred_on": "2019-05-01"})
    assert event.status_code == 302
    page = client.get(REQUEST).get_data(as_text=True)
    assert "<strong>1 May 2019</strong>" in page  # the timeline
    assert "Response: <strong>31 May 2019</strong>" in page  # the deadline, in a sentence
    assert "2019-05-01</strong>" not in page
    assert '<td class="nowrap">' in page  # the history's dates do not wrap


def test_date_fields_are_day_month_and_year_boxes(client, researcher):
    page = client.get(REQUEST).get_data(as_text=True)
    assert 'type="date"' not in page
    for part in ("day", "month", "year"):
        assert f'name="occurred_on-{part}"' in page
        assert f'<label class="label" for="occurred_on-{part}">{part.capitalize()}</label>' in page
    assert re.search(r'<fieldset [^>]*>\s*<legend class="label">Date</legend>', page)
    assert 'type="date"' not in client.get("/chase").get_data(as_text=True)
    assert 'name="embargo_until-day"' in client.get("/campaigns/new").get_data(as_text=True)


def test_a_date_typed_as_day_month_and_year_is_recorded(client, researcher):
    response = client.post(f"{REQUEST}/events", data={
        "csrf_token": csrf_token(client, REQUEST), "kind": "sent",
        "occurred_on-day": "2", "occurred_on-month": "5", "occurred_on-year": "2019"})
    assert response.status_code == 302
    assert "<strong>2 May 2019</strong>" in client.get(REQUEST).get_data(as_text=True)


def test_a_date_that_is_not_real_says_so_and_keeps_what_was_typed(client, researcher):
    response = client.post(f"{REQUEST}/events", data={
        "csrf_token": csrf_token(client, REQUEST), "kind": "sent",
        "occurred_on-day": "31", "occurred_on-month": "2", "occurred_on-year": "2019"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Date must be a real date, e.g. 27 3 2026" in page
    assert "Date: Date must" not in page  # the summary names the field once
    assert "This field is required" not in page
    assert 'name="occurred_on-day" type="text" inputmode="numeric" value="31"' in page


def _form(app, **data):
    with app.test_request_context(method="POST", data=MultiDict(data)):
        form = EventForm(meta={"csrf": False})
        form.kind.data = "note"
        form.occurred_on.validate(form)
        return form.occurred_on


def test_the_date_field_reads_parts_or_iso(app):
    assert _form(app, **{"occurred_on-day": "07", "occurred_on-month": "3",
                         "occurred_on-year": "2026"}).data == dt.date(2026, 3, 7)
    assert _form(app, occurred_on="2026-01-02").data == dt.date(2026, 1, 2)
    missing = _form(app, **{"occurred_on-day": "7", "occurred_on-year": "2026"})
    assert missing.errors == ["Date must include a month"]
    short = _form(app, **{"occurred_on-day": "7", "occurred_on-month": "3",
                          "occurred_on-year": "26"})
    assert short.errors == ["Date must have a year of 4 numbers, e.g. 2026"]
    assert _form(app, occurred_on="02/01/2026").errors == [
        "Date must be a real date, e.g. 27 3 2026"]
    assert _form(app).errors == ["This field is required."]
