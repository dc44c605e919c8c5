"""Embargoed campaigns: seen only by their owner, their members and admins, on every route."""

from __future__ import annotations

import datetime as dt
import io
from email.message import EmailMessage

import pytest
from flask import Flask
from sqlalchemy import func, select

from foitrack.domain.clock import today_in_uk
from foitrack.models import (
    AuditEntry,
    CampaignMember,
    Figure,
    FigureProposal,
    InboundMessage,
    StoredFile,
)
from foitrack.services import api_tokens, extraction, inbound, proposals
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.services.requests import add_event
from foitrack.storage import FileStore
from foitrack.web import permissions
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.pages import SAMPLE_ARGS, csrf_token, sign_in
from tests.test_extraction_cli import reply_pdf

SLUG = "secret-2019"
TITLE = "Unpublished grooming figures"
EMBARGO = today_in_uk() + dt.timedelta(days=30)


@pytest.fixture
def world(app: Flask, session):
    """An embargoed campaign owned by one researcher, with one member, a figure from a file,
    a reply with an attachment, and an outgoing message; and people outside it."""
    load_forces(session)
    people = {role: make_user(session, role=role.split("-")[0]) for role in
              ("researcher-owner", "viewer-member", "researcher-outsider", "viewer-outsider", "admin")}
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'slug = "grooming-2019"', f'slug = "{SLUG}"').replace(
        'title = "Sexual communication with a child, 2017/18 and 2018/19"', f'title = "{TITLE}"').replace(
        'authorities = "england-wales"', 'authorities = ["west-mercia", "cumbria"]'),
        owner=people["researcher-owner"])
    campaign.embargo_until = EMBARGO
    session.add(CampaignMember(campaign_id=campaign.id, user_id=people["viewer-member"].id,
                               added_by="tests"))
    request = next(r for r in campaign.requests if r.authority.slug == "west-mercia")
    note = add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 5, 1), today=dt.date(2019, 5, 1))
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,,,122,,Reply\n"))
    session.commit()
    message = EmailMessage()
    message["From"], message["To"] = "foi@westmercia.police.uk", "us@example.org"
    message["Subject"], message["Message-ID"] = f"Re: FOI {TITLE}", "<reply-1@westmercia>"
    message.set_content("Please find our reply attached: 122 offences.")
    message.add_attachment(b"force,offences\nWest Mercia,122\n", maintype="text", subtype="csv",
                           filename="reply.csv")
    inbound.import_file(session, TEST_ACTOR, FileStore(app.config["STORAGE_PATH"]), "r.eml",
                        bytes(message), dt.date(2019, 5, 20))
    session.commit()
    filed = session.scalar(select(InboundMessage))
    if filed.request_id is None:
        inbound.assign(session, TEST_ACTOR, filed.id, request, dt.date(2019, 5, 20))
        session.commit()
    # The figure's source: a filled template as the import keeps it.
    store = FileStore(app.config["STORAGE_PATH"])
    template = b"filled template bytes"
    source = StoredFile(sha256=store.put(template), filename="west-mercia.xlsx", size=len(template),
                        content_type="application/octet-stream", created_by="tests")
    figure = session.scalar(select(Figure))
    figure.source_file = source
    # Figures proposed from a PDF reply: the review page and a crop, hidden as the rest.
    pdf = reply_pdf()
    kept = StoredFile(sha256=store.put(pdf), filename="reply.pdf", size=len(pdf),
                      content_type="application/pdf", created_by="tests")
    proposals.make(session, store, request, [extraction.ReplyFile("reply.pdf", pdf, kept)])
    session.commit()
    proposal_id = session.scalar(select(FigureProposal.id).where(FigureProposal.page.is_not(None)))
    return {"people": people, "campaign": campaign, "request": request, "event_id": note.id,
            "proposal_id": proposal_id,
            "figure": figure, "files": [filed.raw_file.public_id,
                                        filed.attachments[0].stored_file.public_id,
                                        figure.source_file.public_id]}


