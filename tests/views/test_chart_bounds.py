"""Issue 23, point 18: a viewer could force a fresh chart render (0.6-1.7 s each) per request
by spelling ?authorities= differently. Each choice of authorities is now cached under one
spelling, and fresh renders are limited per person per minute (429 with Retry-After)."""

from __future__ import annotations

import itertools

import pytest

from tests.factories import make_user
from tests.pages import sign_in

BASE = "/campaigns/lockdown-2020"
CHART = f"{BASE}/charts/national-total-offences.svg"
FORCES = ["cleveland", "staffordshire", "west-mercia", "surrey", "sussex"]


def test_spellings_of_the_same_authorities_are_drawn_once(client, lockdown_viewer, renders):
    spellings = ["E23000031,E23000033", "sussex,surrey", "E23000033, surrey,sussex",
                 " surrey , E23000031 ,sussex"]
    images = set()
    for spelling in spellings:
        response = client.get(CHART, query_string={"authorities": spelling})
        assert response.status_code == 200, spelling
        images.add(response.get_data())
    assert len(renders) == 1
    assert len(images) == 1
    # And the chart really is of those two forces, not the nation's.
    assert b"Surrey" in images.pop()


def test_a_set_and_no_choice_keep_their_own_charts(client, lockdown_viewer, renders):
    assert client.get(CHART).status_code == 200
    assert client.get(CHART, query_string={"authorities": "  "}).status_code == 200
    assert len(renders) == 1


def test_a_flood_of_new_choices_is_refused_after_the_limit(app, client, lockdown_viewer, session,
                                                          renders):
    app.config["CHART_RENDERS_PER_MINUTE"] = 3
    choices = [",".join(pair) for pair in itertools.combinations(FORCES, 2)]
    answers = [client.get(CHART, query_string={"authorities": c}) for c in choices[:5]]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert len(renders) == 3
    refused = answers[3]
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert "Too many new charts" in refused.get_data(as_text=True)
    # What was drawn is still served, and the same choice spelt another way too.
    again = client.get(CHART, query_string={"authorities": ",".join(reversed(choices[0].split(",")))})
    assert again.status_code == 200
    assert len(renders) == 3
    # The limit is each person's own.
    other = app.test_client()
    sign_in(other, make_user(session, role="viewer").email)
    assert other.get(CHART, query_string={"authorities": choices[6]}).status_code == 200


def test_the_budget_frees_up_after_a_minute():
    from foitrack.web.page_cache import RenderBudget

    now = [1000.0]
    budget = RenderBudget(2, clock=lambda: now[0])
    assert budget.spend("a") is None and budget.spend("a") is None
    assert budget.spend("a") == pytest.approx(60.0)
    assert budget.spend("b") is None
    now[0] += 30
    assert budget.spend("a") == pytest.approx(30.0)
    now[0] += 30.5
    assert budget.spend("a") is None
    now[0] += 120
    budget.spend("c")
    assert set(budget._spent) == {"c"}  # people idle for a minute are forgotten
