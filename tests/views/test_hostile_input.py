"""Hostile input through the forms and the API: never a server error, nothing half-written,
everything escaped on the page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from foitrack.models import Campaign, Event
from foitrack.services import api_tokens
from foitrack.services.campaigns import create_campaign
from tests.factories import TEST_ACTOR, load_forces, make_user
from tests.pages import csrf_token, sign_in

SCRIPT = '<script>alert("x")</script>'
CORPUS = {
    "script": SCRIPT,
    "html": '<img src=x onerror=alert(1)><b>bold</b>"\'&',
    "nul": "before\x00after",
    "control": "bell\x07 escape\x1b[31m tab\t",
    "rtl": "\u202egnp.exe \u200b\ufeff zero widths",
    "astral": "\U0001f600 \U0001d54f emoji and maths",
    "long": "x" * 1_000_000,
    "jinja": "{{ config }} {% raw %}",
    "sql": "'; DROP TABLE campaign; --",
}


@pytest.fixture
def researcher(app, session):
    load_forces(session)
    client = app.test_client()
    assert sign_in(client, make_user(session).email).status_code == 302
    return client


@pytest.mark.parametrize("name", list(CORPUS))
def test_a_campaign_form_refuses_or_escapes_hostile_text(researcher, session, name):
    text = CORPUS[name]
    before = session.scalar(select(func.count()).select_from(Campaign))
    response = researcher.post("/campaigns/new", data={
        "title": text[:300], "slug": "", "target_set": "england-wales", "request_text": text,
        "notes": text, "csrf_token": csrf_token(researcher, "/campaigns/new")})
    assert response.status_code in (302, 400), response.status_code
    if name == "nul":  # no database here may keep it: refused by name, before any view
        assert response.status_code == 400 and "&#39;title&#39;" in response.get_data(as_text=True)
    after = session.scalar(select(func.count()).select_from(Campaign))
    if response.status_code == 400:
        assert after == before  # nothing half-written
        page = response.get_data(as_text=True)
        assert "There is a problem" in page or "cannot be stored" in page
    else:
        assert after == before + 1
        page = researcher.get(response.location).get_data(as_text=True)
    assert SCRIPT not in page and "<img src=x" not in page


# JSON can carry what a form cannot: an unpaired surrogate escape.
API_CORPUS = {**CORPUS, "lone surrogate": "\udcff"}


@pytest.mark.parametrize("name", list(API_CORPUS))
def test_an_event_note_through_the_api_is_kept_or_refused_never_a_500(app, session, name):
    load_forces(session)
    create_campaign(session, TEST_ACTOR, title="H", slug="h", request_text="Please.",
                    authority_keys=["kent"])
    user = make_user(session)
    _, plain = api_tokens.create_token(session, TEST_ACTOR, user, "hostile")
    session.commit()
    client = app.test_client()
    response = client.post("/api/v1/campaigns/h/requests/kent/events",
                           json={"kind": "note", "occurred_on": "2020-01-01", "note": API_CORPUS[name]},
                           headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code in (201, 422), response.status_code
    events = session.scalar(select(func.count()).select_from(Event))
    assert events == (1 if response.status_code == 201 else 0)
