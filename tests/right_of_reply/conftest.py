"""A campaign to three forces, all answered: West Mercia and Kent with figures, Sussex none;
and the real SMTP server for the sends."""

from __future__ import annotations

import datetime as dt

import pytest

from foitrack.services import requests
from tests.factories import TEST_ACTOR, design_for, enter_figures, make_campaign
from tests.mail.conftest import smtp_server  # noqa: F401 - the real SMTP server, as a fixture

TODAY = dt.date(2019, 7, 1)
ANSWER_BY = dt.date(2019, 7, 15)
SLUG = "grooming-2019"


@pytest.fixture
def answered(app, session):
    """grooming-2019 to West Mercia, Kent and Sussex, each sent on 1 May and answered on
    20 May 2019; figures for West Mercia (a total and a breakdown) and Kent."""
    app.config.update(MAIL_THROTTLE_SECONDS=0, TODAY=TODAY)
    campaign = make_campaign(session, design_for(["west-mercia", "kent", "sussex"]))
    for slug in ("west-mercia", "kent", "sussex"):
        found = requests.get_request(session, SLUG, slug)
        requests.add_event(session, TEST_ACTOR, found, "sent", dt.date(2019, 5, 1), today=TODAY)
        requests.add_event(session, TEST_ACTOR, found, "response", dt.date(2019, 5, 20),
                           today=TODAY, outcome="provided")
    session.commit()
    enter_figures(session, campaign, ("west-mercia", "2018-19", "", "", "122"),
                  ("west-mercia", "2018-19", "platform", "Instagram", "12"),
                  ("kent", "2018-19", "", "", "80"))
    return campaign
