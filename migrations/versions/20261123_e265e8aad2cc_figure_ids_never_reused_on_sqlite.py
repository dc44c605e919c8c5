"""Figure ids are never reused on SQLite (AUTOINCREMENT), so a figure's history is its own.

SQLite gives a deleted row's id out again when it was the highest; a figure emptied in the grid
and the next one entered then shared an id, and the audit trail (which knows figures by id)
showed the first one's history, even from a campaign under embargo, on the second one's page.
PostgreSQL's sequences never reuse an id: nothing to do there.

Revision ID: e265e8aad2cc
Revises: c3d1a9e0f7b2
Create Date: 2026-11-23 18:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'e265e8aad2cc'
down_revision: str | None = 'c3d1a9e0f7b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # Batch mode copies the table, its partial unique indexes and foreign keys included; no
    # other table refers to figure, so dropping the old copy touches nothing else.
    with op.batch_alter_table("figure", recreate="always",
                              table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
