"""Fixtures: a migrated database (SQLite, or PostgreSQL when FOITRACK_TEST_DATABASE_URL is set),
the app, a test client, a CLI runner and a session. Each test starts with empty tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from foitrack import create_app, migrate
from foitrack.db import Base, make_engine
from foitrack.services import users
from tests.databases import ScratchDatabases

# Modules whose tests share one costly module-scoped fixture (the load test's run): under xdist
# all their tests go to one worker, so the fixture is built once. pytest-xdist's xdist_group
# marker would say this, but under pytest 9 it has no effect (xdist 3.8 renames item._nodeid,
# which pytest 9 no longer reads), so the scheduler below groups these modules by path.
SHARED_FIXTURE_MODULES = {"tests/test_load_smoke.py"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadgroup`, with SHARED_FIXTURE_MODULES each kept on one worker."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SharedFixtureModules(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in SHARED_FIXTURE_MODULES else super()._split_scope(nodeid)

    return SharedFixtureModules(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser and slow tests first, so that under xdist the workers start on them and none is
    left running alone at the end; the order within each group stays as collected."""
    items.sort(key=lambda item: not (item.get_closest_marker("browser")
                                     or item.get_closest_marker("slow")))


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[PasswordHasher | None]:
    """argon2id at its lowest cost while the tests run in this process.

    The production cost (64 MiB, three passes) is the point of argon2 and takes 0.1-0.3 s a hash
    here; the suite hashes or verifies a password for nearly every user it makes and every
    sign-in, which cost minutes. The hashes are still argon2id, in the same format, verified by
    the same code; only the work per hash is smaller. Commands run as subprocesses keep the
    real cost. Yields the app's own hasher (None if it is no longer where this looks).
    """
    real = getattr(users, "_hasher", None)
    if not isinstance(real, PasswordHasher):
        # services/users no longer keeps its hasher there: the tests run at the real cost, and
        # test_real_password_hashes_are_memory_hard says so.
        yield None
        return
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    patch = pytest.MonkeyPatch()
    patch.setattr(users, "_hasher", cheap)
    patch.setattr(users, "_DUMMY_HASH", cheap.hash("not a real password, used for timing only"))
    yield real
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def head_revision_read_once() -> Iterator[None]:
    """Every app the tests build checks its database against the newest migration; the
    migration scripts do not change while the tests run, so they are read once, not per app."""
    head = migrate.head_revision()
    patch = pytest.MonkeyPatch()
    patch.setattr(migrate, "head_revision", lambda: head)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchDatabases]:
    databases = ScratchDatabases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def database_url(scratch: ScratchDatabases) -> str:
    url = scratch.new_url()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def _empty_tables(app: Flask) -> None:
    engine = app.extensions["foitrack.db"].engine
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def app(database_url: str, instance_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance_path),
            "SECRET_KEY": uuid.uuid4().hex,
            "TESTING": True,
        }
    )
    yield app
    _empty_tables(app)
    app.extensions["foitrack.db"].engine.dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.extensions["foitrack.db"].session() as session:
        yield session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def cli_env(database_url: str, instance_path: Path) -> dict[str, str]:
    return {"FOITRACK_DATABASE_URL": database_url, "FOITRACK_INSTANCE_PATH": str(instance_path)}


@pytest.fixture
def runner(app: Flask, cli_env: dict[str, str]) -> CliRunner:
    """Runs `foitrack ...` against the test database (the app fixture empties it afterwards)."""
    return CliRunner(env=cli_env)
