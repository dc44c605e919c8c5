"""The API's answers give nothing away: a hidden campaign is answered as a missing one, query
parameters are held to what the document says, and absolute links are built on the configured
address, never on the Host header a client sends."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from flask import Flask

from foitrack import create_app
from foitrack.config import ConfigError, load_config
from foitrack.domain.clock import today_in_uk
from foitrack.services import api_tokens
from foitrack.services.design import create_from_file
from foitrack.web import api
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user

HIDDEN, MISSING = "hidden-2019", "nothing-2019"
# Each parameter a campaign route reads, valid and invalid, and the path's other parts.
QUERIES = [{}, {"status": ""}, {"status": "bogus"}, {"status": "sent"}, {"table": "bogus"},
           {"table": "figures"}, {"checked": "maybe"}, {"checked": "true"}, {"page": "0"},
           {"page": "2"}, {"per_page": "x"}, {"per_page": "1000"}]
PATH_VALUES = {"fmt": ["csv", "bogus", "xlsx"], "authority": ["west-mercia", "E23000016", "nobody"]}
EVENT_BODIES = [{}, {"kind": "bogus"}, {"kind": "note", "occurred_on": "2019-05-01"},
                {"kind": "note", "occurred_on": "2019-05-01", "note": "x" * 20001}]


@pytest.fixture
def hidden(session):
    """An embargoed campaign owned by someone else, and a token of a researcher outside it."""
    load_forces(session)
    owner = make_user(session, role="researcher")
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'slug = "grooming-2019"', f'slug = "{HIDDEN}"').replace(
        'authorities = "england-wales"', 'authorities = ["west-mercia", "cumbria"]'), owner=owner)
    campaign.embargo_until = today_in_uk() + dt.timedelta(days=30)
    outsider = make_user(session, role="researcher")
    _, plain = api_tokens.create_token(session, TEST_ACTOR, outsider, "outside")
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _slug_routes():
    for op in api.OPERATIONS:
        if "<slug>" in op.rule:
            yield op


def _paths(rule: str, slug: str):
    names = [name for name in re.findall(r"<(\w+)>", rule) if name != "slug"]
    combos = [{}]
    for name in names:
        combos = [{**c, name: value} for c in combos for value in PATH_VALUES[name]]
    for combo in combos:
        path = rule.replace("<slug>", slug)
        for name, value in combo.items():
            path = path.replace(f"<{name}>", value)
        yield "/api/v1" + path


def test_a_hidden_campaign_is_answered_as_a_missing_one(client, hidden):
    """Issue 23, point 10: a bad fmt, status or table gave 404 for a hidden campaign and 422
    for a missing one, telling an outsider which slugs exist. Now every route taking a slug
    answers both the same (status and body), with valid and invalid parameters alike."""
    compared = 0
    for op in _slug_routes():
        for hidden_path, missing_path in zip(_paths(op.rule, HIDDEN), _paths(op.rule, MISSING),
                                             strict=True):
            for query in QUERIES:
                for body in (EVENT_BODIES if op.method == "POST" else [None]):
                    answers = []
                    for path in (hidden_path, missing_path):
                        response = client.open(path, method=op.method, query_string=query,
                                               json=body, headers=hidden)
                        answers.append((response.status_code,
                                        response.get_data(as_text=True).replace(HIDDEN, "<slug>")
                                        .replace(MISSING, "<slug>")))
                    assert answers[0] == answers[1], (op.method, hidden_path, query, body)
                    assert answers[0][0] == 404, (op.method, hidden_path, query, body)
                    compared += 1
    assert compared > 200


@pytest.mark.parametrize(("query", "field"), [
    ({"region": "x" * 101}, "region"), ({"q": "x" * 201}, "q"), ({"set": ""}, "set"),
    ({"set": "x" * 81}, "set"), ({"page": "1.5"}, "page"), ({"per_page": "501"}, "per_page")])
def test_authority_filters_are_held_to_the_document(client, grooming, tokens, query, field):
    """Issue 23, point 19: a region over 100 and a search over 200 characters, and an empty
    set, were accepted though the document rules them out."""
    response = client.get("/api/v1/authorities", query_string=query, headers=tokens["viewer"])
    assert response.status_code == 422, query
    assert [e["field"] for e in response.json["errors"]] == [field]


@pytest.mark.parametrize("url", ["/api/v1/campaigns?status=",
                                 "/api/v1/campaigns/grooming-2019/requests?status="])
def test_an_empty_status_is_refused(client, grooming, tokens, url):
    response = client.get(url, headers=tokens["viewer"])
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "status"
    assert "must be one of" in response.json["errors"][0]["message"]


def test_the_longest_values_the_document_allows_are_accepted(client, grooming, tokens):
    response = client.get("/api/v1/authorities", query_string={"region": "x" * 100, "q": "y" * 200},
                          headers=tokens["viewer"])
    assert response.status_code == 200
    assert response.json["items"] == []


@pytest.mark.parametrize("key", ["west-mercia", "WEST-MERCIA", "E23000016", "e23000016"])
def test_an_authority_is_found_by_slug_or_code_in_any_case_on_both_routes(client, grooming,
                                                                          tokens, key):
    """Issue 23, point 19: documented as "slug or ONS code, lower-cased", but a lower-case code
    was a 404, and the two routes took different forms."""
    one = client.get(f"/api/v1/authorities/{key}", headers=tokens["viewer"])
    assert one.status_code == 200, key
    assert one.json["slug"] == "west-mercia"
    asked = client.get(f"/api/v1/campaigns/grooming-2019/requests/{key}", headers=tokens["viewer"])
    assert asked.status_code == 200, key
    assert asked.json["authority_code"] == "E23000016"


def test_the_document_says_how_an_authority_is_named(client):
    document = client.get("/api/v1/openapi.json").json
    parameter = document["paths"]["/api/v1/authorities/{authority}"]["get"]["parameters"][0]
    assert "in any case" in parameter["description"]
    assert re.fullmatch(parameter["schema"]["pattern"], "E23000016")
    request_parameters = document["paths"]["/api/v1/campaigns/{slug}/requests/{authority}"]["get"][
        "parameters"]
    assert parameter in request_parameters


# ---- the configured address ------------------------------------------------------------------

@pytest.fixture
def app_at(database_url, tmp_path, app):
    """An app configured with FOITRACK_BASE_URL (``app`` empties the tables afterwards)."""
    made = []

    def build(base: str) -> Flask:
        made.append(create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "i"),
                                "SECRET_KEY": uuid.uuid4().hex, "TESTING": True,
                                "BASE_URL": base}))
        return made[-1]

    yield build
    for built in made:
        built.extensions["foitrack.db"].engine.dispose()


def test_links_are_built_on_the_base_url_not_the_host_header(app_at, grooming, tokens):
    """Issue 23, point 20: the Host header a client sent came back in the document's servers
    and in every link, so a poisoned cache or a proxy could hand out links to another site."""
    client = app_at("https://foi.example.org/").test_client()
    evil = {"Host": "evil.example", **tokens["viewer"]}
    document = client.get("/api/v1/openapi.json", headers=evil).json
    assert document["servers"] == [{"url": "https://foi.example.org"}]
    page = client.get("/api/v1/authorities?per_page=1", headers=evil).json
    assert page["next"] == "https://foi.example.org/api/v1/authorities?per_page=1&page=2"
    campaign = client.get("/api/v1/campaigns/grooming-2019", headers=evil).json
    assert campaign["links"]["figures"] == "https://foi.example.org/api/v1/campaigns/grooming-2019/figures"
    assert all(link.startswith("https://foi.example.org/api/v1/") for link in campaign["links"].values())
    assert "evil.example" not in client.get("/api/v1/campaigns", headers=evil).get_data(as_text=True)


def test_a_base_url_with_a_path_is_the_site_s_root(app_at, grooming, tokens):
    client = app_at("https://example.org/foitrack").test_client()
    page = client.get("/api/v1/campaigns", headers=tokens["viewer"]).json
    assert page["items"][0]["links"]["aggregate"] == (
        "https://example.org/foitrack/api/v1/campaigns/grooming-2019/aggregate")


def test_without_a_base_url_links_follow_the_request(client, grooming, tokens):
    document = client.get("/api/v1/openapi.json", headers={"Host": "foi.test"}).json
    assert document["servers"] == [{"url": "http://foi.test"}]


@pytest.mark.parametrize(("base", "secure"), [("https://foi.example.org", True),
                                              ("http://foi.internal", False)])
def test_auto_secure_cookies_follow_the_base_url_s_scheme(app_at, base, secure):
    """Issue 23, point 20: behind a proxy that connects from 127.0.0.1 every request looked like
    the development server's, and `auto` left cookies without Secure."""
    client = app_at(base).test_client()
    response = client.get("/auth/sign-in", base_url="http://127.0.0.1")
    cookie = response.headers["Set-Cookie"]
    assert ("; Secure" in cookie) is secure


