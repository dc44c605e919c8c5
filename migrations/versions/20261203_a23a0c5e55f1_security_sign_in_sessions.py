"""Sign-in security: server-side session invalidation and token revocation.

Sessions end on the server by rotating ``user.session_token`` (a column that already exists),
so the schema does not change. Tokens of accounts deactivated before this revision were only
unusable while the account stayed deactivated; they are revoked now, as deactivation does from
here on, so reactivating such an account does not bring its old tokens back.

Revision ID: a23a0c5e55f1
Revises: 66bb68201d6e
Create Date: 2026-12-03 19:00:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a23a0c5e55f1'
down_revision: str | None = '66bb68201d6e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("active", sa.Boolean))
    api_token = sa.table(
        "api_token",
        sa.column("user_id", sa.Integer),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
    )
    deactivated = sa.select(user.c.id).where(user.c.active.is_(False))
    now = dt.datetime.now(dt.UTC)  # as foitrack.db.UTCDateTime writes it
    op.execute(
        api_token.update()
        .where(api_token.c.revoked_at.is_(None), api_token.c.user_id.in_(deactivated))
        .values(revoked_at=now)
    )


def downgrade() -> None:
    # Nothing to undo in the schema. The tokens revoked by upgrade() stay revoked: they cannot be
    # told from tokens their owners revoked, and an older version refuses them just the same.
    pass
