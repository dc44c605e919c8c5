"""Security: version checks on the data design and mail templates.

Revision ID: c23c0e7d15a3
Revises: b23b0f11e5a2
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

revision: str = 'c23c0e7d15a3'
down_revision: str | None = 'b23b0f11e5a2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