def _campaign_routes(app: Flask):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if "/campaigns/<slug>" in rule.rule:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method


def _visit(app, world, email, role_token=True):
    """Every campaign route as ``email`` (pages with the cookie, the API with a token):
    the status of each."""
    people = {u.email: u for u in world["people"].values()}
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    with app.extensions["foitrack.db"].session() as session:
        _, plain = api_tokens.create_token(session, TEST_ACTOR, session.merge(people[email]), "t")
        session.commit()
    args = {**SAMPLE_ARGS, "slug": SLUG, "event_id": world["event_id"],
            "figure_id": world["figure"].id, "proposal_id": world["proposal_id"]}
    token = csrf_token(client, "/authorities/")
    seen = {}
    for rule, method in _campaign_routes(app):
        url = rule.build(args, append_unknown=False)[1]
        if rule.endpoint.startswith("api."):
            response = client.open(url, method=method, headers={"Authorization": f"Bearer {plain}"},
                                   json={} if method == "POST" else None)
        elif method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        response.get_data()
        response.close()
        seen[(method, url)] = response.status_code
    return client, seen


@pytest.mark.parametrize("who", ["researcher-outsider", "viewer-outsider"])
def test_every_campaign_route_is_a_404_to_someone_outside(app, world, who):
    role = world["people"][who].role
    _, seen = _visit(app, world, world["people"][who].email)
    assert len(seen) > 40
    for (method, url), status in seen.items():
        endpoint = app.url_map.bind("localhost").match(url, method=method)[0]
        # A route the role may not use at all is refused as for any campaign, existing or not;
        # every other answers as if the campaign did not exist.
        expected = 404 if role.allows(permissions.ROUTE_ROLES[endpoint]) else 403
        assert status == expected, (method, url, status)


@pytest.mark.parametrize("who", ["researcher-owner", "viewer-member", "admin"])
def test_the_owner_members_and_admins_reach_every_campaign_route(app, world, who):
    _, seen = _visit(app, world, world["people"][who].email)
    # (Restoring an event that was never removed is a 404 of its own, whoever asks.)
    missing = {(method, url) for (method, url), status in seen.items()
               if status == 404 and not url.endswith("/restore")}
    assert not missing


def test_lists_leave_the_campaign_out_for_someone_outside(app, world):
    outsider, _ = _visit(app, world, world["people"]["researcher-outsider"].email)
    member, _ = _visit(app, world, world["people"]["viewer-member"].email)
    for path in ("/", "/campaigns/", "/chase?due_soon=1", "/mail/outbox"):
        assert TITLE not in outsider.get(path).get_data(as_text=True), path
    assert TITLE in member.get("/campaigns/").get_data(as_text=True)
    assert TITLE in member.get("/").get_data(as_text=True)
    # Naming the campaign on the chase list is the same as naming one that does not exist.
    assert outsider.get(f"/chase?campaign={SLUG}").status_code == 400
    assert outsider.get(f"/chase.csv?campaign={SLUG}").status_code == 404
    assert member.get(f"/chase?campaign={SLUG}").status_code == 200
    # The triage inbox offers only the requests of campaigns one can see.
    assert TITLE not in outsider.get("/mail/inbox").get_data(as_text=True)


def test_the_api_lists_and_serves_the_campaign_only_to_those_let_in(app, world, session):
    tokens = {}
    for who in ("researcher-outsider", "viewer-member"):
        _, tokens[who] = api_tokens.create_token(session, TEST_ACTOR, world["people"][who], "api")
    session.commit()
    client = app.test_client()

    def get(who, path):
        return client.get(path, headers={"Authorization": f"Bearer {tokens[who]}"})

    listed = get("researcher-outsider", "/api/v1/campaigns").get_json()
    assert SLUG not in [c["slug"] for c in listed["items"]]
    hidden = get("researcher-outsider", f"/api/v1/campaigns/{SLUG}/figures")
    assert hidden.status_code == 404 and hidden.mimetype == "application/problem+json"
    assert SLUG in [c["slug"] for c in get("viewer-member", "/api/v1/campaigns").get_json()["items"]]
    figures = get("viewer-member", f"/api/v1/campaigns/{SLUG}/figures").get_json()
    assert [f["value"] for f in figures["items"]] == [122]


