"""Security: version checks on the data design and mail templates.

The campaign gets a ``design_version``, raised by each change of its data design, so that a
save of the design page over someone else's newer design is refused (409) instead of undoing
it. (The mail templates' ``version`` came in b23b0f11e5a2.)

Revision ID: c23c0e7d15a3
Revises: b23b0f11e5a2
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c23c0e7d15a3'
down_revision: str | None = 'b23b0f11e5a2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("design_version", sa.Integer(), nullable=False,
                                   server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("design_version")
