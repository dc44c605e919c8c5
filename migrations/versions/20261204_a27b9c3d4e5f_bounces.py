"""Bounces: the event "delivery_failed" and an authority's address flagged when mail to it bounced.

An event may now be of the kind "delivery_failed" (a message returned undelivered: right after
the sending, the request counts as not sent). An authority gains ``address_bounced_on`` and
``address_bounce_reason``: its FOI address is to be checked.

Revision ID: a27b9c3d4e5f
Revises: 31144f08291d
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a27b9c3d4e5f'
down_revision: str | None = '31144f08291d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("sent", "acknowledged", "clarification_requested", "clarification_sent",
             "fees_notice", "fee_paid", "extension", "response", "withdrawn",
             "internal_review_requested", "internal_review_outcome", "ico_complaint",
             "ico_decision", "chaser_sent", "reply_received", "note")
NEW_KINDS = (*OLD_KINDS, "delivery_failed")


def _kind_check(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade() -> None:
    with op.batch_alter_table('event') as batch:
        batch.drop_constraint(batch.f('ck_event_event_kind'), type_='check')
        batch.create_check_constraint(batch.f('ck_event_event_kind'), _kind_check(NEW_KINDS))
    with op.batch_alter_table('authority') as batch:
        batch.add_column(sa.Column('address_bounced_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('address_bounce_reason', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('authority') as batch:
        batch.drop_column('address_bounce_reason')
        batch.drop_column('address_bounced_on')
    # Kept on the record as the note it was before this kind existed.
    op.execute("UPDATE event SET kind = 'note', note = CASE WHEN note LIKE 'Delivery failed%' "
               "THEN note ELSE 'Delivery failed: ' || COALESCE(note, '') END "
               "WHERE kind = 'delivery_failed'")
    with op.batch_alter_table('event') as batch:
        batch.drop_constraint(batch.f('ck_event_event_kind'), type_='check')
        batch.create_check_constraint(batch.f('ck_event_event_kind'), _kind_check(OLD_KINDS))
