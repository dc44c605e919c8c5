"""Every route, for every role and for a signed-out visitor: the one access table holds."""

from __future__ import annotations

import datetime as dt
import io
from email.message import EmailMessage

import pytest
from flask import Flask
from sqlalchemy import select

from foitrack.models import Figure, Role, StoredFile
from foitrack.services import api_tokens, inbound, series
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.services.removed_figures import record_removal
from foitrack.services.requests import add_event
from foitrack.storage import FileStore
from foitrack.web import permissions
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.pages import SAMPLE_ARGS, csrf_token, sign_in

VISITORS = [None, Role.viewer, Role.researcher, Role.admin]
# Sample values for URL parameters, so every rule can be visited.
# One slug serves both the authority and a campaign made for this test.


def _routes(app: Flask):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_in_the_access_table(app):
    endpoints = [rule.endpoint for rule in app.url_map.iter_rules()]
    assert permissions.unlisted_endpoints(endpoints) == []
    assert set(permissions.ROUTE_ROLES) == set(endpoints), "the table lists routes that do not exist"


# The only routes open without sign-in, by design: the public data portal (/data/, published
# releases past their embargo) and what signing in itself needs. Any other route is checked
# below to send a signed-out visitor to sign in.
PUBLIC_BY_DESIGN = {"static", "main.health", "auth.login", "auth.invite", "api.openapi",
                    "public_data.index", "public_data.campaign", "public_data.version",
                    "public_data.corrections", "public_data.authority", "public_data.file",
                    # A partner's private link: its token, not a session, lets them in.
                    "public_data.shared_release", "public_data.shared_corrections",
                    "public_data.shared_authority", "public_data.shared_file"}


def test_only_the_routes_meant_to_be_public_are(app):
    public = {endpoint for endpoint, role in permissions.ROUTE_ROLES.items()
              if role is permissions.PUBLIC}
    assert public == PUBLIC_BY_DESIGN
    portal = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith("/data/")}
    assert portal == {e for e in PUBLIC_BY_DESIGN if e.startswith("public_data.")}


def test_a_route_missing_from_the_table_stops_the_app(app, monkeypatch):
    from foitrack import create_app

    monkeypatch.delitem(permissions.ROUTE_ROLES, "users.index")
    with pytest.raises(RuntimeError, match="no entry in foitrack.web.permissions: users.index"):
        create_app(
            {"DATABASE_URL": app.config["DATABASE_URL"], "INSTANCE_PATH": app.instance_path}
        )


