"""Jobs in the browser: a chase run recorded where it wrote, messages to check by hand, cancelling,
and a hidden campaign's jobs hidden too (issue 21, points 4-6)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from foitrack.models import DeliveryStatus, Event, Job, JobKind, JobState, OutgoingMessage
from foitrack.services import api_tokens, jobs, mail, requests
from foitrack.services.design import create_from_file
from tests.background import run_queued_jobs
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.pages import csrf_token, sign_in

SENT = dt.date(2019, 5, 1)
LATE = dt.date(2019, 6, 10)  # every request sent on SENT is overdue


@pytest.fixture
def campaign(app, session):
    app.config.update(MAIL_THROTTLE_SECONDS=0, TODAY=LATE)
    load_forces(session)
    found = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', 'authorities = ["kent", "sussex"]'))
    for request in requests.campaign_requests(session, found):
        requests.add_event(session, TEST_ACTOR, request, "sent", SENT, today=SENT)
    session.commit()
    return found


@pytest.fixture
def researcher(client, session):
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def _events(session, kind: str) -> list[Event]:
    return [e for e in session.scalars(select(Event).execution_options(populate_existing=True))
            if e.kind.value == kind and e.removed_at is None]


def test_a_chase_run_to_the_outbox_is_recorded_and_not_offered_again(app, client, session,
                                                                     campaign, researcher):
    url = "/campaigns/grooming-2019/chase"
    page = client.get(url).get_data(as_text=True)
    assert "Send 2 chasers" in page and "nothing will leave" in page
    # Every request is ticked on the page; the post sends the ticks as a browser would.
    ticked = re.findall(r'name="requests" value="(\d+)"[^>]* checked>', page)
    assert len(ticked) == 2
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "requests": ticked})
    assert response.status_code == 302 and response.location.startswith("/jobs/")
    assert run_queued_jobs(app) == [JobState.done]
    progress = client.get(response.location).get_data(as_text=True)
    assert "0 sent, 2 written to the outbox (not sent: no mail server set)." in progress
    chasers = _events(session, "chaser_sent")
    assert len(chasers) == 2
    assert all(e.note.startswith("written to the outbox, not emailed") for e in chasers)
    # Each timeline says it was chased today, so the next run has nobody to chase.
    again = client.get(url).get_data(as_text=True)
    assert "No request needs chasing now." in again
    assert f"chased on {LATE.isoformat()}" in again


def test_a_message_left_sending_is_checked_by_hand_from_the_outbox(app, client, session,
                                                                   researcher):
    app.config.update(TODAY=LATE)
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', 'authorities = ["kent", "sussex"]'))
    job = jobs.send_campaign(session, TEST_ACTOR, campaign,
                             requests.campaign_requests(session, campaign),
                             mail.settings_from(app.config), LATE)
    kent, sussex = jobs.messages_of(session, job)
    handed = dt.datetime(2019, 6, 7, 9, 0, tzinfo=dt.UTC)
    for message in (kent, sussex):
        message.status, message.handed_over_at = DeliveryStatus.sending, handed
    job.state = JobState.done  # the worker died with both in the mail server's hands
    session.commit()
    outbox = client.get("/mail/outbox").get_data(as_text=True)
    assert outbox.count("It went</button>") == 2
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "2 to check by hand" in page and page.count("It went</button>") == 2
    token = csrf_token(client, "/mail/outbox")
    client.post(f"/mail/messages/{kent.id}/resolve", data={"csrf_token": token, "went": "yes"})
    client.post(f"/mail/messages/{sussex.id}/resolve", data={"csrf_token": token, "went": "no"})
    session.expire_all()
    assert session.get(OutgoingMessage, kent.id).status is DeliveryStatus.sent
    assert session.get(OutgoingMessage, sussex.id).status is DeliveryStatus.failed
    # Kent's request went on the day it was handed over: its clock runs from then.
    sent = _events(session, "sent")
    assert [(e.request.authority.slug, e.occurred_on) for e in sent] == \
        [("kent", dt.date(2019, 6, 7))]
    # Sussex's goes again with the next send, offered as such.
    send_page = client.get("/campaigns/grooming-2019/send").get_data(as_text=True)
    assert "Sussex Police" in send_page
    assert session.get(OutgoingMessage, sussex.id).last_error.startswith("did not go")


def test_a_message_still_being_sent_cannot_be_answered_for(app, client, session, campaign,
                                                           researcher):
    job = jobs.create(session, TEST_ACTOR, JobKind.send, campaign)
    message = OutgoingMessage(request=campaign.requests[0], kind="request", to_address="a@b.example",
                              subject="s", body="b", message_id="<m1@x>", created_by="t",
                              status=DeliveryStatus.sending, job_id=job.id)
    session.add(message)
    job.state = JobState.running
    session.commit()
    assert "It went</button>" not in client.get("/mail/outbox").get_data(as_text=True)
    client.post(f"/mail/messages/{message.id}/resolve", data={
        "csrf_token": csrf_token(client, "/mail/outbox"), "went": "yes"})
    session.expire_all()
    assert session.get(OutgoingMessage, message.id).status is DeliveryStatus.sending


def test_the_progress_page_cancels_a_queued_send(app, client, session, campaign, researcher):
    url = "/campaigns/grooming-2019/send"
    job = jobs.create(session, TEST_ACTOR, JobKind.send, campaign)
    session.commit()
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Cancel the rest" in page and '<meta http-equiv="refresh" content="2">' in page
    response = client.post(f"/jobs/{job.id}/cancel",
                           data={"csrf_token": csrf_token(client, url)})
    page = client.get(response.location).get_data(as_text=True)
    assert "Cancelled: nothing more will be sent." in page
    assert '<meta http-equiv="refresh"' not in page
    session.expire_all()
    assert session.get(Job, job.id).state is JobState.cancelled
    assert run_queued_jobs(app) == []


def test_a_hidden_campaigns_jobs_are_hidden_too(app, client, session, campaign):
    campaign.embargo_until = LATE + dt.timedelta(days=30)
    campaign.owner = make_user(session, role="researcher", email="owner@example.org")
    job = jobs.create(session, TEST_ACTOR, JobKind.export, campaign)
    from foitrack.models import StoredFile
    from foitrack.storage import FileStore

    job.result_file = StoredFile(sha256=FileStore(app.config["STORAGE_PATH"]).put(b"secret,1\n"),
                                 filename="secret.csv", content_type="text/csv", size=9,
                                 created_by="tests")
    outsider = make_user(session, role="researcher")
    _, token = api_tokens.create_token(session, TEST_ACTOR, outsider, "scripts")
    session.commit()
    sign_in(client, outsider.email)
    assert client.get(f"/jobs/{job.id}").status_code == 404
    assert f"/jobs/{job.id}" not in client.get("/jobs").get_data(as_text=True)
    headers = {"Authorization": f"Bearer {token}"}
    hidden = client.get(f"/api/v1/jobs/{job.id}", headers=headers)
    missing = client.get("/api/v1/jobs/999999", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["detail"] == f"no job {job.id}"
    assert client.get("/api/v1/jobs/99999999999", headers=headers).status_code == 404
    public_id = job.result_file.public_id
    assert client.get(f"/files/{public_id}").status_code == 404  # the export's file too
    assert client.get(f"/api/v1/jobs/{job.id}/result", headers=headers).status_code == 404
    owner = app.test_client()
    sign_in(owner, "owner@example.org")
    assert owner.get(f"/jobs/{job.id}").status_code == 200
    assert owner.get(f"/files/{public_id}").data == b"secret,1\n"
    assert re.search(rf'href="/jobs/{job.id}"', owner.get("/jobs").get_data(as_text=True))


def test_the_edit_page_schedules_the_send(app, client, session, researcher):
    load_forces(session)
    create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', 'authorities = ["kent"]'))
    session.commit()
    url = "/campaigns/grooming-2019/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'name="send_on-day"' in form and "Send by email on" in form
    fields = dict(re.findall(r'name="(title|status|subject)" [^>]*value="([^"]*)"', form))
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "title": "Sexual communication with a child",
        "status": "draft", "subject": "Freedom of Information request", "request_text": "Please",
        "send_on": "2026-12-10", "embargo_until": "", "notes": "", **fields})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/campaigns/grooming-2019").get_data(as_text=True)
    assert "10 December 2026, by the scheduler" in page


def test_an_export_built_in_the_background_matches_the_download(app, client, session, campaign,
                                                                researcher):
    import io

    from foitrack.services.figures import import_csv

    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"kent,offences,2018-19,,,122,,Reply\nsussex,offences,2018-19,,,73,,Reply\n"))
    session.commit()
    detail = client.get("/campaigns/grooming-2019").get_data(as_text=True)
    assert 'id="export-job"' in detail
    response = client.post("/campaigns/grooming-2019/exports", data={
        "csrf_token": csrf_token(client, "/campaigns/grooming-2019"), "format": "csv"})
    assert response.status_code == 302 and response.location.startswith("/jobs/")
    assert run_queued_jobs(app) == [JobState.done]
    page = client.get(response.location).get_data(as_text=True)
    link = re.search(r'href="(/files/[\w-]+)">Download (grooming-2019-figures-[\d-]+\.csv)', page)
    assert link, page
    built = client.get(link.group(1)).data
    assert built == client.get("/campaigns/grooming-2019/export.csv?table=figures").data
    assert b"122" in built and b"73" in built
    # Through the API: 202, the job, then its file with the same token.
    user = make_user(session, role="viewer")
    _, token = api_tokens.create_token(session, TEST_ACTOR, user, "scripts")
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    started = client.post("/api/v1/campaigns/grooming-2019/exports", headers=headers,
                          json={"format": "csv", "table": "figures"})
    assert started.status_code == 202
    body = client.get(started.get_json()["url"], headers=headers).get_json()
    assert body["state"] == "queued" and body["result"] is None
    run_queued_jobs(app)
    body = client.get(started.get_json()["url"], headers=headers).get_json()
    assert body["state"] == "done"
    assert client.get(body["result"], headers=headers).data == built
    refused = client.post("/api/v1/campaigns/grooming-2019/exports", headers=headers,
                          json={"format": "pdf"})
    assert refused.status_code == 422
