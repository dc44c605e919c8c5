"""Issue 17 point 6: the request page proposes what a filed reply says, with the sentence that
justified it and a link that fills in the event form; the checks page groups replies sent in the
same words."""

from __future__ import annotations

import datetime as dt
import html
import re
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from foitrack.domain.clock import today_in_uk
from foitrack.services import inbound, mail, requests
from foitrack.services.campaigns import create_campaign
from foitrack.storage import FileStore
from tests.domain.test_reply_reading import S12
from tests.factories import TEST_ACTOR, load_forces, make_user
from tests.pages import sign_in

SENT = today_in_uk() - dt.timedelta(days=20)


@pytest.fixture
def replied(app, session, client):
    """A campaign to Kent and Essex, both of whom replied with the same s.12 paragraph."""
    load_forces(session)
    campaign = create_campaign(session, TEST_ACTOR, title="Grooming 2019", request_text="Dear x",
                               authority_keys=["kent", "essex"])
    store = FileStore(app.config["STORAGE_PATH"])
    for slug, name in (("kent", "Kent Police"), ("essex", "Essex Police")):
        request = requests.get_request(session, campaign.slug, slug)
        requests.add_event(session, TEST_ACTOR, request, "sent", SENT, today=today_in_uk())
        message = EmailMessage()
        message["From"] = "foi@police.example"
        message["Subject"] = f"FOI response [{mail.token_for(request)}]"
        message["Date"] = format_datetime(dt.datetime.combine(
            SENT + dt.timedelta(days=10), dt.time(9), tzinfo=dt.UTC))
        message["Message-ID"] = f"<{slug}@police.example>"
        message.set_content(f"Dear Requester,\n\n{S12.format(force=name)}\n\nYours sincerely")
        inbound.import_file(session, TEST_ACTOR, store, "r.eml", bytes(message), today_in_uk())
    session.commit()
    sign_in(client, make_user(session, role="admin").email)
    return campaign


def test_the_request_page_proposes_the_reply_with_its_sentence(client, replied):
    page = html.unescape(client.get(f"/campaigns/{replied.slug}/requests/kent").get_data(as_text=True))
    assert "Proposed: Response received, refused, s.12 – because:" in page
    assert "would exceed the appropriate limit of 18 hours" in page
    assert "kind=response&outcome=refused&exemptions=s.12" in page
    assert "Use this proposal" in page


def test_the_proposal_link_fills_in_the_event_form(client, replied):
    on = (SENT + dt.timedelta(days=10)).isoformat()
    page = client.get(f"/campaigns/{replied.slug}/requests/kent?kind=response&outcome=refused"
                      f"&exemptions=s.12&occurred_on={on}&note=From+the+reply").get_data(as_text=True)
    assert '<option selected value="response">' in page
    assert '<option selected value="refused">' in page
    assert 'value="s.12"' in page
    day = SENT + dt.timedelta(days=10)
    for part, value in (("day", day.day), ("month", day.month), ("year", day.year)):
        assert re.search(rf'name="occurred_on-{part}"[^>]*value="{value}"', page), part
    assert re.search(r">\s*From the reply</textarea>", page)


def test_the_checks_page_groups_replies_in_the_same_words(client, replied):
    page = client.get(f"/campaigns/{replied.slug}/checks/").get_data(as_text=True)
    assert "2 forces sent the same s.12 paragraph</strong>: Essex Police, Kent Police" in page
