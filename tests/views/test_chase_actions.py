"""Chasing from the browser (issue 16, points 4 and 5): the campaign's chase page shows each
chaser as it will go and chases only the ticked requests; the chase list groups its rows by
campaign, shows each force's FOI address, filters and sorts, and acts on the ticked rows."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest
from sqlalchemy import select

from foitrack.exporters.chase import COLUMNS
from foitrack.models import Event, Job, MessageKind, OutgoingMessage
from foitrack.services import audit, mail, requests
from foitrack.services.design import create_from_file
from tests.background import run_queued_jobs
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, design_for, load_forces, make_user
from tests.mail.conftest import smtp_server  # noqa: F401 - the real SMTP server, as a fixture
from tests.pages import csrf_token, sign_in

LATE = dt.date(2019, 6, 10)  # the day the pages are read on
GROOMING = "grooming-2019"
GROOMING_TITLE = "Sexual communication with a child, 2017/18 and 2018/19"
KNIVES = "knives-2019"
KNIVES_TITLE = "Knife crime, 2018/19"
CONFIRM = f"/campaigns/{GROOMING}/chase"


def _sent(session, slug: str, authority: str, on: str) -> None:
    found = requests.get_request(session, slug, authority)
    requests.add_event(session, TEST_ACTOR, found, "sent", dt.date.fromisoformat(on),
                       today=dt.date.fromisoformat(on))


@pytest.fixture
def two_late(app, session):
    """grooming-2019 to Kent and Sussex, both sent on 1 May 2019 and overdue on LATE."""
    app.config.update(MAIL_THROTTLE_SECONDS=0, TODAY=LATE)
    load_forces(session)
    create_from_file(session, TEST_ACTOR, design_for(["kent", "sussex"]))
    for authority in ("kent", "sussex"):
        _sent(session, GROOMING, authority, "2019-05-01")
    session.commit()


@pytest.fixture
def two_campaigns(app, session):
    """grooming-2019: Kent overdue, Sussex very overdue, Surrey due soon; knives-2019: Kent and
    Essex overdue (Kent the later of the two)."""
    app.config.update(MAIL_THROTTLE_SECONDS=0, TODAY=LATE)
    load_forces(session)
    create_from_file(session, TEST_ACTOR, design_for(["kent", "sussex", "surrey"]))
    create_from_file(session, TEST_ACTOR, design_for(["kent", "essex"], slug=KNIVES).replace(
        f'title = "{GROOMING_TITLE}"', f'title = "{KNIVES_TITLE}"'))
    for slug, authority, on in [(GROOMING, "kent", "2019-05-01"), (GROOMING, "sussex", "2019-04-01"),
                                (GROOMING, "surrey", "2019-05-13"), (KNIVES, "kent", "2019-04-24"),
                                (KNIVES, "essex", "2019-05-01")]:
        _sent(session, slug, authority, on)
    session.commit()


@pytest.fixture
def researcher(client, session):
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def _id(session, slug: str, authority: str) -> int:
    return requests.get_request(session, slug, authority).id


def _events(session, kind: str) -> list[Event]:
    return [e for e in session.scalars(select(Event).execution_options(populate_existing=True))
            if e.kind.value == kind and e.removed_at is None]


def _chasers(session) -> list[OutgoingMessage]:
    return list(session.scalars(select(OutgoingMessage).where(
        OutgoingMessage.kind == MessageKind.chaser).execution_options(populate_existing=True)))


# ---- point 4: the campaign's chase page ------------------------------------------------------

def test_the_chase_page_shows_each_chaser_as_it_will_be_sent(app, client, session, two_late,
                                                            researcher):
    page = html.unescape(client.get(CONFIRM).get_data(as_text=True))
    for authority in ("kent", "sussex"):
        found = requests.get_request(session, GROOMING, authority)
        subject, body = mail.compose(session, found, MessageKind.chaser, LATE,
                                     app.config["CLOCK"])
        assert f"Subject: {subject}" in page
        assert body in page and "now 6 working days late" in body


def test_every_request_is_ticked_at_first(client, session, two_late, researcher):
    page = client.get(CONFIRM).get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox" name="requests" value="(\d+)"[^>]*>', page)
    assert sorted(map(int, boxes)) == sorted([_id(session, GROOMING, "kent"),
                                              _id(session, GROOMING, "sussex")])
    assert page.count('name="requests"') == page.count(" checked>") == 2


def test_only_the_ticked_requests_are_chased(app, client, session, two_late, researcher):
    kent = _id(session, GROOMING, "kent")
    response = client.post(CONFIRM, data={"csrf_token": csrf_token(client, CONFIRM),
                                          "requests": [str(kent)]})
    assert response.status_code == 302 and response.location.startswith("/jobs/")
    job_page = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "Chasing 1 request: Kent Police." in job_page
    run_queued_jobs(app)
    assert [m.request_id for m in _chasers(session)] == [kent]
    assert [e.request_id for e in _events(session, "chaser_sent")] == [kent]
    # Sussex, left unticked, is offered again; Kent, just chased, is not.
    again = client.get(CONFIRM).get_data(as_text=True)
    assert "Sussex Police" in again and re.findall(r'name="requests" value="(\d+)"', again) == \
        [str(_id(session, GROOMING, "sussex"))]


def test_nothing_ticked_is_refused_naming_the_field_and_sends_nothing(client, session, two_late,
                                                                      researcher):
    response = client.post(CONFIRM, data={"csrf_token": csrf_token(client, CONFIRM)})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Requests to chase: tick at least one request to chase; nothing was sent" in page
    assert 'href="#requests"' in page and 'id="requests"' in page
    assert _chasers(session) == [] and session.scalars(select(Job)).all() == []
    # Shown again as it was posted: nothing ticked.
    assert " checked>" not in page


def test_the_page_names_the_mail_server_or_warns_that_nothing_will_leave(app, client, two_late,
                                                                       researcher):
    app.config.update(SMTP_HOST="smtp.charity.example", MAIL_FROM="research@charity.example")
    page = client.get(CONFIRM).get_data(as_text=True)
    assert "Chasers go through <strong>smtp.charity.example</strong> from " \
           "<strong>research@charity.example</strong>" in page
    assert "nothing will leave" not in page
    app.config.update(SMTP_HOST=None)
    page = client.get(CONFIRM).get_data(as_text=True)
    assert "No mail server is set (FOITRACK_SMTP_HOST)" in page and "nothing will leave" in page


def test_afterwards_the_page_says_who_was_chased_and_who_was_not_and_why(client, session,
                                                                         two_late, researcher):
    token = csrf_token(client, CONFIRM)  # the page drawn with both to chase...
    sussex = requests.get_request(session, GROOMING, "sussex")
    requests.add_event(session, TEST_ACTOR, sussex, "response", LATE, today=LATE,
                       outcome="provided")  # ...and Sussex answers before it is confirmed
    session.commit()
    response = client.post(CONFIRM, data={"csrf_token": token, "requests": [
        str(_id(session, GROOMING, "kent")), str(sussex.id)]}, follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert "Chasing 1 request: Kent Police. Not chased: Sussex Police (grooming-2019): " \
           "not late now." in page
    assert [m.request.authority.slug for m in _chasers(session)] == ["kent"]


def test_the_ticked_chasers_go_through_a_real_mail_server(app, client, session, two_late,
                                                          researcher, smtp_server):  # noqa: F811
    server, port = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
                      MAIL_FROM="research@charity.example")
    sussex = requests.get_request(session, GROOMING, "sussex")
    subject, body = mail.compose(session, sussex, MessageKind.chaser, LATE, app.config["CLOCK"])
    response = client.post(CONFIRM, data={"csrf_token": csrf_token(client, CONFIRM),
                                          "requests": [str(sussex.id)]})
    run_queued_jobs(app)
    assert [m["To"] for m in server.messages] == ["foi@sussex.pnn.police.uk"]
    assert server.messages[0]["Subject"] == subject
    assert server.messages[0].get_content().replace("\r\n", "\n").strip() == body.strip()
    progress = client.get(response.location).get_data(as_text=True)
    assert '<dd id="job-sent">1</dd>' in progress


# ---- point 5: the chase list ------------------------------------------------------------------

def _table(page: str) -> str:
    return page.split('<table class="table" id="chase">', 1)[1].split("</table>", 1)[0]


def _groups(page: str) -> list[tuple[str, list[str]]]:
    """Each group's campaign title and its authorities, in the order shown."""
    found: list[tuple[str, list[str]]] = []
    for part in re.split(r'<th scope="colgroup"[^>]*>', _table(page))[1:]:
        title = re.match(r'<a href="[^"]+">([^<]+)</a>', part).group(1)
        found.append((html.unescape(title), re.findall(r'">([^<]+)</a></td>', part)))
    return found


