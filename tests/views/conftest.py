"""Fixtures for the pages: two researchers at their own desks on one grid, a viewer of charts."""

from __future__ import annotations

import pytest

from tests.factories import TWO_DESKS_DESIGN, make_campaign, make_fixture_campaign, make_user
from tests.pages import sign_in


@pytest.fixture
def desks(app, session):
    """Two signed-in researchers' test clients, both about to edit two-desks' one grid."""
    make_campaign(session, TWO_DESKS_DESIGN)
    clients = []
    for _ in range(2):
        client = app.test_client()
        assert sign_in(client, make_user(session).email).status_code == 302
        clients.append(client)
    return clients


@pytest.fixture
def lockdown_viewer(client, session):
    """A viewer signed in on ``client``, with the lockdown-2020 campaign and its figures."""
    make_fixture_campaign(session, "lockdown-2020")
    user = make_user(session, role="viewer")
    sign_in(client, user.email)
    return user


@pytest.fixture
def renders(monkeypatch):
    """How many charts were drawn (the real renderer, counted)."""
    from foitrack.exporters import charts
    from tests.pages import counting

    return counting(monkeypatch, (charts, "render"))
