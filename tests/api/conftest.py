"""API fixtures: a campaign with figures, and tokens for each role."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from foitrack.services import api_tokens
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.factories import TEST_ACTOR, load_forces, make_user

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def grooming(session):
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, (FIXTURES / "grooming-2019.toml").read_text())
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO((FIXTURES / "grooming-2019.csv").read_bytes()))
    session.commit()
    return campaign


@pytest.fixture
def tokens(session):
    """A token for each role, as the header a script sends."""
    made = {}
    for role in ("viewer", "researcher", "admin"):
        user = make_user(session, role=role)
        _, plain = api_tokens.create_token(session, TEST_ACTOR, user, f"{role} scripts")
        made[role] = {"Authorization": f"Bearer {plain}"}
    session.commit()
    return made
