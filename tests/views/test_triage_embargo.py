"""Issue 23, points 2, 3, 13 and 21: the triage inbox, uploads and files never give away an
embargoed campaign, and two people editing a campaign's mail wording do not overwrite each
other."""

from __future__ import annotations

import datetime as dt
import io
import re
from email.message import EmailMessage

import pytest
from flask import Flask
from sqlalchemy import func, select

from foitrack.domain.clock import today_in_uk
from foitrack.models import (
    CampaignMember,
    CampaignStatus,
    Event,
    InboundMessage,
    MailTemplate,
    MessageKind,
    StoredFile,
)
from foitrack.services import inbound, mail
from foitrack.services.design import create_from_file
from foitrack.services.requests import add_event
from foitrack.storage import FileStore
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.pages import csrf_token, sign_in

EMBARGO = today_in_uk() + dt.timedelta(days=30)
SUBJECT = "Project Kestrel: online contact offences"
TODAY = dt.date(2019, 6, 3)


def _campaign(session, slug, title, authorities, owner, subject=None):
    text = EXAMPLE_DESIGN.replace('slug = "grooming-2019"', f'slug = "{slug}"').replace(
        'title = "Sexual communication with a child, 2017/18 and 2018/19"', f'title = "{title}"'
    ).replace('authorities = "england-wales"', f"authorities = {authorities}")
    if subject:
        text = text.replace(f'title = "{title}"', f'title = "{title}"\nsubject = "{subject}"')
    campaign = create_from_file(session, TEST_ACTOR, text, owner=owner)
    campaign.status = CampaignStatus.active
    return campaign


@pytest.fixture
def world(app: Flask, session):
    """An embargoed, active campaign to West Mercia and Cumbria with its own email subject and
    chaser wording; an open campaign to West Mercia and Kent; people inside and outside."""
    load_forces(session)
    people = {role: make_user(session, role=role.split("-")[0]) for role in
              ("researcher-owner", "viewer-member", "researcher-outsider", "viewer-outsider",
               "admin")}
    hidden = _campaign(session, "secret-2019", "Unpublished grooming figures",
                       '["west-mercia", "cumbria"]', people["researcher-owner"], SUBJECT)
    hidden.embargo_until = EMBARGO
    session.add(CampaignMember(campaign_id=hidden.id, user_id=people["viewer-member"].id,
                               added_by="tests"))
    session.add(MailTemplate(campaign_id=hidden.id, kind=MessageKind.chaser,
                             subject="Kestrel follow-up on contact offences {{ reference }}",
                             body="{{ salutation }}"))
    visible = _campaign(session, "open-2019", "Stalking figures", '["west-mercia", "kent"]',
                        people["researcher-owner"])
    session.flush()
    mercia = next(r for r in hidden.requests if r.authority.slug == "west-mercia")
    mercia.reference = "WM/FOI/2019/4471"
    # Only West Mercia's hidden request has gone out: Cumbria's mail cannot be matched to a
    # waiting request, so it lands in triage.
    sent = mail.queue_campaign(session, TEST_ACTOR, hidden, [mercia],
                               mail.MailSettings(mail_from="us@charity.example"), TODAY)
    add_event(session, TEST_ACTOR, mercia, "sent", dt.date(2019, 5, 1), today=dt.date(2019, 5, 1))
    session.commit()
    return {"people": people, "hidden": hidden, "visible": visible, "mercia": mercia,
            "sent_id": sent[0].message_id}


def _message(subject, sender="clerk@nowhere.example", key=None, body="Figures attached.",
             attachment=True, **headers):
    message = EmailMessage()
    message["From"], message["Subject"] = sender, subject
    message["Message-ID"] = key or f"<{abs(hash((subject, sender, body)))}@nowhere.example>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    if attachment:
        message.add_attachment(b"%PDF-1.4 secret", maintype="application", subtype="pdf",
                               filename="reply.pdf")
    return message


def _import(app, session, message) -> InboundMessage:
    """Imported as the command line does (the operator sees everything)."""
    inbound.import_file(session, TEST_ACTOR, FileStore(app.config["STORAGE_PATH"]), "m.eml",
                        bytes(message), TODAY)
    session.commit()
    found = session.scalar(select(InboundMessage).where(
        InboundMessage.message_key == message["Message-ID"]))
    assert found is not None and found.request_id is None  # it waits in triage
    return found


def _client(app, user):
    client = app.test_client()
    assert sign_in(client, user.email).status_code == 302
    return client


def _files(found: InboundMessage) -> list[str]:
    return [found.raw_file.public_id, *(a.stored_file.public_id for a in found.attachments)]


