"""Published releases: a campaign's dataset frozen at one moment, versioned per campaign.

Revision ID: c29d7e8f1a2b
Revises: b28c4d5e6f7a
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foitrack.db

revision: str = 'c29d7e8f1a2b'
down_revision: str | None = 'b28c4d5e6f7a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('published_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('created_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('embargo_until', foitrack.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('authorities', sa.Text(), nullable=True),
    sa.Column('checked_only', sa.Boolean(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_published_release_campaign_id_campaign'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_release')),
    sa.UniqueConstraint('campaign_id', 'version', name=op.f('uq_published_release_campaign_id_version'))
    )
    with op.batch_alter_table('published_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_published_release_campaign_id'), ['campaign_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('published_release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_published_release_campaign_id'))
    op.drop_table('published_release')
