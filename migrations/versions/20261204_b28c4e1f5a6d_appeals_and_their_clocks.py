"""Complaints and appeals with their clocks: a case reference, the steps a decision orders and
the date for them, and the events "tribunal_appeal" and "court_of_session_appeal".

An event gains ``case_reference`` (the Commissioner's, the tribunal's or the court's reference),
``steps_ordered`` and ``comply_by`` (a decision notice's steps and its date for compliance,
FOIA s.50(4), FOISA s.49(6)). Two kinds of event are added: an appeal to the First-tier Tribunal
(FOIA s.57) and to the Court of Session (FOISA s.56). Another migration on the same parent
also extends the kind CHECK: whichever runs second must list the other's kinds too.

Revision ID: b28c4e1f5a6d
Revises: a27b9c3d4e5f
Create Date: 2026-12-04 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b28c4e1f5a6d'
down_revision: str | None = 'a27b9c3d4e5f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("sent", "acknowledged", "clarification_requested", "clarification_sent",
             "fees_notice", "fee_paid", "extension", "response", "withdrawn",
             "internal_review_requested", "internal_review_outcome", "ico_complaint",
             "ico_decision", "chaser_sent", "reply_received", "note", "delivery_failed")
NEW_KINDS = (*OLD_KINDS, "tribunal_appeal", "court_of_session_appeal")


def _kind_check(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade() -> None:
    with op.batch_alter_table('event') as batch:
        batch.add_column(sa.Column('case_reference', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('steps_ordered', sa.Text(), nullable=True))
        batch.add_column(sa.Column('comply_by', sa.Date(), nullable=True))
        batch.drop_constraint(batch.f('ck_event_event_kind'), type_='check')
        batch.create_check_constraint(batch.f('ck_event_event_kind'), _kind_check(NEW_KINDS))


def downgrade() -> None:
    # An appeal is kept on the record as the note it was before these kinds existed.
    op.execute("UPDATE event SET kind = 'note', note = 'Appeal: ' || COALESCE(note, '') "
               "WHERE kind IN ('tribunal_appeal', 'court_of_session_appeal')")
    # The columns going away are kept in the note's words, not lost.
    op.execute("UPDATE event SET note = COALESCE(note, '') "
               "|| COALESCE(' (case reference: ' || case_reference || ')', '') "
               "|| COALESCE(' Steps ordered: ' || steps_ordered, '') "
               "|| COALESCE(' Comply by: ' || CAST(comply_by AS VARCHAR(10)), '') "
               "WHERE case_reference IS NOT NULL OR steps_ordered IS NOT NULL "
               "OR comply_by IS NOT NULL")
    with op.batch_alter_table('event') as batch:
        batch.drop_constraint(batch.f('ck_event_event_kind'), type_='check')
        batch.create_check_constraint(batch.f('ck_event_event_kind'), _kind_check(OLD_KINDS))
        batch.drop_column('comply_by')
        batch.drop_column('steps_ordered')
        batch.drop_column('case_reference')