def test_the_campaigns_files_are_hidden_from_someone_outside(app, world):
    outsider, _ = _visit(app, world, world["people"]["researcher-outsider"].email)
    member, _ = _visit(app, world, world["people"]["viewer-member"].email)
    assert all(world["files"])
    for file_id in world["files"]:
        for path in (f"/files/{file_id}", f"/files/{file_id}/view"):
            assert outsider.get(path).status_code == 404, path
            assert member.get(path).status_code in (200, 302), path


def test_from_the_embargo_date_everyone_signed_in_sees_it(app, world):
    app.config["TODAY"] = EMBARGO
    outsider, seen = _visit(app, world, world["people"]["viewer-outsider"].email)
    assert 404 not in seen.values()
    assert TITLE in outsider.get("/campaigns/").get_data(as_text=True)
    assert outsider.get(f"/files/{world['files'][0]}").status_code == 200


def test_the_owner_lets_someone_in_and_out_and_the_history_says_so(app, world, session):
    owner, outsider = world["people"]["researcher-owner"], world["people"]["researcher-outsider"]
    client = app.test_client()
    assert sign_in(client, owner.email).status_code == 302
    page = f"/campaigns/{SLUG}/members"
    added = client.post(page, data={"csrf_token": csrf_token(client, page), "email": outsider.email.upper()})
    assert added.status_code == 302
    other = app.test_client()
    assert sign_in(other, outsider.email).status_code == 302
    assert other.get(f"/campaigns/{SLUG}").status_code == 200

    again = client.post(page, data={"csrf_token": csrf_token(client, page), "email": outsider.email})
    assert again.status_code == 400 and "already a member" in again.get_data(as_text=True)
    unknown = client.post(page, data={"csrf_token": csrf_token(client, page), "email": "nobody@x.org"})
    assert unknown.status_code == 400 and "no active account" in unknown.get_data(as_text=True)

    removed = client.post(f"{page}/remove", data={"csrf_token": csrf_token(client, page),
                                                  "user_id": str(outsider.id)})
    assert removed.status_code == 302
    assert other.get(f"/campaigns/{SLUG}").status_code == 404
    changes = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "campaign", AuditEntry.entity_id == str(world["campaign"].id),
        AuditEntry.actor == owner.email).order_by(AuditEntry.id)).all()
    member = world["people"]["viewer-member"].email
    assert [(e.before, e.after) for e in changes] == [
        ({"members": [member]}, {"members": sorted([member, outsider.email])}),
        ({"members": sorted([member, outsider.email])}, {"members": [member]}),
    ]


def test_only_the_owner_or_an_admin_changes_members_or_the_embargo(app, world, session):
    member = world["people"]["viewer-member"]
    researcher = make_user(session, role="researcher")
    session.add(CampaignMember(campaign_id=world["campaign"].id, user_id=researcher.id, added_by="t"))
    session.commit()
    client = app.test_client()
    assert sign_in(client, researcher.email).status_code == 302
    page = f"/campaigns/{SLUG}/members"
    refused = client.post(page, data={"csrf_token": csrf_token(client, page), "email": member.email})
    assert refused.status_code == 403
    edit = f"/campaigns/{SLUG}/edit"
    form = {"csrf_token": csrf_token(client, edit), "title": TITLE, "status": "draft",
            "subject": "FOI request", "request_text": "Dear {{ authority.name }}, ...",
            "embargo_until": "", "notes": ""}
    lifted = client.post(edit, data=form)
    assert lifted.status_code == 400
    assert "only the campaign&#39;s owner or an admin may set, move or lift its embargo" in \
        lifted.get_data(as_text=True)
    session.expire_all()
    assert world["campaign"].embargo_until == EMBARGO
    before = session.scalar(select(func.count()).select_from(CampaignMember))
    assert before == 2