@pytest.mark.slow
@pytest.mark.parametrize("visitor", VISITORS, ids=lambda v: v.value if v else "signed-out")
def test_every_route_for_every_role(app, session, visitor):
    load_forces(session)
    admin = make_user(session, role="admin")
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'slug = "grooming-2019"', 'slug = "west-mercia"').replace(
        'authorities = "england-wales"', 'authorities = ["west-mercia"]'))
    note = add_event(session, TEST_ACTOR, campaign.requests[0], "note", dt.date(2019, 5, 1),
                     today=dt.date(2019, 5, 1))
    # One figure, so the chart routes have something to draw rather than a 404.
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,,,122,,Reply\n"
        b"E23000016,offences,2018-19,platform,Instagram,73,,Reply\n"))
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "x@nowhere.example", "Hi", "<a@b>"
    message.set_content("A message for triage")
    inbound.import_file(session, TEST_ACTOR, FileStore(app.config["STORAGE_PATH"]), "m.eml",
                        bytes(message), dt.date(2019, 5, 1))
    session.commit()
    waiting = inbound.triage(session)[0]
    figure_id = session.scalar(select(Figure.id).where(Figure.category_id.is_(None)))
    # The sample file: a figure's source, which every role may download (a triage message's
    # files are for researchers only).
    source = StoredFile(sha256=FileStore(app.config["STORAGE_PATH"]).put(b"source"),
                        filename="source.csv", content_type="text/csv", size=6, created_by="tests")
    session.get(Figure, figure_id).source_file = source
    # A removed figure, so the admin's restore route has one to put back (an empty grid post
    # is refused now, so nothing else in the walk removes one).
    removed = session.scalars(select(Figure).where(Figure.id != figure_id)).one()
    removed_id = removed.id
    record_removal(session, TEST_ACTOR, removed)
    session.delete(removed)
    session.commit()
    # A finished job of the campaign's, so its page shows and its cancel is refused as input.
    from foitrack.models import JobKind
    from foitrack.services import jobs

    job = jobs.create(session, TEST_ACTOR, JobKind.send, campaign, finished="nothing to send")
    # A series of the same name holding the campaign, so the series pages have one to show.
    series.link(session, TEST_ACTOR, series.create_series(
        session, TEST_ACTOR, slug="west-mercia", name="West Mercia series"), campaign)
    session.commit()
    # Figures proposed from a PDF reply, so the review page and a crop have one to show.
    from foitrack.models import FigureProposal
    from foitrack.services import extraction, proposals
    from tests.test_extraction_cli import reply_pdf

    pdf = reply_pdf()
    kept = StoredFile(sha256=FileStore(app.config["STORAGE_PATH"]).put(pdf), filename="reply.pdf",
                      content_type="application/pdf", size=len(pdf), created_by="tests")
    proposals.make(session, FileStore(app.config["STORAGE_PATH"]), campaign.requests[0],
                   [extraction.ReplyFile("reply.pdf", pdf, kept)])
    session.commit()
    proposal_id = session.scalar(select(FigureProposal.id).where(FigureProposal.page.is_not(None)))
    sample_args = {**SAMPLE_ARGS, "user_id": admin.id, "event_id": note.id, "figure_id": figure_id,
                   "message_id": waiting.id, "file_id": source.public_id, "job_id": job.id,
                   "proposal_id": proposal_id}
    client = app.test_client()
    if visitor is not None:
        user = admin if visitor is Role.admin else make_user(session, role=visitor.value)
        assert sign_in(client, user.email).status_code == 302

    # The API is reached with a token of the same role (a cookie never opens it).
    # The token page's sample is a second token of the visitor's, which the matrix may revoke.
    api_headers = {}
    if visitor is not None:
        _, plain = api_tokens.create_token(session, TEST_ACTOR, user, "matrix")
        spare, _ = api_tokens.create_token(session, TEST_ACTOR, user, "to revoke")
        session.commit()
        api_headers = {"Authorization": f"Bearer {plain}"}
        sample_args["token_id"] = spare.id
    else:
        sample_args["token_id"] = 1

    checked = 0
    for rule, method in _routes(app):
        args = ({**sample_args, "figure_id": removed_id}
                if rule.endpoint == "removed_figures.restore" else sample_args)
        url = rule.build(args, append_unknown=False)[1]
        needed = permissions.ROUTE_ROLES[rule.endpoint]
        if rule.endpoint.startswith("api."):
            response = client.open(url, method=method, headers=api_headers,
                                   json={} if method == "POST" else None)
            allowed = needed is None or (visitor is not None and visitor.allows(needed))
            if allowed:
                # Allowed in: an empty body may be refused as input, never as access.
                assert response.status_code not in (401, 403, 500), (visitor, method, url)
            else:
                assert response.status_code == (401 if visitor is None else 403), (visitor, method, url)
                assert response.mimetype == "application/problem+json"
            checked += 1
            continue
        if method == "GET":
            response = client.get(url)
        else:
            # A real form post: with the CSRF token, but no fields, so nothing is changed.
            response = client.post(url, data={"csrf_token": csrf_token(client, "/authorities/")
                                              if visitor else csrf_token(client)})
        # Read the whole body: a streamed download keeps its database session open until then.
        response.get_data()
        response.close()
        allowed = needed is None or (visitor is not None and visitor.allows(needed))
        if rule.endpoint.startswith("public_data."):
            # Public by design, to everyone: nothing is published here, so all but the list
            # are unknown (a 404), and none asks anyone to sign in.
            assert response.status_code == (200 if rule.endpoint == "public_data.index"
                                            else 404), (visitor, method, url)
        elif allowed:
            assert response.status_code in (200, 302, 400), (visitor, method, url, response.status_code)
            if response.status_code == 302:
                assert "/auth/sign-in" not in response.location or rule.endpoint == "auth.logout"
        elif visitor is None:
            assert response.status_code == 302, (method, url)
            assert response.location.startswith("/auth/sign-in?next="), (method, url)
        else:
            assert response.status_code == 403, (visitor, method, url, response.status_code)
        checked += 1
        if rule.endpoint == "auth.logout" and visitor is not None and allowed:
            assert sign_in(client, user.email).status_code == 302
    assert checked >= len(permissions.ROUTE_ROLES)
