"""A narrowed follow-up's reply proposes figures for the first request, where the authority's
figures live (issue 19 with services.follow_ups): its review page lists them and accepting them
saves the first request's figures; the follow-up's page says they wait and leads there."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select

from foitrack.models import Figure, FigureProposal, InboundMessage
from foitrack.services import follow_ups, inbound, proposals, requests
from foitrack.services.requests import get_request
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, make_campaign, make_user
from tests.pages import sign_in
from tests.test_extraction_cli import DESIGN, reply_pdf
from tests.test_figure_proposals import TODAY, reply_message

FIRST = "/campaigns/grooming-2019/requests/west-mercia"


@pytest.fixture
def store(app) -> FileStore:
    return FileStore(app.config["STORAGE_PATH"])


@pytest.fixture
def chain(session):
    """West Mercia asked on 1 May 2019, refused on cost (s.12) on 10 May, sent a narrowed
    follow-up on 13 May."""
    campaign = make_campaign(session, DESIGN)
    first = get_request(session, campaign.slug, "E23000016")
    requests.add_event(session, TEST_ACTOR, first, "sent", dt.date(2019, 5, 1), today=TODAY)
    requests.add_event(session, TEST_ACTOR, first, "response", dt.date(2019, 5, 10),
                       today=TODAY, outcome="refused", exemptions="s.12")
    follow_up = follow_ups.open_follow_up(session, TEST_ACTOR, first, "Only 2018/19.",
                                          dt.date(2019, 5, 13), today=TODAY)
    session.commit()
    return first, follow_up


@pytest.fixture
def answered(session, store, chain):
    """The follow-up's reply, a PDF of the figures, filed against it."""
    first, follow_up = chain
    report = inbound.import_file(session, TEST_ACTOR, store, "reply.eml",
                                 reply_message(follow_up, ("reply.pdf", reply_pdf())), TODAY)
    assert len(report.filed) == 1
    session.commit()
    assert session.scalars(select(InboundMessage)).one().request_id == follow_up.id
    return first, follow_up


def test_a_follow_ups_reply_is_proposed_for_the_first_request(session, answered):
    first, follow_up = answered
    assert proposals.pending_count(session, first) == 4
    assert proposals.pending_count(session, follow_up) == 0


def test_reading_the_first_requests_files_reads_its_follow_ups_too(session, store, answered):
    first, _ = answered
    session.execute(delete(FigureProposal))
    proposals.make(session, store, first)
    session.commit()
    assert proposals.pending_count(session, first) == 4


def test_the_follow_ups_page_leads_to_the_first_requests_review(client, session, answered):
    first, _ = answered
    sign_in(client, make_user(session, role="researcher").email)
    page = client.get(f"{FIRST}?follow_up=1").get_data(as_text=True)
    assert "narrowed follow-up 1" in page
    assert f'<a href="{FIRST}/proposals">Figures proposed: 4 to review</a>' in page
    review = client.get(f"{FIRST}/proposals").get_data(as_text=True)
    assert "<h2>reply.pdf</h2>" in review and "page 1, table 1, row 5, column 2" in review
    total = session.scalars(select(FigureProposal).where(FigureProposal.category.is_(None))).one()
    proposals.accept(session, TEST_ACTOR, first, [total.id])
    session.commit()
    figure = session.scalars(select(Figure)).one()
    assert figure.request_id == first.id and figure.value == 40
    assert figure.source == "reply.pdf, page 1, table 1, row 5, column 2"
