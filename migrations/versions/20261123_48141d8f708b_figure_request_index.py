"""An index on figure.request_id: a campaign's figures without scanning every campaign's.

Revision ID: 48141d8f708b
Revises: 8ecbf3b9dc1f
Create Date: 2026-11-23 15:31:44.528165
"""

from collections.abc import Sequence

from alembic import op

revision: str = '48141d8f708b'
down_revision: str | None = '8ecbf3b9dc1f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('figure', schema=None) as batch_op:
        batch_op.create_index('ix_figure_request_id', ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('figure', schema=None) as batch_op:
        batch_op.drop_index('ix_figure_request_id')
