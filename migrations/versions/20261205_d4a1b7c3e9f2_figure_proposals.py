"""Figure proposals: cells read from a reply's stored attachments, kept for a person to accept
or reject (issue 19).

Revision ID: d4a1b7c3e9f2
Revises: c31e5a7b9d2f
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from foitrack.db import UTCDateTime

revision: str = 'd4a1b7c3e9f2'
down_revision: str | None = 'c31e5a7b9d2f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'figure_proposal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('stored_file_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('measure', sa.String(length=200), nullable=False),
        sa.Column('period', sa.String(length=200), nullable=False),
        sa.Column('dimension', sa.String(length=200), nullable=True),
        sa.Column('category', sa.String(length=200), nullable=True),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('parsed_kind', sa.String(length=20), nullable=False),
        sa.Column('parsed_text', sa.String(length=200), nullable=False),
        sa.Column('caveat', sa.Text(), nullable=True),
        sa.Column('location', sa.String(length=300), nullable=False),
        sa.Column('page', sa.Integer(), nullable=True),
        sa.Column('bbox', sa.JSON(), nullable=True),
        sa.Column('neighbourhood', sa.JSON(), nullable=True),
        sa.Column('layout', sa.String(length=20), nullable=False),
        sa.Column('extractor', sa.String(length=100), nullable=False),
        sa.Column('extractor_version', sa.String(length=20), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('state', sa.Enum('pending', 'accepted', 'rejected', name='figure_proposal_state',
                                   native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        sa.Column('decided_by', sa.String(length=254), nullable=True),
        sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['request.id'],
                                name=op.f('fk_figure_proposal_request_id_request'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['stored_file_id'], ['stored_file.id'],
                                name=op.f('fk_figure_proposal_stored_file_id_stored_file'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_figure_proposal')),
    )
    op.create_index('ix_figure_proposal_request_state', 'figure_proposal',
                    ['request_id', 'state'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_figure_proposal_request_state', table_name='figure_proposal')
    op.drop_table('figure_proposal')
