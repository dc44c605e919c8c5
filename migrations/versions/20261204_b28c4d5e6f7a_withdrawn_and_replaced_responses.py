"""Withdrawn and replaced responses: two more kinds of event.

An event may now be "response_withdrawn" (the authority took back its response) or
"response_replaced" (it sent corrected figures in place of it). Practice, not law: no Act
provides for either. Only the event kind's CHECK changes; going down keeps each such event as
the note it would have been before these kinds existed.

Revision ID: b28c4d5e6f7a
Revises: b28c4e1f5a6d
Create Date: 2026-12-04 20:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'b28c4d5e6f7a'
down_revision: str | None = 'b28c4e1f5a6d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("sent", "acknowledged", "clarification_requested", "clarification_sent",
             "fees_notice", "fee_paid", "extension", "response", "withdrawn",
             "internal_review_requested", "internal_review_outcome", "ico_complaint",
             "ico_decision", "chaser_sent", "reply_received", "note", "delivery_failed",
             "tribunal_appeal", "court_of_session_appeal")
NEW_KINDS = (*OLD_KINDS, "response_withdrawn", "response_replaced")
# What each kind's note starts with once it is a note again.
_AS_NOTE = {"response_withdrawn": "Response withdrawn by the authority",
            "response_replaced": "Response replaced with corrected figures"}


def _kind_check(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade() -> None:
    with op.batch_alter_table('event') as batch:
        batch.drop_constraint(batch.f('ck_event_event_kind'), type_='check')
        batch.create_check_constraint(batch.f('ck_event_event_kind'), _kind_check(NEW_KINDS))


def downgrade() -> None:
    # Kept on the record as notes, a replacement's outcome in its words (a note has none).
    for kind, words in _AS_NOTE.items():
        op.execute(
            f"UPDATE event SET kind = 'note', note = '{words}' "
            "|| COALESCE(' (outcome: ' || outcome || ')', '') "
            "|| COALESCE(': ' || note, ''), outcome = NULL "
            f"WHERE kind = '{kind}'")
    with op.batch_alter_table('event') as batch:
        batch.drop_constraint(batch.f('ck_event_event_kind'), type_='check')
        batch.create_check_constraint(batch.f('ck_event_event_kind'), _kind_check(OLD_KINDS))
