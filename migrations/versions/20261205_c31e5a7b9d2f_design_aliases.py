"""Aliases on measures, periods and categories: other names replies use, which extraction
matches (a JSON list; NULL: none).

Revision ID: c31e5a7b9d2f
Revises: c29d5e6f7a8b
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c31e5a7b9d2f'
down_revision: str | None = 'c29d5e6f7a8b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('measure', 'period', 'category')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('aliases', sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('aliases')
