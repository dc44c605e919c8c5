"""Overlapping dimensions and their unit, release thresholds per campaign, explained findings.

Existing dimensions become non-overlapping with no unit of their own (the measure's), as they
were read before; campaigns keep the default thresholds (NULL).

Revision ID: 66bb68201d6e
Revises: e265e8aad2cc
Create Date: 2026-12-03 17:26:04.493345
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foitrack.db

revision: str = '66bb68201d6e'
down_revision: str | None = 'e265e8aad2cc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('finding_explanation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=600), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('explained_by', sa.String(length=254), nullable=False),
    sa.Column('explained_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_finding_explanation_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_explanation')),
    sa.UniqueConstraint('campaign_id', 'key', name=op.f('uq_finding_explanation_campaign_id_key'))
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_coverage', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('min_base', sa.Integer(), nullable=True))

    with op.batch_alter_table('dimension', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overlapping', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('unit', sa.String(length=80), nullable=False,
                                      server_default=''))



def downgrade() -> None:
    with op.batch_alter_table('dimension', schema=None) as batch_op:
        batch_op.drop_column('unit')
        batch_op.drop_column('overlapping')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('min_base')
        batch_op.drop_column('min_coverage')

    op.drop_table('finding_explanation')
