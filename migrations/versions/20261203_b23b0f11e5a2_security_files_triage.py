"""Security: unguessable stored file ids, triage hiding, background imports.

Revision ID: b23b0f11e5a2
Revises: a23a0c5e55f1
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

revision: str = 'b23b0f11e5a2'
down_revision: str | None = 'a23a0c5e55f1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
