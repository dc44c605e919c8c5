"""sign-in attempts: failed sign-ins, counted per account and per client address

Revision ID: 29281ad6a797
Revises: a7859d94afc4
Create Date: 2026-11-23 14:59:27.093150
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foitrack.db


revision: str = '29281ad6a797'
down_revision: str | None = 'a7859d94afc4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sign_in_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('failed_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failure')),
    )
    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_failure_client'), ['client'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_failure_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_failure_failed_at'), ['failed_at'], unique=False)


def downgrade() -> None:
    # Dropping the table drops its indexes with it.
    op.drop_table('sign_in_failure')
