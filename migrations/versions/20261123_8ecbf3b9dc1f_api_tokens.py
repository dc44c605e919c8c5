"""API tokens: per-user keys for the JSON API, stored as SHA-256 hashes.

Revision ID: 8ecbf3b9dc1f
Revises: 29281ad6a797
Create Date: 2026-11-23 15:07:29.272682
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foitrack.db


revision: str = '8ecbf3b9dc1f'
down_revision: str | None = '29281ad6a797'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', foitrack.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', foitrack.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_api_token_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
