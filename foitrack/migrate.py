"""Running Alembic from inside foitrack, for `foitrack db ...`, start-up checks and tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from foitrack.config import ConfigError
from foitrack.paths import migrations_dir


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that migrates ``engine`` with the shipped scripts.

    Built in code rather than read from pyproject.toml so that an installed wheel, which has
    no pyproject.toml, migrates the same way as a checkout.
    """
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    return ScriptDirectory(str(migrations_dir())).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database).

    :raises ConfigError: when the database cannot be reached.
    """
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        url = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"cannot connect to the database {url}: {reason}") from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def ensure_current(engine: Engine) -> None:
    """Stop with one clear line when the database is behind (or ahead of) the code.

    :raises ConfigError: saying what to run.
    """
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise ConfigError(
            "the database has no foitrack tables yet: run `foitrack db upgrade` "
            "(then `foitrack authorities load`)"
        )
    script = ScriptDirectory(str(migrations_dir()))
    known = {revision.revision for revision in script.walk_revisions()}
    if current not in known:
        raise ConfigError(
            f"the database is at revision {current}, which this version of foitrack does not "
            "know: it was migrated by a newer foitrack; upgrade foitrack"
        )
    raise ConfigError(
        f"the database is behind the migrations (at {current}, head is {head}): "
        "run `foitrack db upgrade`"
    )