def test_the_rows_are_grouped_under_their_campaigns_title_once(client, two_campaigns,
                                                              researcher):
    table = html.unescape(_table(client.get("/chase").get_data(as_text=True)))
    # Once, as its group's heading; in no cell of its rows.
    assert table.count(f">{GROOMING_TITLE}</a></th>") == 1
    assert f"<td>{GROOMING_TITLE}</td>" not in table and ">Campaign</th>" not in table
    assert _groups(client.get("/chase").get_data(as_text=True)) == [
        (GROOMING_TITLE, ["Sussex Police", "Kent Police"]),
        (KNIVES_TITLE, ["Kent Police", "Essex Police"])]


def test_each_forces_foi_address_is_shown(client, two_campaigns, researcher):
    table = _table(client.get("/chase").get_data(as_text=True))
    assert "<td>freedomofinformation@kent.police.uk</td>" in table
    assert "<td>info.rights.freedom@essex.police.uk</td>" in table


def test_dates_are_short_and_do_not_wrap(client, two_campaigns, researcher):
    table = _table(client.get("/chase").get_data(as_text=True))
    # Kent's grooming request, sent on 1 May, was due on 31 May.
    assert '<time datetime="2019-05-31">31&nbsp;May&nbsp;2019</time>' in table
    assert not re.search(r">\d{4}-\d\d-\d\d<", table)


