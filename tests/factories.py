"""Test data built through the services, committed as a view or command would."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from foitrack.models import User
from foitrack.services import users
from foitrack.services.audit import Actor
from foitrack.services.registry import LoadReport, load_registry
from tests.conftest import PASSWORD

TEST_ACTOR = Actor.system("tests")
_numbers = itertools.count(1)


def make_user(
    session: Session, role: str = "researcher", email: str | None = None, password: str = PASSWORD
) -> User:
    email = email or f"{role}{next(_numbers)}@example.org"
    user = users.create_user(
        session, TEST_ACTOR, email=email, name=f"Test {role}", role=role, password=password
    )
    session.commit()
    return user


def load_forces(session: Session) -> LoadReport:
    report = load_registry(session, TEST_ACTOR)
    session.commit()
    return report
