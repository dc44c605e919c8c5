"""Two people recording the same step of one request at the same moment (found by the load
test's review): the second must wait for the first, then be checked against the timeline with
the first's event in it, not against the timeline both of them read."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from foitrack.domain.timeline import EventKind
from foitrack.models import Event
from foitrack.services import api_tokens
from foitrack.services import requests as request_service
from tests.factories import TEST_ACTOR, make_user
from tests.pages import csrf_token

pytestmark = pytest.mark.postgres

CAMPAIGN = "/campaigns/two-desks"
DETAIL = f"{CAMPAIGN}/requests/west-mercia"
DAY = (dt.date.today() - dt.timedelta(days=7)).isoformat()


def _by_form(client, token):
    return client.post(f"{DETAIL}/events",
                       data={"csrf_token": token, "kind": "sent", "occurred_on": DAY})


def _by_bulk(client, token):
    return client.post(f"{CAMPAIGN}/bulk", data={
        "csrf_token": token, "kind": "sent", "occurred_on": DAY, "requests": "west-mercia"})


def _by_api(client, token):
    return client.post("/api/v1/campaigns/two-desks/requests/west-mercia/events",
                       json={"kind": "sent", "occurred_on": DAY},
                       headers={"Authorization": f"Bearer {token}"})


# How the colleague records it, and how each route says "not recorded".
ROUTES = {"form": (_by_form, DETAIL, 400), "bulk": (_by_bulk, CAMPAIGN, 302),
          "api": (_by_api, None, 409)}


@pytest.mark.parametrize("route", list(ROUTES))
def test_the_same_sent_recorded_twice_at_once_is_recorded_once(desks, session, monkeypatch,
                                                              route):
    rosa, chen = desks
    send, page, refused = ROUTES[route]
    if page is None:
        _, chens_token = api_tokens.create_token(session, TEST_ACTOR, make_user(session), "chen")
        session.commit()
    else:
        chens_token = csrf_token(chen, page)
    rosas_token = csrf_token(rosa, DETAIL)
    real_check = request_service.check
    statuses: dict[str, int] = {}
    colleague = threading.Thread(
        target=lambda: statuses.update(chen=send(chen, chens_token).status_code))

    def a_colleague_records_it_meanwhile(events, new, today, regime):
        real_check(events, new, today, regime)
        if not colleague.is_alive() and "chen" not in statuses:
            # Rosa's "sent" has been checked against the timeline; Chen records his before
            # hers is written. Until Rosa's transaction ends his can only wait.
            colleague.start()
            colleague.join(timeout=2)

    monkeypatch.setattr(request_service, "check", a_colleague_records_it_meanwhile)
    statuses["rosa"] = _by_form(rosa, rosas_token).status_code
    colleague.join()
    monkeypatch.undo()

    assert statuses == {"rosa": 302, "chen": refused}
    session.expire_all()
    sent = session.scalars(select(Event).where(Event.kind == EventKind.sent,
                                               Event.removed_at.is_(None))).all()
    assert len(sent) == 1
