"""Campaign members: who, besides the owner and admins, may see a campaign under embargo.

Revision ID: 5ba5ead352fb
Revises: 48141d8f708b
Create Date: 2026-11-23 17:29:04.026055
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foitrack.db

revision: str = '5ba5ead352fb'
down_revision: str | None = '48141d8f708b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The unique (campaign_id, user_id) constraint's index also serves lookups by campaign;
    # user_id has its own for "the campaigns this person is in".
    op.create_table(
        'campaign_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('added_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('added_by', sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'],
                                name=op.f('fk_campaign_member_campaign_id_campaign'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_campaign_member_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_member')),
        sa.UniqueConstraint('campaign_id', 'user_id', name=op.f('uq_campaign_member_campaign_id_user_id')),
    )
    with op.batch_alter_table('campaign_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_member_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('campaign_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_member_user_id'))
    op.drop_table('campaign_member')
