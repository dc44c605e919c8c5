"""A figure proposal keeps the figure accepting it saved, so the figure's drill-down can show
the crop of the place it was read from (issue 19).

Revision ID: e5b2c8d4f1a3
Revises: e5f1a2b3c4d6
Create Date: 2026-12-05 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e5b2c8d4f1a3'
down_revision: str | None = 'e5f1a2b3c4d6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('figure_proposal') as batch:
        batch.add_column(sa.Column('figure_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_figure_proposal_figure_id_figure'), 'figure',
                                 ['figure_id'], ['id'], ondelete='SET NULL')
        batch.create_index('ix_figure_proposal_figure_id', ['figure_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('figure_proposal') as batch:
        batch.drop_index('ix_figure_proposal_figure_id')
        batch.drop_constraint(op.f('fk_figure_proposal_figure_id_figure'), type_='foreignkey')
        batch.drop_column('figure_id')
