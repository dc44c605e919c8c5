"""Whether the database is at the newest migration, answered without importing Alembic.

Importing Alembic costs a third of a second, more than the rest of most commands' start-up,
and every command checks the schema first. The answer here is the quick "yes"; any doubt
(no version table, a script it cannot read, a database behind or ahead) is left to
``foitrack.migrate.ensure_current``, which asks Alembic and says what to run.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine


def is_current(engine: Engine) -> bool:
    """True only when the database's revision is the one head of the shipped scripts."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from foitrack.paths import migrations_dir

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
