"""Sign-in security: server-side session invalidation and token revocation.

Revision ID: a23a0c5e55f1
Revises: 66bb68201d6e
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

revision: str = 'a23a0c5e55f1'
down_revision: str | None = '66bb68201d6e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