def test_a_signed_out_visitor_is_sent_to_sign_in_not_told_the_campaign_exists(app, world):
    response = app.test_client().get(f"/campaigns/{SLUG}")
    assert response.status_code == 302 and "/auth/sign-in" in response.location
    unknown = app.test_client().get("/campaigns/no-such-campaign")
    assert unknown.status_code == 302


def test_the_operator_manages_members_from_the_command_line(world, runner, session):
    from foitrack.cli import main

    outsider = world["people"]["researcher-outsider"].email
    member = world["people"]["viewer-member"].email
    added = runner.invoke(main, ["campaigns", "members", SLUG, "--add", outsider])
    assert added.exit_code == 0, added.output
    assert f"member: {outsider} (researcher)" in added.stdout
    # One bad address and nothing changes, the good one included.
    refused = runner.invoke(main, ["campaigns", "members", SLUG, "--remove", outsider,
                                   "--remove", "nobody@example.org"])
    assert refused.exit_code == 1 and "no account with the address 'nobody@example.org'" in refused.output
    listed = runner.invoke(main, ["campaigns", "members", SLUG])
    # Members by name: "Test researcher" before "Test viewer".
    assert listed.stdout.splitlines() == [
        f"owner: {world['people']['researcher-owner'].email}",
        f"member: {outsider} (researcher)", f"member: {member} (viewer)"]
    assert runner.invoke(main, ["campaigns", "members", SLUG, "--remove", outsider]).exit_code == 0
    session.expire_all()
    assert [m.user_id for m in session.scalars(select(CampaignMember))] == [
        world["people"]["viewer-member"].id]


def test_the_api_answers_for_a_hidden_campaign_in_the_words_it_uses_for_none(app, world, session):
    _, token = api_tokens.create_token(session, TEST_ACTOR, world["people"]["viewer-outsider"], "t")
    session.commit()
    client = app.test_client()
    args = {**SAMPLE_ARGS, "event_id": world["event_id"], "figure_id": world["figure"].id,
            "proposal_id": world["proposal_id"]}
    compared = 0
    for rule, method in _campaign_routes(app):
        if not rule.endpoint.startswith("api.") or method != "GET":
            continue
        answers = []
        for slug in (SLUG, "never-was-2019"):
            response = client.get(rule.build({**args, "slug": slug}, append_unknown=False)[1],
                                  headers={"Authorization": f"Bearer {token}"})
            answers.append((response.status_code, response.mimetype,
                            response.get_data(as_text=True).replace(slug, "SLUG")))
        assert answers[0] == answers[1], rule.rule
        compared += 1
    assert compared >= 6


def test_a_repeat_keeps_the_embargo_and_its_people(app, world, session):
    owner, member = world["people"]["researcher-owner"], world["people"]["viewer-member"]
    client = app.test_client()
    assert sign_in(client, owner.email).status_code == 302
    page = f"/campaigns/{SLUG}/repeat"
    made = client.post(page, data={"csrf_token": csrf_token(client, page), "title": "Next year's",
                                   "slug": "secret-2020"})
    assert made.status_code == 302
    for who, status in (("viewer-member", 200), ("researcher-owner", 200), ("viewer-outsider", 404)):
        visitor = app.test_client()
        assert sign_in(visitor, world["people"][who].email).status_code == 302
        assert visitor.get("/campaigns/secret-2020").status_code == status, who
    session.expire_all()
    repeat = session.scalar(select(CampaignMember.user_id).where(
        CampaignMember.campaign_id != world["campaign"].id))
    assert repeat == member.id


