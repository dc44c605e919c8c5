"""Probes over every route: a NUL byte in any part of a GET's address is refused before it
reaches the database, and nothing answered to a signed-in user or an API token is cacheable."""

from __future__ import annotations

import datetime as dt
import io
import re
from email.message import EmailMessage

import pytest
from flask import Flask
from sqlalchemy import select

from foitrack.models import Figure, JobKind
from foitrack.services import api_tokens, inbound, jobs
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.services.requests import add_event
from foitrack.storage import FileStore
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.pages import SAMPLE_ARGS, sign_in

# Every query parameter a page or the API reads, each carrying a NUL.
NUL_QUERY = "&".join(f"{name}=%00" for name in (
    "q", "status", "region", "set", "authorities", "checked", "page", "per_page", "table", "next",
    "kind", "measure", "period", "dimension", "category", "authority", "sort", "download",
    "map_measure", "map_period", "map_category", "map_show", "campaign", "role", "show"))
CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@pytest.fixture
def world(app: Flask, session):
    """An admin signed in (pages) and holding a token (API), and a campaign with a figure, a
    note and a message waiting in triage, so that every route has something to find."""
    load_forces(session)
    admin = make_user(session, role="admin")
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'slug = "grooming-2019"', 'slug = "west-mercia"').replace(
        'authorities = "england-wales"', 'authorities = ["west-mercia"]'))
    note = add_event(session, TEST_ACTOR, campaign.requests[0], "note", dt.date(2019, 5, 1),
                     today=dt.date(2019, 5, 1))
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,,,122,,Reply\n"))
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "x@nowhere.example", "Hi", "<a@b>"
    message.set_content("A message for triage")
    inbound.import_file(session, TEST_ACTOR, FileStore(app.config["STORAGE_PATH"]), "m.eml",
                        bytes(message), dt.date(2019, 5, 1))
    session.commit()
    waiting = inbound.triage(session)[0]
    spare, plain = api_tokens.create_token(session, TEST_ACTOR, admin, "probes")
    session.commit()
    job = jobs.create(session, TEST_ACTOR, JobKind.send, campaign, finished="nothing to send")
    session.commit()
    args = {**SAMPLE_ARGS, "user_id": admin.id, "event_id": note.id, "message_id": waiting.id,
            "figure_id": session.scalar(select(Figure.id)), "file_id": waiting.raw_file.public_id,
            "token_id": spare.id, "job_id": job.id}
    client = app.test_client()
    assert sign_in(client, admin.email).status_code == 302
    return {"client": client, "args": args, "api": {"Authorization": f"Bearer {plain}"}}


def _get_rules(app: Flask):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" in (rule.methods or ()) and rule.endpoint != "auth.logout":
            yield rule


def _address(rule, args: dict, poisoned: bool) -> str:
    """The rule's path with its parameters filled in; each text one ends in %00 if poisoned."""
    def fill(match: re.Match) -> str:
        converter, name = match.group(1), match.group(2)
        value = str(args[name])
        return value + "%00" if poisoned and converter not in ("int", "float") else value
    return CONVERTER.sub(fill, rule.rule)


def _get(world, rule, url: str):
    headers = world["api"] if rule.endpoint.startswith("api.") else {}
    response = world["client"].get(url, headers=headers)
    response.get_data()  # a streamed download holds its session until read
    response.close()
    return response


def test_a_nul_in_any_get_address_is_refused_before_the_database(app, world):
    """Issue 23, point 9: on PostgreSQL each of these was a 500 (it cannot compare text holding
    a NUL). Now a NUL in the path is an unknown page (404) and one in the query string is
    refused naming the parameter (400 on a page, 422 on the API), on both databases."""
    probed = 0
    for rule in _get_rules(app):
        api = rule.endpoint.startswith("api.")
        if any(c not in ("int", "float") for c, _ in CONVERTER.findall(rule.rule)):
            response = _get(world, rule, _address(rule, world["args"], poisoned=True))
            assert response.status_code == 404, (rule.rule, response.status_code)
            if api:
                assert response.mimetype == "application/problem+json"
        url = _address(rule, world["args"], poisoned=False) + "?" + NUL_QUERY
        response = _get(world, rule, url)
        assert response.status_code == (422 if api else 400), (url, response.status_code)
        # Names the first parameter refused ('q', HTML-escaped on a page).
        assert re.search(r"parameter (&#39;|')q(&#39;|')", response.get_data(as_text=True)), url
        probed += 1
    assert probed >= 40


def test_a_nul_in_a_parameter_s_name_is_refused_too(world):
    response = world["client"].get("/authorities/?q%00=x")
    assert response.status_code == 400
    response = world["client"].get("/api/v1/authorities?x%00=1", headers=world["api"])
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "x\x00"


def test_every_page_for_a_signed_in_user_is_no_store(app, world):
    """Issue 23, point 21: pages and exports held embargoed work with no Cache-Control, so a
    shared browser or proxy could keep them. Every 200 to a signed-in user or a token is
    no-store; static files stay cacheable."""
    crawled = 0
    for rule in _get_rules(app):
        response = _get(world, rule, _address(rule, world["args"], poisoned=False))
        if response.status_code != 200:
            continue
        crawled += 1
        if rule.endpoint == "static":
            assert "no-store" not in response.headers.get("Cache-Control", "")
        else:
            assert response.headers.get("Cache-Control") == "no-store", rule.rule
    assert crawled >= 35


def test_public_pages_for_a_visitor_stay_cacheable(app, client):
    for url in ("/healthz", "/api/v1/openapi.json", "/static/foitrack.css"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.headers.get("Cache-Control", ""), url


def test_a_response_that_sets_a_cookie_is_no_store(client):
    # The sign-in form keeps its CSRF secret in the session: the page sets the cookie.
    response = client.get("/auth/sign-in")
    assert "session=" in response.headers.get("Set-Cookie", "")
    assert response.headers["Cache-Control"] == "no-store"
