"""Scratch databases for the tests: SQLite files, or PostgreSQL schemas in one scratch database.

Under pytest-xdist every worker runs its own session, so every worker gets its own databases:
SQLite files sit in the worker's own temporary folder, and PostgreSQL schema names carry the
worker's id as well as a random part, so two workers never share or drop each other's schema.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from foitrack.db import make_engine

POSTGRES_URL = os.environ.get("FOITRACK_TEST_DATABASE_URL")


def worker_id() -> str:
    """The xdist worker running this process ("gw0", "gw1" ...), or "main" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


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
        schema = f"t_{worker_id()}_{uuid.uuid4().hex[:12]}"
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
        # One transaction a schema: a DROP ... CASCADE locks every table, index and sequence
        # in it until the commit, and all of a worker's schemas at once outgrew PostgreSQL's
        # shared lock table ("out of shared memory", max_locks_per_transaction) in a CI run.
        for schema in self.schemas:
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