def test_a_visible_campaign_does_not_name_the_hidden_one_it_repeats(app, world, session):
    create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'slug = "grooming-2019"', f'slug = "open-2020"\nrepeat_of = "{SLUG}"').replace(
        'authorities = "england-wales"', 'authorities = ["cumbria"]'))
    session.commit()
    for who, shown in (("viewer-outsider", False), ("viewer-member", True)):
        visitor = app.test_client()
        assert sign_in(visitor, world["people"][who].email).status_code == 302
        for path in ("/campaigns/open-2020", "/campaigns/open-2020/campaign.toml"):
            body = visitor.get(path).get_data(as_text=True)
            assert (SLUG in body or TITLE in body) is shown, (who, path)


def _signed_in(app, user):
    client = app.test_client()
    assert sign_in(client, user.email).status_code == 302
    return client


def test_a_file_no_page_links_to_is_for_admins_only(app, world, session):
    store = FileStore(app.config["STORAGE_PATH"])
    orphan = StoredFile(sha256=store.put(b"an old template"), filename="old.xlsx", size=15,
                        content_type="application/octet-stream", created_by="tests")
    session.add(orphan)
    session.commit()
    people = world["people"]
    for who, status in (("researcher-outsider", 404), ("viewer-member", 404), ("admin", 200)):
        assert _signed_in(app, people[who]).get(f"/files/{orphan.public_id}").status_code == status, who


def test_a_triage_reply_naming_a_hidden_campaign_is_kept_from_outsiders(app, world, session):
    store = FileStore(app.config["STORAGE_PATH"])
    for subject, key in ((f"FOI: {TITLE.upper()}, our ref 123", "<a@x>"),
                         ("A question about parking", "<b@x>")):
        message = EmailMessage()
        message["From"], message["Subject"], message["Message-ID"] = "someone@nowhere.example", subject, key
        message.set_content("Figures attached.")
        inbound.import_file(session, TEST_ACTOR, store, "t.eml", bytes(message), dt.date(2019, 6, 1))
    session.commit()
    naming, other = (session.scalar(select(InboundMessage).where(InboundMessage.message_key == key))
                     for key in ("<a@x>", "<b@x>"))
    assert naming.request_id is None and other.request_id is None  # both wait in triage
    outsider = _signed_in(app, world["people"]["researcher-outsider"])
    member = _signed_in(app, world["people"]["researcher-owner"])
    assert "our ref 123" not in outsider.get("/mail/inbox").get_data(as_text=True)
    assert "A question about parking" in outsider.get("/mail/inbox").get_data(as_text=True)
    assert "our ref 123" in member.get("/mail/inbox").get_data(as_text=True)
    assert outsider.get(f"/files/{naming.raw_file.public_id}").status_code == 404
    assert outsider.get(f"/files/{other.raw_file.public_id}").status_code == 200
    assert member.get(f"/files/{naming.raw_file.public_id}").status_code == 200
    # Filing it by guessing its number is refused as if it were not there.
    request = world["request"]
    page = "/mail/inbox"
    refused = outsider.post(f"/mail/inbox/{naming.id}/assign",
                            data={"csrf_token": csrf_token(outsider, page), "request_id": str(request.id)})
    assert refused.status_code in (302, 404)
    session.expire_all()
    assert session.get(InboundMessage, naming.id).request_id is None


def test_a_digest_is_seen_by_its_recipient_and_admins_only(app, world, session):
    from foitrack.models import MessageKind, OutgoingMessage

    owner = world["people"]["researcher-owner"]
    session.add(OutgoingMessage(kind=MessageKind.digest, to_address=owner.email, created_by="tests",
                                subject="foitrack: 7 requests became overdue on 2019-06-03",
                                body="...", message_id="<digest-1@x>"))
    session.commit()
    for who, shown in (("researcher-owner", True), ("admin", True), ("researcher-outsider", False),
                       ("viewer-member", False)):
        page = _signed_in(app, world["people"][who]).get("/mail/outbox").get_data(as_text=True)
        assert ("7 requests became overdue" in page) is shown, who