def test_a_reply_quoting_the_hidden_campaigns_email_subject_is_kept_from_outsiders(
        app, world, session):
    found = _import(app, session, _message(f"RE: {SUBJECT} (our ref 8812)"))
    other = _import(app, session, _message("A question about parking"))
    people = world["people"]
    outsider, owner = _client(app, people["researcher-outsider"]), _client(app, people["researcher-owner"])
    page = outsider.get("/mail/inbox").get_data(as_text=True)
    assert "our ref 8812" not in page and "A question about parking" in page
    assert "our ref 8812" in owner.get("/mail/inbox").get_data(as_text=True)
    # Its message and attachment, by their links: not for the outsider, as if not there.
    for public_id in _files(found):
        assert outsider.get(f"/files/{public_id}").status_code == 404
        assert owner.get(f"/files/{public_id}").status_code == 200
    for public_id in _files(other):
        assert outsider.get(f"/files/{public_id}").status_code == 200


@pytest.mark.parametrize("how", ["token", "template wording", "their reference", "sender domain",
                                 "quoted in the body"])
def test_a_reply_that_may_belong_to_the_hidden_campaign_is_kept_from_outsiders(
        app, world, session, how):
    mercia = world["mercia"]
    message = {
        # A token of the hidden request the authority retyped (its name part wrong): not
        # matched, but plainly about that request.
        "token": _message(f"Your request [FOI-{mercia.id}-WESTMERCA]"),
        "template wording": _message("Re: Kestrel follow-up on contact offences (ours: 9913)"),
        "their reference": _message("Our ref wm/foi/2019/4471: response"),
        # Cumbria is asked only in the hidden campaign: its mail is for that campaign.
        "sender domain": _message("Your request", sender="freedomofinformation@cumbria.police.uk"),
        "quoted in the body": _message("Re: your email", body=f"> Subject: {SUBJECT}\n> Dear..."),
    }[how]
    found = _import(app, session, message)
    people = world["people"]
    for who, shown in (("researcher-outsider", False), ("researcher-owner", True),
                       ("admin", True)):
        page = _client(app, people[who]).get("/mail/inbox").get_data(as_text=True)
        assert (f'id="message-{found.id}"' in page) is shown, who


def test_mail_from_an_authority_also_asked_in_a_visible_campaign_stays_visible(app, world, session):
    """West Mercia is asked in both campaigns: hiding its mail would hide most of the inbox
    from everyone outside the embargo."""
    open_mercia = next(r for r in world["visible"].requests if r.authority.slug == "west-mercia")
    add_event(session, TEST_ACTOR, open_mercia, "sent", dt.date(2019, 5, 1),
              today=dt.date(2019, 5, 1))
    session.commit()  # two requests to West Mercia await an answer: its mail goes to triage
    found = _import(app, session, _message("Parking fines", sender="foi@westmercia.pnn.police.uk"))
    page = _client(app, world["people"]["researcher-outsider"]).get("/mail/inbox")
    assert f'id="message-{found.id}"' in page.get_data(as_text=True)


def test_triage_files_are_never_served_to_viewers(app, world, session):
    found = _import(app, session, _message("A question about parking"))
    people = world["people"]
    for who, status in (("viewer-outsider", 404), ("viewer-member", 404),
                        ("researcher-outsider", 200)):
        client = _client(app, people[who])
        for public_id in _files(found):
            assert client.get(f"/files/{public_id}").status_code == status, who


def test_files_are_named_by_an_unguessable_id_and_old_number_links_find_nothing(
        app, world, session):
    found = _import(app, session, _message("A question about parking"))
    admin = _client(app, world["people"]["admin"])
    stored = session.get(StoredFile, found.raw_file_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", stored.public_id)
    assert len(set(session.scalars(select(StoredFile.public_id)))) == \
        session.scalar(select(func.count()).select_from(StoredFile))
    assert admin.get(f"/files/{stored.public_id}").status_code == 200
    for old in (f"/files/{stored.id}", f"/files/{stored.id}/view"):
        assert admin.get(old).status_code == 404, old
    # The pages link by the public id.
    page = admin.get("/mail/inbox").get_data(as_text=True)
    assert f"/files/{stored.public_id}" in page and f'/files/{stored.id}"' not in page


def _upload(client, message, name="reply.eml"):
    return client.post("/mail/inbox", data={
        "csrf_token": csrf_token(client, "/mail/inbox"),
        "file": [(io.BytesIO(bytes(message)), name)]}, content_type="multipart/form-data")


def _summary(client, response) -> str:
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    return re.search(r"Imported: [^<]*", page).group(0)


def _replies(session, request) -> int:
    return session.scalar(select(func.count()).select_from(Event).where(
        Event.request_id == request.id, Event.kind == "reply_received"))


@pytest.mark.parametrize("how", ["token", "thread"])
def test_an_outsiders_upload_never_files_into_the_hidden_campaign_nor_tells_it_exists(
        app, world, session, how):
    mercia, people = world["mercia"], world["people"]
    outsider = _client(app, people["researcher-outsider"])

    def reply(request_id, key):
        if how == "token":
            return _message(f"Re: request [FOI-{request_id}-WESTMERCIA]", key=key)
        thread = world["sent_id"] if request_id == mercia.id else "<never-sent@charity.example>"
        return _message("Re: your request", key=key, In_Reply_To=thread, References=thread)

    hidden = _summary(outsider, _upload(outsider, reply(mercia.id, "<to-hidden@x>")))
    nowhere = _summary(outsider, _upload(outsider, reply(987654, "<to-nowhere@x>")))
    assert hidden == nowhere == ("Imported: 0 filed against requests, 1 waiting in the triage "
                                 "inbox, 0 already imported.")
    session.expire_all()
    assert _replies(session, mercia) == 0  # nothing written into the hidden campaign
    # The outsider's inbox reads the same for both: neither is listed (a token for no request
    # they can see is theirs to guess, not to confirm).
    page = outsider.get("/mail/inbox").get_data(as_text=True)
    waiting = {key: session.scalar(select(InboundMessage.id).where(
        InboundMessage.message_key == key)) for key in ("<to-hidden@x>", "<to-nowhere@x>")}
    if how == "token":
        assert not any(f'id="message-{i}"' in page for i in waiting.values())
    else:
        assert f'id="message-{waiting["<to-hidden@x>"]}"' not in page
    # The owner sees it and files it.
    owner = _client(app, people["researcher-owner"])
    assert f'id="message-{waiting["<to-hidden@x>"]}"' in owner.get("/mail/inbox").get_data(as_text=True)
    # And the same upload by the owner is filed at once.
    filed = _summary(owner, _upload(owner, reply(mercia.id, "<owner-upload@x>")))
    assert filed.startswith("Imported: 1 filed against requests")


def test_the_dashboard_counts_only_the_triage_the_viewer_may_see(app, world, session):
    _import(app, session, _message(f"RE: {SUBJECT}"))
    _import(app, session, _message("A question about parking"))
    people = world["people"]
    outsider = _client(app, people["researcher-outsider"]).get("/").get_data(as_text=True)
    owner = _client(app, people["researcher-owner"]).get("/").get_data(as_text=True)
    assert "1 unmatched message in the inbox" in outsider
    assert "2 unmatched messages in the inbox" in owner


# ---- point 13: the mail templates page -----------------------------------------------------

def _wording_form(client, url):
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page) or \
        re.search(r'type="hidden" name="version" value="(\d+)"', page) or \
        re.search(r'id="version" name="version" type="hidden" value="(\d+)"', page)
    assert version, "the form carries the version it was loaded at"
    return {"csrf_token": csrf_token(client, url), "version": version.group(1)}


def test_a_save_over_someone_elses_newer_wording_is_refused_and_keeps_what_was_typed(
        app, world, session):
    url = "/campaigns/open-2019/mail-templates?kind=chaser"
    people = world["people"]
    first, second = _client(app, people["researcher-owner"]), _client(app, people["researcher-outsider"])
    first_form, second_form = _wording_form(first, url), _wording_form(second, url)
    saved = first.post(url, data={**first_form, "subject": "Chasing {{ subject }}",
                                  "body": "First person's wording, {{ salutation }}."})
    assert saved.status_code == 302
    refused = second.post(url, data={**second_form, "subject": "Still waiting: {{ subject }}",
                                     "body": "Second person's wording."})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "First person&#39;s wording" in page and people["researcher-owner"].email in page
    assert "Second person&#39;s wording." in page and "Still waiting: {{ subject }}" in page
    session.expire_all()
    own = session.scalar(select(MailTemplate).where(MailTemplate.campaign_id == world["visible"].id))
    assert own.body == "First person's wording, {{ salutation }}." and own.version == 1
    # Saving again from the page they were shown (now at the newer version) keeps theirs.
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    again = second.post(url, data={"csrf_token": second_form["csrf_token"], "version": version,
                                   "subject": "Still waiting: {{ subject }}",
                                   "body": "Second person's wording."})
    assert again.status_code == 302
    session.expire_all()
    own = session.scalar(select(MailTemplate).where(MailTemplate.campaign_id == world["visible"].id))
    assert own.body == "Second person's wording." and own.version == 2


def test_a_wording_save_without_its_version_is_refused(app, world, session):
    url = "/campaigns/open-2019/mail-templates?kind=chaser"
    client = _client(app, world["people"]["researcher-owner"])
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "subject": "x",
                                      "body": "y"})
    assert response.status_code == 400 and "reload the page" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(MailTemplate).where(
        MailTemplate.campaign_id == world["visible"].id)) == 0
