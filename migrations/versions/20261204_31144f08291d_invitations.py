"""Invitations: an admin adds a user without a password; the user chooses one by a link.

``user.password_hash`` may now be empty (NULL): an account invited but whose user has not yet
chosen a password, which no password signs in to. The ``invitation`` table keeps each link's
SHA-256, when it expires, and when it was used or replaced by a newer one.

Revision ID: 31144f08291d
Revises: f26a7c1d9e0b
Create Date: 2026-12-04 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foitrack.db

revision: str = '31144f08291d'
down_revision: str | None = 'f26a7c1d9e0b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What an account still waiting for its password gets on the way down: no argon2 hash, so it
# signs in with no password at all (services/users.authenticate treats it as a wrong one).
NO_PASSWORD = "!"


def upgrade() -> None:
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('expires_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', foitrack.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('superseded_at', foitrack.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_invitation_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=True)


def downgrade() -> None:
    user = sa.table("user", sa.column("password_hash", sa.String))
    op.execute(user.update().where(user.c.password_hash.is_(None)).values(password_hash=NO_PASSWORD))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=False)

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_user_id'))

    op.drop_table('invitation')
