"""Data versions per scope: one row per campaign, the registry, accounts, and "all".

A page derived from one campaign keys its cache on that campaign's version (with the
registry's and the catch-all's), so a write to another campaign leaves it valid. The single
global row is dropped: it only ever keyed in-process caches, which a deploy restarts anyway.

Revision ID: f26a7c1d9e0b
Revises: e25e1a0b2c3d
Create Date: 2026-12-04 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'f26a7c1d9e0b'
down_revision: str | None = 'e25e1a0b2c3d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table('data_version')
    op.create_table(
        'data_version',
        sa.Column('scope', sa.String(length=80), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('stamp', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('scope', name=op.f('pk_data_version')),
    )


def downgrade() -> None:
    op.drop_table('data_version')
    table = op.create_table(
        'data_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('stamp', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version')),
    )
    op.bulk_insert(table, [{"id": 1, "number": 0, "stamp": ""}])
