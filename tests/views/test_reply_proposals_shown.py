"""Issue 17 point 6, leftovers: the request page hides a reply's proposal once the reply is
classified, and the triage inbox shows what each waiting reply proposes, with its sentence."""

from __future__ import annotations

import html
from email.message import EmailMessage

from foitrack.domain.clock import today_in_uk
from foitrack.models import InboundMessage, ReplyReading
from foitrack.services import inbound, requests
from foitrack.storage import FileStore
from tests.domain.test_reply_reading import S12
from tests.factories import TEST_ACTOR
from tests.views import test_reply_proposals as proposals
from tests.views.test_reply_proposals import SENT

replied = proposals.replied  # Kent and Essex replied with the same s.12 paragraph


def _page(client, url):
    return html.unescape(client.get(url).get_data(as_text=True))


def test_a_classified_reply_has_its_proposal_hidden(client, session, replied):
    url = f"/campaigns/{replied.slug}/requests/kent"
    request = requests.get_request(session, replied.slug, "kent")
    message = session.query(InboundMessage).filter_by(request_id=request.id).one()
    assert f'id="proposal-{message.id}"' in _page(client, url)
    on = SENT + (message.event.occurred_on - SENT)  # the reply's own day
    requests.add_event(session, TEST_ACTOR, request, "response", on, today=today_in_uk(),
                       outcome="refused", exemptions=("s.12",))
    session.commit()
    page = _page(client, url)
    assert f'id="proposal-{message.id}"' not in page
    assert "Use this proposal" not in page
    # Essex's reply, not classified, still proposes.
    assert "Use this proposal" in _page(client, f"/campaigns/{replied.slug}/requests/essex")


def test_the_request_page_keeps_a_reading_it_had_to_make(client, session, replied):
    """A reply filed before readings were kept is read on its first showing, and kept."""
    request = requests.get_request(session, replied.slug, "kent")
    message = session.query(InboundMessage).filter_by(request_id=request.id).one()
    session.delete(session.get(ReplyReading, message.id))
    session.commit()
    assert "Proposed: Response received, refused, s.12" in _page(
        client, f"/campaigns/{replied.slug}/requests/kent")
    session.expire_all()
    assert session.get(ReplyReading, message.id) is not None


def test_the_triage_inbox_shows_each_replys_proposal_with_its_sentence(app, client, session,
                                                                      replied):
    message = EmailMessage()
    message["From"] = "foi@unknown.example"
    message["Subject"] = "FOI 2019-123"
    message["Message-ID"] = "<triage@unknown.example>"
    message.set_content("Dear Requester,\n\n" + S12.format(force="Cheshire Constabulary"))
    inbound.import_file(session, TEST_ACTOR, FileStore(app.config["STORAGE_PATH"]), "r.eml",
                        bytes(message), today_in_uk())
    session.commit()
    waiting = inbound.triage(session)[0]
    session.delete(session.get(ReplyReading, waiting.id))  # imported before readings were kept
    session.commit()
    page = _page(client, "/mail/inbox")
    assert f'id="proposal-{waiting.id}"' in page
    assert "Proposed: Response received, refused, s.12 – because:" in page
    assert "would exceed the appropriate limit of 18 hours" in page
    session.expire_all()
    assert session.get(ReplyReading, waiting.id) is not None  # read once, then kept
