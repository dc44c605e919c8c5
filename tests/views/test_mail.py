"""Correspondence in the browser: confirm then send, the outbox, the triage inbox, files."""

from __future__ import annotations

import io
from email.message import EmailMessage

import pytest

from foitrack.models import JobState
from foitrack.services.design import create_from_file
from tests.background import run_queued_jobs
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.pages import csrf_token, sign_in


@pytest.fixture
def researcher(app, client, session):
    app.config["MAIL_THROTTLE_SECONDS"] = 0
    load_forces(session)
    create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', 'authorities = ["kent", "sussex"]'))
    session.commit()
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def test_sending_shows_who_gets_what_then_writes_to_the_outbox(app, client, researcher):
    url = "/campaigns/grooming-2019/send"
    page = client.get(url).get_data(as_text=True)
    assert "2 messages will go to" in page and "nothing will leave" in page
    assert "Kent Police" in page and "Sussex Police" in page
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "attach": "1"})
    assert response.status_code == 302
    # Answered at once with the job's page, which refreshes itself while the job waits.
    progress = response.location
    page = client.get(progress).get_data(as_text=True)
    assert '<meta http-equiv="refresh"' in page and "waiting to start" in page
    assert page.count('<span class="tag">waiting</span>') == 2
    assert run_queued_jobs(app) == [JobState.done]
    page = client.get(progress).get_data(as_text=True)
    assert '<meta http-equiv="refresh"' not in page
    assert "0 sent, 2 written to the outbox (not sent: no mail server set)." in page
    assert page.count('<span class="tag">in the outbox, not sent</span>') == 2
    outbox = client.get("/mail/outbox").get_data(as_text=True)
    assert outbox.count('<span class="tag">Outbox</span>') == 2
    from pathlib import Path

    assert len(list(Path(app.config["OUTBOX_PATH"]).glob("*.eml"))) == 2
    # Nothing left the building: the requests still count as not sent.
    assert "2 messages will go to" in client.get(url).get_data(as_text=True)


def test_a_reply_uploaded_to_the_inbox_is_filed_by_hand(client, researcher, session):
    message = EmailMessage()
    message["From"], message["Subject"] = "clerk@nowhere.example", "Your figures"
    message["Message-ID"] = "<triage-1@nowhere.example>"
    message.set_content("Attached.")
    message.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf",
                           filename="reply.pdf")
    response = client.post("/mail/inbox", data={
        "csrf_token": csrf_token(client, "/mail/inbox"),
        "file": [(io.BytesIO(bytes(message)), "reply.eml")]}, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get("/mail/inbox").get_data(as_text=True)
    assert "Imported: 0 filed against requests, 1 waiting in the triage inbox" in page
    import re

    message_id = re.search(r'action="/mail/inbox/(\d+)/assign"', page).group(1)
    request_id = re.search(r'<option value="(\d+)">[^<]*Kent Police', page).group(1)
    pdf = re.search(r'href="(/files/[\w-]+)">reply.pdf', page).group(1)
    assert client.get(pdf).data == b"%PDF-1.4 x"
    response = client.post(f"/mail/inbox/{message_id}/assign", data={
        "csrf_token": csrf_token(client, "/mail/inbox"), "request_id": request_id})
    assert "Filed against Kent Police" in client.get(response.location).get_data(as_text=True)
    kent = client.get("/campaigns/grooming-2019/requests/kent").get_data(as_text=True)
    assert "Received from clerk@nowhere.example: Your figures" in kent


def test_a_campaigns_chaser_wording_can_be_changed(client, researcher):
    url = "/campaigns/grooming-2019/mail-templates?kind=chaser"
    assert "Section 10(1)" in client.get(url).get_data(as_text=True)
    bad = client.post(url, data={"csrf_token": csrf_token(client, url), "subject": "Late",
                                 "body": "Dear {{ nobody.name }}", "version": "0"})
    assert bad.status_code == 400 and "&#39;nobody&#39; is undefined" in bad.get_data(as_text=True)
    good = client.post(url, data={"csrf_token": csrf_token(client, url), "subject": "Still waiting",
                                  "body": "{{ salutation }}, {{ days_late }} days late.",
                                  "version": "0"})
    assert good.status_code == 302
    assert "Still waiting" in client.get(url).get_data(as_text=True)
