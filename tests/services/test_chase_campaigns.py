"""Which campaigns a chase list covers: one rule for the page, the CLI and the mail."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from foitrack.errors import NotFound
from foitrack.models import CampaignStatus
from foitrack.services.requests import chase_campaigns

ACTIVE = SimpleNamespace(slug="active", status=CampaignStatus.active)
CLOSED = SimpleNamespace(slug="closed", status=CampaignStatus.closed)


def test_with_none_chosen_every_campaign_not_closed():
    assert chase_campaigns([ACTIVE, CLOSED], None) == [ACTIVE]
    assert chase_campaigns([ACTIVE, CLOSED], "") == [ACTIVE]


def test_a_chosen_campaign_is_covered_even_when_closed():
    assert chase_campaigns([ACTIVE, CLOSED], "closed") == [CLOSED]


def test_a_chosen_campaign_not_among_them_is_not_found():
    with pytest.raises(NotFound, match="no campaign 'hidden'"):
        chase_campaigns([ACTIVE, CLOSED], "hidden")