@pytest.mark.parametrize(("raw", "problem"), [
    ("foi.example.org", "must start with https:// or http://"),
    ("ftp://foi.example.org", "must start with https:// or http://"),
    ("https://", "has no host name"),
    ("https://foi.example.org/?x=1", "must have no query"),
    ("https://foi.example.org/#top", "must have no query"),
    ("https://user:pw@foi.example.org", "must not hold a user name or password"),
    ("https://foi.example.org:http/", "is not a URL"),
    ("https://foi.example.org/a b", "must not hold spaces"),
])
def test_a_bad_base_url_stops_the_app_at_startup(tmp_path, monkeypatch, raw, problem):
    monkeypatch.setenv("FOITRACK_BASE_URL", raw)
    with pytest.raises(ConfigError, match=f"FOITRACK_BASE_URL {re.escape(problem)}"):
        load_config(tmp_path, {"SECRET_KEY": "x"})


def test_a_good_base_url_loses_its_final_slash(tmp_path, monkeypatch):
    from foitrack.config import base_url

    assert base_url(" https://foi.example.org/ ") == "https://foi.example.org"
    assert base_url("") is None
    monkeypatch.setenv("FOITRACK_BASE_URL", "https://foi.example.org/foitrack/")
    config = load_config(tmp_path, {"SECRET_KEY": "x"})
    assert config["BASE_URL"] == "https://foi.example.org/foitrack"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_explicit_secure_cookies_win_over_the_base_url(tmp_path, monkeypatch):
    monkeypatch.setenv("FOITRACK_BASE_URL", "https://foi.example.org")
    monkeypatch.setenv("FOITRACK_SECURE_COOKIES", "0")
    assert load_config(tmp_path, {"SECRET_KEY": "x"})["SESSION_COOKIE_SECURE"] is False