def test_a_researcher_ticks_rows_and_a_viewer_sees_no_boxes(app, client, session, two_campaigns,
                                                           researcher):
    page = client.get("/chase").get_data(as_text=True)
    ticks = re.findall(r'name="requests" value="(\d+)"', page)
    assert sorted(map(int, ticks)) == sorted(
        _id(session, slug, authority) for slug, authority in
        [(GROOMING, "kent"), (GROOMING, "sussex"), (KNIVES, "kent"), (KNIVES, "essex")])
    assert 'value="email"' in page and 'value="chaser_sent"' in page and 'value="response"' in page
    viewer = app.test_client()
    sign_in(viewer, make_user(session, role="viewer").email)
    seen = viewer.get("/chase").get_data(as_text=True)
    assert 'name="requests"' not in seen and 'value="email"' not in seen
    assert "Sussex Police" in seen


def test_the_list_filters_by_how_late(client, two_campaigns, researcher):
    very = client.get("/chase?lateness=very_overdue").get_data(as_text=True)
    assert _groups(very) == [(GROOMING_TITLE, ["Sussex Police"])]
    soon = client.get("/chase?lateness=due_soon").get_data(as_text=True)
    assert _groups(soon) == [(GROOMING_TITLE, ["Surrey Police"])]
    overdue = client.get(f"/chase?lateness=overdue&campaign={KNIVES}").get_data(as_text=True)
    assert _groups(overdue) == [(KNIVES_TITLE, ["Kent Police", "Essex Police"])]
    wrong = client.get("/chase?lateness=later")
    assert wrong.status_code == 400
    assert "lateness: &#39;later&#39; is not a tier" in wrong.get_data(as_text=True)


def test_the_list_filters_out_requests_chased_lately(client, session, two_campaigns, researcher):
    kent = requests.get_request(session, GROOMING, "kent")
    requests.add_event(session, TEST_ACTOR, kent, "chaser_sent", dt.date(2019, 6, 7), today=LATE)
    session.commit()
    quiet = _groups(client.get(f"/chase?quiet=5&campaign={GROOMING}").get_data(as_text=True))
    assert quiet == [(GROOMING_TITLE, ["Sussex Police"])]
    every = _groups(client.get(f"/chase?quiet=3&campaign={GROOMING}").get_data(as_text=True))
    assert every == [(GROOMING_TITLE, ["Sussex Police", "Kent Police"])]
    assert client.get("/chase?quiet=soon").status_code == 400


def test_the_list_sorts_by_days_late_authority_or_campaign(client, two_campaigns, researcher):
    def shown(sort: str) -> list[tuple[str, list[str]]]:
        return _groups(client.get(f"/chase?sort={sort}").get_data(as_text=True))

    # Most late first: grooming (Sussex, the latest of all) then knives.
    assert shown("late") == [(GROOMING_TITLE, ["Sussex Police", "Kent Police"]),
                             (KNIVES_TITLE, ["Kent Police", "Essex Police"])]
    # Campaigns by title ("Knife..." before "Sexual..."), each most late first.
    assert shown("campaign") == [(KNIVES_TITLE, ["Kent Police", "Essex Police"]),
                                 (GROOMING_TITLE, ["Sussex Police", "Kent Police"])]
    assert shown("authority") == [(KNIVES_TITLE, ["Essex Police", "Kent Police"]),
                                  (GROOMING_TITLE, ["Kent Police", "Sussex Police"])]
    assert client.get("/chase?sort=size").status_code == 400


