"""A reply kept for triage (nothing said which request it answers) has figures proposed from
its attachments when a researcher files it against its request, as an import would have
(issue 19, point 5)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from sqlalchemy import select

from foitrack.models import InboundMessage
from foitrack.services import inbound, proposals
from foitrack.services.requests import get_request
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, make_campaign
from tests.test_extraction_cli import DESIGN, reply_pdf
from tests.test_figure_proposals import TODAY


def test_filing_a_triaged_reply_proposes_its_figures(app, session):
    store = FileStore(app.config["STORAGE_PATH"])
    campaign = make_campaign(session, DESIGN)
    request = get_request(session, campaign.slug, "E23000016")
    message = EmailMessage()
    message["From"] = "someone@unknown.example"
    message["To"] = "research@charity.example"
    message["Subject"] = "Figures"
    message["Message-ID"] = "<triage-1@unknown.example>"
    message.set_content("The figures you asked for.")
    message.add_attachment(reply_pdf(), maintype="application", subtype="pdf",
                           filename="reply.pdf")
    report = inbound.import_file(session, TEST_ACTOR, store, "r.eml", bytes(message), TODAY)
    session.commit()
    assert report.filed == [] and proposals.pending_count(session, request) == 0
    kept = session.scalars(select(InboundMessage)).one()
    inbound.assign(session, TEST_ACTOR, kept.id, request, dt.date(2019, 5, 20), store)
    session.commit()
    assert proposals.pending_count(session, request) == 4
