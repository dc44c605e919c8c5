"""Running Alembic from inside foitrack, for `foitrack db ...`, start-up checks and tests.

Alembic is imported by the functions that use it: importing it costs a third of a second, more
than the rest of most commands' start-up, and every command and app start checks the schema
first. ``is_current`` answers the usual "yes" from the version table and the scripts' text;
any doubt goes to Alembic, which says what to run.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from foitrack.config import ConfigError
from foitrack.paths import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that migrates ``engine`` with the shipped scripts.

    Built in code rather than read from pyproject.toml so that an installed wheel, which has
    no pyproject.toml, migrates the same way as a checkout.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(migrations_dir())).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database).

    :raises ConfigError: when the database cannot be reached.
    """
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        url = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"cannot connect to the database {url}: {reason}") from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def ensure_current(engine: Engine) -> None:
    """Stop with one clear line when the database is behind (or ahead of) the code.

    :raises ConfigError: saying what to run.
    """
    if is_current(engine):
        return
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise ConfigError(
            "the database has no foitrack tables yet: run `foitrack db upgrade` "
            "(then `foitrack authorities load`)"
        )
    from alembic.script import ScriptDirectory

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


def is_current(engine: Engine) -> bool:
    """True only when the database's revision is the one head of the shipped scripts."""
    head = _head(migrations_dir() / "versions")
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            found = set(connection.execute(text("SELECT version_num FROM alembic_version"))
                        .scalars())
    except SQLAlchemyError:
        return False
    return found == {head}


def _head(versions: Path) -> str | None:
    """The one revision no script names as its down_revision; None when unsure."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        values = _assignments(script)
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(str(parent) for parent in down)
        elif down is not None:
            return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _assignments(script: Path) -> dict[str, object]:
    """The script's module-level `name = literal` lines (annotated ones too)."""
    values: dict[str, object] = {}
    try:
        tree = ast.parse(script.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return values
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                values[target.id] = value  # not a literal: the caller is then unsure
    return values
