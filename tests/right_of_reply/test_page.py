"""The right-of-reply page (issue 20, point 5): forces with figures ticked, each message shown as
it will go, a day to answer by checked, a send through the real mail server in the background,
and a status table per force with what changed since and a link to the figure grid."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from foitrack.models import Job, MessageKind, OutgoingMessage
from foitrack.services import inbound, requests
from foitrack.services import right_of_reply as ror
from foitrack.services.figures import Entry, save_figures
from foitrack.services.mail_templates import template_for
from foitrack.storage import FileStore
from tests.background import run_queued_jobs
from tests.factories import TEST_ACTOR, make_user
from tests.pages import csrf_token, sign_in
from tests.right_of_reply.conftest import ANSWER_BY, SLUG, TODAY

PAGE = f"/campaigns/{SLUG}/right-of-reply"


@pytest.fixture
def researcher(client, session):
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def _id(session, slug: str) -> int:
    return requests.get_request(session, SLUG, slug).id


def _post(client, action: str, ticked: list[int], day: dt.date | None = ANSWER_BY, **extra):
    data = {"csrf_token": csrf_token(client, PAGE), "action": action,
            "authorities": [str(i) for i in ticked], **extra}
    if day is not None:
        data.update({"answer_by-day": str(day.day), "answer_by-month": str(day.month),
                     "answer_by-year": str(day.year)})
    return client.post(PAGE, data=data)


def _messages(session) -> list[OutgoingMessage]:
    return list(session.scalars(select(OutgoingMessage).where(
        OutgoingMessage.kind == MessageKind.right_of_reply)
        .execution_options(populate_existing=True)))


def test_every_force_with_figures_is_ticked_with_its_figures_and_the_first_message_shown(
        session, client, answered, researcher):
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    boxes = re.findall(r'<input type="checkbox" name="authorities" value="(\d+)"[^>]*>', page)
    assert sorted(map(int, boxes)) == sorted([_id(session, "west-mercia"), _id(session, "kent")])
    assert page.count('name="authorities"') == page.count(" checked>") == 2
    mercia = re.search(r'<tr id="force-row-west-mercia">.*?</tr>', page, re.S).group(0)
    assert "Offences of sexual communication with a child recorded, 2018/19, Communication " \
           "method: Instagram: 12" in mercia
    suggested = TODAY + dt.timedelta(days=14)
    (kent,) = ror.drafts(session, answered, [requests.get_request(session, SLUG, "kent")],
                         suggested, TODAY)  # Kent Police comes first by name
    assert f"Subject: {kent.subject}" in page and kent.body in page
    assert "Monday 15 July 2019" in page
    assert 'href="/campaigns/grooming-2019/mail-templates?kind=right_of_reply"' in page


def test_a_forces_preview_shows_its_message_for_the_day_given(session, client, answered,
                                                             researcher):
    later = dt.date(2019, 7, 26)
    mercia = requests.get_request(session, SLUG, "west-mercia")
    response = _post(client, f"preview-{mercia.id}", [_id(session, "kent")], later)
    page = html.unescape(response.get_data(as_text=True))
    (expected,) = ror.drafts(session, answered, [mercia], later, TODAY)
    assert response.status_code == 200 and "Friday 26 July 2019" in expected.body
    assert f"Subject: {expected.subject}" in page and expected.body in page
    assert "The message to West Mercia Police, as it will go" in page
    assert page.count(" checked>") == 1 and _messages(session) == []
    assert session.scalars(select(Job)).all() == []


@pytest.mark.parametrize("day, words", [
    (TODAY, "Answer by: 1 July 2019 is not in the future"),
    (None, "Answer by: give the day the forces are to answer by"),
])
def test_a_day_not_in_the_future_is_refused_naming_the_field_and_nothing_is_sent(
        session, client, answered, researcher, day, words):
    response = _post(client, "send", [_id(session, "kent")], day)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and words in page and 'href="#answer_by-day"' in page
    assert _messages(session) == [] and session.scalars(select(Job)).all() == []


def test_nothing_ticked_is_refused_naming_the_field(session, client, answered, researcher):
    response = _post(client, "send", [])
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Forces: tick at least one force; nothing was sent" in page
    assert 'href="#authorities"' in page and 'id="authorities"' in page
    assert _messages(session) == []


def test_the_ticked_forces_are_sent_through_a_real_mail_server(app, session, client, answered,
                                                               researcher, smtp_server):
    server, port = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
                      MAIL_FROM="research@charity.example")
    kent = requests.get_request(session, SLUG, "kent")
    (expected,) = ror.drafts(session, answered, [kent], ANSWER_BY, TODAY)
    response = _post(client, "send", [kent.id])
    assert response.status_code == 302 and response.location.startswith("/jobs/")
    job_page = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "Sending the right of reply to 1 force: Kent Police." in job_page
    assert _messages(session) == []  # written by the job, in the background
    run_queued_jobs(app)
    assert [m["To"] for m in server.messages] == [kent.authority.foi_email]
    assert server.messages[0]["Subject"] == expected.subject
    assert server.messages[0].get_content().replace("\r\n", "\n").strip() == expected.body.strip()
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    row = re.search(r'<tr id="force-status-kent">.*?</tr>', page, re.S).group(0)
    assert "sent, awaiting" in row and "15 July 2019" in row
    assert "1 of 2 forces with figures sent, 0 replied, 0 overdue" in page


def test_the_status_shows_a_reply_and_a_correction_with_a_link_to_the_grid(
        app, session, client, answered, researcher, tmp_path):
    app.config.update(SMTP_HOST=None, OUTBOX_PATH=str(tmp_path / "outbox"))
    _post(client, "send", [_id(session, "kent"), _id(session, "west-mercia")])
    run_queued_jobs(app)
    session.expire_all()
    kent = requests.get_request(session, SLUG, "kent")
    sent = next(m for m in _messages(session) if m.request_id == kent.id)
    reply = (f"From: {kent.authority.foi_email}\nTo: research@charity.example\n"
             f"Subject: RE: {sent.subject}\nMessage-ID: <kent-ror@kent.example>\n\n"
             "The 2018/19 figure should be 85.\n").encode()
    inbound.import_file(session, TEST_ACTOR, FileStore(tmp_path / "files"), "r.eml", reply, TODAY)
    save_figures(session, TEST_ACTOR, kent, [Entry("offences", "2018-19", None, None, "85")])
    session.commit()
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    row = re.search(r'<tr id="force-status-kent">.*?</tr>', page, re.S).group(0)
    assert ">replied<" in row and "(to the outbox, not emailed)" in row
    assert "Offences of sexual communication with a child recorded, 2018/19: 80 → 85" in row
    assert f'href="/campaigns/{SLUG}/requests/kent/figures"' in row
    mercia = re.search(r'<tr id="force-status-west-mercia">.*?</tr>', page, re.S).group(0)
    assert "sent, awaiting" in mercia and "none" in mercia


def test_a_viewer_may_not_use_the_page(session, client, answered):
    sign_in(client, make_user(session, role="viewer").email)
    assert client.get(PAGE).status_code == 403


def test_the_wording_is_edited_on_the_mail_templates_page(session, client, answered, researcher):
    url = f"/campaigns/{SLUG}/mail-templates?kind=right_of_reply"
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "version": "0", "subject": "Check: {{ subject }}",
        "body": "{{ authority.name }}, by {{ answer_by }}:\n{{ figures }}\n{{ lines }}"})
    assert response.status_code == 302
    session.expire_all()
    answered = requests.get_request(session, SLUG, "kent").campaign
    assert template_for(session, answered, MessageKind.right_of_reply)[0] == "Check: {{ subject }}"
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "Kent Police, by Monday 15 July 2019:" in page


def test_the_page_has_no_duplicate_ids(app, session, client, answered, researcher, tmp_path):
    app.config.update(SMTP_HOST=None, OUTBOX_PATH=str(tmp_path / "outbox"))
    _post(client, "send", [_id(session, "kent")])
    run_queued_jobs(app)
    page = client.get(PAGE).get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
