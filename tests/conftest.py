"""Fixtures: a migrated database (SQLite, or PostgreSQL when FOITRACK_TEST_DATABASE_URL is set),
the app, a test client, a CLI runner and a session. Each test starts with empty tables."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from foitrack import create_app, migrate
from foitrack.db import Base, make_engine

POSTGRES_URL = os.environ.get("FOITRACK_TEST_DATABASE_URL")
PASSWORD = "correct horse battery staple"


class ScratchDatabases:
    """Hands out empty databases: SQLite files, or PostgreSQL schemas in the scratch database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.schemas: list[str] = []

    @property
    def backend(self) -> str:
        return "postgresql" if POSTGRES_URL else "sqlite"

    def new_url(self) -> str:
        if not POSTGRES_URL:
            return f"sqlite:///{self.folder / f'{uuid.uuid4().hex}.sqlite3'}"
        schema = f"t_{uuid.uuid4().hex[:12]}"
        engine = make_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        self.schemas.append(schema)
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.schemas:
            return
        engine = make_engine(POSTGRES_URL or "")
        with engine.begin() as connection:
            for schema in self.schemas:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


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


def csrf_token(client: FlaskClient, path: str = "/auth/sign-in") -> str:
    """The CSRF token from a page's <meta name="csrf-token">, as a browser's form would send."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post(
        "/auth/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )
