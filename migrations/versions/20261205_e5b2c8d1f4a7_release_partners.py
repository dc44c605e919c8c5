"""Partners' private links to embargoed releases, their access log, and each release's opening.

Revision ID: e5b2c8d1f4a7
Revises: d4a1b7c3e9f2
Create Date: 2026-12-05 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foitrack.db

revision: str = 'e5b2c8d1f4a7'
down_revision: str | None = 'd4a1b7c3e9f2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('release_partner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('revoked_at', foitrack.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['release_id'], ['published_release.id'], name=op.f('fk_release_partner_release_id_published_release'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_partner')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_release_partner_token_sha256'))
    )
    with op.batch_alter_table('release_partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_partner_release_id'), ['release_id'], unique=False)

    op.create_table('partner_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['release_partner.id'], name=op.f('fk_partner_access_partner_id_release_partner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_access'))
    )
    with op.batch_alter_table('partner_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_access_partner_id'), ['partner_id'], unique=False)

    op.create_table('release_opening',
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['published_release.id'], name=op.f('fk_release_opening_release_id_published_release'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('release_id', name=op.f('pk_release_opening'))
    )


def downgrade() -> None:
    op.drop_table('release_opening')
    with op.batch_alter_table('partner_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_access_partner_id'))
    op.drop_table('partner_access')
    with op.batch_alter_table('release_partner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_partner_release_id'))
    op.drop_table('release_partner')
