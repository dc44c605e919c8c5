"""Alembic environment: migrates the engine foitrack hands over, or FOITRACK_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import foitrack.models  # noqa: F401  (registers every table on Base.metadata)
from foitrack.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    # Run as plain `alembic ...` in a checkout: use the same database the app would.
    import os
    from pathlib import Path

    url = os.environ.get("FOITRACK_DATABASE_URL") or (
        f"sqlite:///{Path.cwd() / 'instance' / 'foitrack.sqlite3'}"
    )
    return make_engine(url)


def run_migrations_offline() -> None:
    context.configure(
        url=str(_engine().url),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by copying it and dropping the original; with foreign
            # keys enforced, dropping a table other rows point at (a campaign repeated by
            # another) fails. SQLite ignores this pragma inside a transaction, so it is set
            # before one begins, and the keys are checked once the migrations are done.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
                render_as_batch=True,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(
                            f"the migration left rows pointing nowhere: {broken[:5]}")
        finally:
            if sqlite:
                # The pool hands this connection out again: never with the keys off.
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
