"""Sends, chases and scheduled sends run by real `foitrack worker` processes, on Redis and on the
embedded queue: once each, whatever happens to the worker (issue 21, points 1-6)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from foitrack.domain.clock import today_in_uk
from foitrack.models import DeliveryStatus, Event, Job, JobState, OutgoingMessage
from foitrack.services import api_tokens, requests
from tests.commands import invoke
from tests.factories import TEST_ACTOR, design_for, make_campaign, make_user
from tests.queue.conftest import BOTH, wait_for

pytestmark = pytest.mark.slow


def _campaign(session, forces: list[str] | None = None):
    return make_campaign(session, design_for(forces))


def _api(app, session):
    user = make_user(session, role="researcher")
    _, token = api_tokens.create_token(session, TEST_ACTOR, user, "scripts")
    session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    return client, headers


def _job(client, headers, url):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _finished(client, headers, url):
    def done():
        body = _job(client, headers, url)
        return body if body["state"] in ("done", "failed", "cancelled") else None
    return done


def _sent_events(session, campaign) -> Counter[str]:
    rows = session.execute(select(Event.kind, func.count()).join(Event.request)
                           .where(Event.removed_at.is_(None),
                                  Event.request.has(campaign_id=campaign.id))
                           .group_by(Event.kind))
    return Counter({kind.value: count for kind, count in rows})


@pytest.mark.parametrize("broker", BOTH, indirect=True)
def test_a_send_to_43_through_the_api_goes_out_once_each(app, session, slow_smtp, start_worker):
    campaign = _campaign(session)
    addresses = sorted(r.authority.foi_email for r in requests.campaign_requests(session, campaign))
    assert len(addresses) == 43
    client, headers = _api(app, session)
    start_worker("w1")
    response = client.post("/api/v1/campaigns/grooming-2019/send", headers=headers, json={})
    assert response.status_code == 202, response.get_data(as_text=True)
    started = response.get_json()
    assert started["url"] == f"/api/v1/jobs/{started['job']}"
    body = wait_for(_finished(client, headers, started["url"]), what="the send to finish")
    assert (body["state"], body["done"], body["total"], body["failed"], body["left"]) == \
        ("done", 43, 43, 0, 0)
    assert {m["state"] for m in body["messages"]} == {"sent"}
    assert sorted(m["To"] for m in slow_smtp.messages) == addresses  # each once, all of them
    session.expire_all()
    assert _sent_events(session, campaign)["sent"] == 43
    # Asked again: nothing is left to send, and nothing goes twice.
    again = client.post("/api/v1/campaigns/grooming-2019/send", headers=headers, json={})
    assert again.status_code == 409
    assert len(slow_smtp.messages) == 43


@pytest.mark.parametrize("broker", BOTH, indirect=True)
def test_a_worker_killed_mid_send_is_restarted_without_a_duplicate_or_a_loss(
        app, session, slow_smtp, start_worker):
    campaign = _campaign(session)
    client, headers = _api(app, session)
    slow_smtp.delay = 0.08
    worker = start_worker("w1")
    url = client.post("/api/v1/campaigns/grooming-2019/send", headers=headers,
                      json={}).get_json()["url"]
    wait_for(lambda: len(slow_smtp.messages) >= 8, what="eight messages to arrive")
    worker.kill()
    before = len(slow_smtp.messages)
    assert before < 43, "the send finished before the worker could be killed"
    session.expire_all()
    assert session.scalar(select(Job.state)) is JobState.running  # nobody said it stopped
    # Restarted under its name, the worker takes up the job it died in.
    start_worker("w1")
    body = wait_for(_finished(client, headers, url), what="the send to finish after the restart")
    assert body["state"] == "done"
    received = Counter(m["To"] for m in slow_smtp.messages)
    assert max(received.values()) == 1, "a message went twice"
    states = Counter(m["state"] for m in body["messages"])
    # At most one message was in the mail server's hands when the worker died: it is left for a
    # person to check, never sent again; every other one went, exactly once.
    assert states["sent"] >= 42 and states["sent"] + states["sending"] == 43
    to_check = {m["to"] for m in body["messages"] if m["state"] == "sending"}
    assert set(received) | to_check == {m["to"] for m in body["messages"]}
    session.expire_all()
    assert _sent_events(session, campaign)["sent"] == states["sent"]


def test_a_chase_run_is_recorded_and_not_offered_again(app, session, slow_smtp, start_worker):
    campaign = _campaign(session, ["west-mercia", "kent", "sussex"])
    for request in requests.campaign_requests(session, campaign):
        requests.add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 5, 1),
                           today=dt.date(2019, 5, 1))
    session.commit()
    client, headers = _api(app, session)
    start_worker("w1")
    response = client.post("/api/v1/campaigns/grooming-2019/chase", headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    body = wait_for(_finished(client, headers, response.get_json()["url"]), what="the chasers")
    assert (body["kind"], body["state"], body["done"]) == ("chase", "done", 3)
    assert len(slow_smtp.messages) == 3
    assert all(m["Subject"].startswith("Overdue:") for m in slow_smtp.messages)
    session.expire_all()
    assert _sent_events(session, campaign)["chaser_sent"] == 3
    # Each timeline has its chaser, so the next chase run has nobody to chase.
    again = client.post("/api/v1/campaigns/grooming-2019/chase", headers=headers)
    assert again.status_code == 409
    assert "chased on" in again.get_json()["detail"]


def test_a_campaign_with_a_send_on_date_is_sent_by_the_scheduler(app, session, slow_smtp,
                                                                 start_worker):
    campaign = _campaign(session, ["west-mercia", "kent", "sussex"])
    campaign.send_on = today_in_uk()
    later = _campaign_later(session)
    session.commit()
    start_worker("w1", "--beat")  # the scheduler in the worker, as `foitrack serve` runs it
    wait_for(lambda: len(slow_smtp.messages) == 3, what="the scheduled send")
    session.expire_all()
    job = session.scalars(select(Job)).one()
    assert (job.campaign_id, job.created_by) == (campaign.id, "scheduler")
    wait_for(lambda: session.scalar(select(Job.state).where(Job.id == job.id).execution_options(
        populate_existing=True)) is JobState.done, what="the job to be done")
    assert _sent_events(session, campaign)["sent"] == 3
    # The campaign due tomorrow is not sent, and nothing is sent twice on the next ticks.
    import time

    time.sleep(2.5)
    assert len(slow_smtp.messages) == 3
    assert _sent_events(session, later)["sent"] == 0


def _campaign_later(session):
    later = make_campaign(session, design_for(["dyfed-powys"], slug="grooming-2020"))
    later.send_on = today_in_uk() + dt.timedelta(days=1)
    return later


def test_cancelling_a_send_stops_the_rest(app, session, slow_smtp, start_worker, runner):
    _campaign(session)
    client, headers = _api(app, session)
    slow_smtp.delay = 0.2
    start_worker("w1")
    started = client.post("/api/v1/campaigns/grooming-2019/send", headers=headers,
                          json={}).get_json()
    wait_for(lambda: len(slow_smtp.messages) >= 3, what="three messages to arrive")
    result = invoke(runner, "jobs", "cancel", str(started["job"]))
    assert result.exit_code == 0, result.output
    body = wait_for(_finished(client, headers, started["url"]), what="the send to stop")
    assert body["state"] == "cancelled"
    states = Counter(m["state"] for m in body["messages"])
    assert states["sent"] == len(slow_smtp.messages) < 43
    assert states["sent"] + states["cancelled"] == 43
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(OutgoingMessage).where(
        OutgoingMessage.status == DeliveryStatus.queued)) == 0
    listed = invoke(runner, "jobs", "--all")
    assert f"{started['job']:>5}  send    cancelled" in listed.output


def test_a_worker_builds_an_export_the_api_then_serves(app, session, start_worker):
    _campaign(session, ["west-mercia", "kent"])
    client, headers = _api(app, session)
    start_worker("w1")
    started = client.post("/api/v1/campaigns/grooming-2019/exports", headers=headers,
                          json={"format": "xlsx"})
    assert started.status_code == 202
    body = wait_for(_finished(client, headers, started.get_json()["url"]), what="the export")
    assert (body["state"], body["done"], body["total"]) == ("done", 1, 1), body
    built = client.get(body["result"], headers=headers)
    assert built.status_code == 200 and built.data[:2] == b"PK"  # an XLSX is a zip
    assert built.headers["Content-Disposition"].startswith("attachment; filename=grooming-2019-")
