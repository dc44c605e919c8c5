"""Decisions on appeals, and replies' readings kept: the event "tribunal_decision" and the
table reply_reading.

An event may now be "tribunal_decision": the First-tier Tribunal's decision on an appeal
against a decision notice (FOIA s.58), or the Court of Session's (FOISA s.56). Only the event
kind's CHECK changes for it; going down keeps each as the note it would have been.

reply_reading keeps what a reply was read as (services.reply_reading.keep_reading), with the
text read from its body and attachments, so no page extracts a letter's text again. Replies
imported before it are read on their first showing; going down drops the readings, which are
read again from the files if it comes back.

Revision ID: c29d5f2a6b7e
Revises: c29d7e8f1a2b
Create Date: 2026-12-05 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from foitrack.db import UTCDateTime

revision: str = 'c29d5f2a6b7e'
down_revision: str | None = 'c29d7e8f1a2b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("sent", "acknowledged", "clarification_requested", "clarification_sent",
             "fees_notice", "fee_paid", "extension", "response", "withdrawn",
             "internal_review_requested", "internal_review_outcome", "ico_complaint",
             "ico_decision", "chaser_sent", "reply_received", "note", "delivery_failed",
             "tribunal_appeal", "court_of_session_appeal", "response_withdrawn",
             "response_replaced")
NEW_KINDS = (*OLD_KINDS, "tribunal_decision")


def _kind_check(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade() -> None:
    with op.batch_alter_table('event') as batch:
        batch.drop_constraint(batch.f('ck_event_event_kind'), type_='check')
        batch.create_check_constraint(batch.f('ck_event_event_kind'), _kind_check(NEW_KINDS))
    op.create_table(
        'reply_reading',
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('reader_version', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('reading', sa.JSON(), nullable=False),
        sa.Column('read_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['inbound_message.id'],
                                name=op.f('fk_reply_reading_message_id_inbound_message'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id', name=op.f('pk_reply_reading')),
    )


def downgrade() -> None:
    op.drop_table('reply_reading')
    # Kept on the record as a note, its outcome and reference in its words (a note has none).
    op.execute("UPDATE event SET kind = 'note', note = 'Decision on the appeal' "
               "|| COALESCE(' (outcome: ' || outcome || ')', '') "
               "|| COALESCE(' (case reference: ' || case_reference || ')', '') "
               "|| COALESCE(': ' || note, ''), outcome = NULL, case_reference = NULL, "
               "exemptions = '[]' WHERE kind = 'tribunal_decision'")
    with op.batch_alter_table('event') as batch:
        batch.drop_constraint(batch.f('ck_event_event_kind'), type_='check')
        batch.create_check_constraint(batch.f('ck_event_event_kind'), _kind_check(OLD_KINDS))
