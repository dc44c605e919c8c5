"""The data version: one row, bumped with every audited commit, that page caches key on.

Revision ID: c3d1a9e0f7b2
Revises: 5ba5ead352fb
Create Date: 2026-11-23 17:31:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c3d1a9e0f7b2'
down_revision: str | None = '5ba5ead352fb'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        'data_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('stamp', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version')),
    )
    op.bulk_insert(table, [{"id": 1, "number": 0, "stamp": ""}])


def downgrade() -> None:
    op.drop_table('data_version')
