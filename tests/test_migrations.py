"""The migrations build the schema the models describe, and undo it, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from foitrack import migrate
from foitrack.db import Base, make_engine

pytestmark = pytest.mark.postgres


def test_upgrade_to_head_and_down_to_base_on_an_empty_database(scratch):
    engine = make_engine(scratch.new_url())
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {table.name for table in Base.metadata.sorted_tables} <= tables

        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_models_and_head_migration_agree(scratch):
    engine = make_engine(scratch.new_url())
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_constraints_are_named_by_the_convention(scratch):
    engine = make_engine(scratch.new_url())
    try:
        migrate.upgrade(engine)
        inspector = inspect(engine)
        unique = {c["name"] for c in inspector.get_unique_constraints("authority")}
        assert {"uq_authority_slug", "uq_authority_code", "uq_authority_name"} <= unique
        foreign = {c["name"] for c in inspector.get_foreign_keys("audit_entry")}
        assert foreign == {"fk_audit_entry_user_id_user"}
    finally:
        engine.dispose()