def test_the_csv_keeps_its_columns_and_follows_the_filters(client, two_campaigns, researcher):
    rows = list(csv.reader(io.StringIO(
        client.get("/chase.csv?lateness=very_overdue").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == list(COLUMNS) == [
        "authority", "code", "campaign", "due", "working_days_late", "lateness", "last_chased",
        "reference", "status"]
    assert [(r[0], r[2], r[5]) for r in rows[1:]] == [("Sussex Police", GROOMING, "very_overdue")]


def _act(client, action: str, ticked: list[int], **fields):
    return client.post("/chase/actions", data={
        "csrf_token": csrf_token(client, "/chase"), "action": action,
        "requests": [str(i) for i in ticked], "back": f"/chase?campaign={GROOMING}", **fields})


def test_the_ticked_rows_are_emailed_a_chaser_through_the_chase_service(app, client, session,
                                                                        two_campaigns, researcher):
    ticked = [_id(session, GROOMING, "kent"), _id(session, KNIVES, "essex")]
    response = _act(client, "email", ticked)
    assert response.status_code == 302 and response.location.startswith("/jobs/")
    page = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "Chasing 2 requests: Kent Police (grooming-2019), Essex Police (knives-2019)." in page
    run_queued_jobs(app)
    assert sorted(m.request_id for m in _chasers(session)) == sorted(ticked)
    assert sorted(e.request_id for e in _events(session, "chaser_sent")) == sorted(ticked)


def test_a_chaser_sent_by_hand_is_recorded_for_the_ticked_rows(client, session, two_campaigns,
                                                              researcher):
    ticked = [_id(session, GROOMING, "kent"), _id(session, KNIVES, "kent")]
    response = _act(client, "chaser_sent", ticked, occurred_on="2019-06-07", note="by phone")
    assert response.status_code == 302 and response.location == f"/chase?campaign={GROOMING}"
    page = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "Recorded chaser sent on 7 June 2019 for 2 requests" in page
    recorded = _events(session, "chaser_sent")
    assert sorted(e.request_id for e in recorded) == sorted(ticked)
    assert {e.note for e in recorded} == {"by phone"}
    # Each through the event service: on the audit trail, by the researcher.
    for event in recorded:
        assert [(entry.action, entry.actor) for entry in audit.history(session, "event", event.id)] \
            == [("create", researcher.email)]
    assert '<time datetime="2019-06-07">7\xa0Jun\xa02019</time>' in page  # last chased
    history = client.get(f"/campaigns/{GROOMING}/requests/kent").get_data(as_text=True)
    assert "by phone" in history


def test_a_response_is_recorded_for_the_ticked_rows_with_its_outcome(client, session,
                                                                    two_campaigns, researcher):
    ticked = [_id(session, GROOMING, "sussex"), _id(session, KNIVES, "essex")]
    refused = _act(client, "response", ticked, occurred_on="2019-06-10")
    assert refused.status_code == 302
    page = html.unescape(client.get(refused.location).get_data(as_text=True))
    assert "Nothing was recorded. Outcome: is required for a response" in page
    assert _events(session, "response") == []
    response = _act(client, "response", ticked, occurred_on="2019-06-10", outcome="part_provided")
    page = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "Recorded response received on 10 June 2019 for 2 requests" in page
    assert {(e.request_id, e.outcome) for e in _events(session, "response")} == \
        {(ticked[0], "part_provided"), (ticked[1], "part_provided")}
    assert [name for _, names in _groups(client.get("/chase").get_data(as_text=True))
            for name in names] == ["Kent Police", "Kent Police"]


def test_nothing_ticked_on_the_list_is_refused_naming_the_field(client, session, two_campaigns,
                                                               researcher):
    for action in ("email", "chaser_sent"):
        response = _act(client, action, [], occurred_on="2019-06-10")
        assert response.status_code == 302
        page = html.unescape(client.get(response.location).get_data(as_text=True))
        assert "Nothing was done. Requests: tick at least one request; nothing was done" in page
    assert _chasers(session) == [] and _events(session, "chaser_sent") == []
    assert session.scalars(select(Job)).all() == []


def test_a_request_one_may_not_see_is_not_acted_on(client, session, two_campaigns, researcher):
    hidden = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'slug = "grooming-2019"', 'slug = "hidden-2019"').replace(
        'authorities = "england-wales"', 'authorities = ["kent"]'))
    hidden.embargo_until = dt.date(2030, 1, 1)
    _sent(session, "hidden-2019", "kent", "2019-05-01")
    session.commit()
    response = _act(client, "chaser_sent", [_id(session, "hidden-2019", "kent")],
                    occurred_on="2019-06-10")
    assert response.status_code == 302
    page = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "Nothing was done. Requests: tick at least one request" in page
    assert _events(session, "chaser_sent") == []


def test_a_viewer_may_not_act_on_the_list(app, session, two_campaigns):
    viewer = app.test_client()
    sign_in(viewer, make_user(session, role="viewer").email)
    response = _act(viewer, "chaser_sent", [_id(session, GROOMING, "kent")],
                    occurred_on="2019-06-10")
    assert response.status_code == 403
    assert _events(session, "chaser_sent") == []
