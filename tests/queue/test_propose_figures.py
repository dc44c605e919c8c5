"""Figures proposed from a filed reply by a real `foitrack worker` where a broker (Redis) is
configured (issue 19, point 5): the filing commits without reading its attachments, the worker
reads them, and the request page then says "Figures proposed: N to review". Without a broker
they are read at filing (tests/test_figure_proposals.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from foitrack import broker
from foitrack.models import FigureProposal, Request
from foitrack.services import inbound, proposals, requests
from foitrack.services.requests import get_request
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, make_campaign, make_user
from tests.pages import sign_in
from tests.queue.conftest import wait_for
from tests.test_extraction_cli import DESIGN, reply_pdf
from tests.test_figure_proposals import TODAY, reply_message

pytestmark = pytest.mark.slow


@pytest.fixture
def sent(session) -> Request:
    campaign = make_campaign(session, DESIGN)
    request = get_request(session, campaign.slug, "E23000016")
    requests.add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 5, 1), today=TODAY)
    session.commit()
    return request


def proposed(session) -> int:
    session.rollback()  # a fresh look at what the worker committed
    return session.scalar(select(func.count()).select_from(FigureProposal))


def test_a_worker_proposes_figures_from_a_filed_reply(app, session, client, sent, start_worker):
    start_worker("w1")
    assert broker.queued(session)
    store = FileStore(app.config["STORAGE_PATH"])
    report = inbound.import_file(session, TEST_ACTOR, store, "reply.eml",
                                 reply_message(sent, ("reply.pdf", reply_pdf())), TODAY)
    assert len(report.filed) == 1
    # Asked of the worker, not read here: nothing is proposed inside the filing's transaction.
    assert session.scalar(select(func.count()).select_from(FigureProposal)) == 0
    session.commit()
    wait_for(lambda: proposed(session) == 4, what="the worker's proposals")
    assert proposals.pending_count(session, sent) == 4
    sign_in(client, make_user(session, role="researcher").email)
    page = client.get("/campaigns/grooming-2019/requests/west-mercia").get_data(as_text=True)
    assert "Figures proposed: 4 to review" in page

