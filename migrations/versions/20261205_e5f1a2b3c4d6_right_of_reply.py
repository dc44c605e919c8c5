"""Right of reply (issue 20, point 5): each force shown its own figures and draft lines before
publication, with a day to answer by; a message kind and a job kind for sending them.

Revision ID: e5f1a2b3c4d6
Revises: e5b2c8d1f4a7
Create Date: 2026-12-05 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from foitrack.db import UTCDateTime

revision: str = 'e5f1a2b3c4d6'
down_revision: str | None = 'e5b2c8d1f4a7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_MESSAGE_KINDS = ("request", "chaser", "internal_review", "clarification", "digest")
NEW_MESSAGE_KINDS = (*OLD_MESSAGE_KINDS, "right_of_reply")
OLD_JOB_KINDS = ("send", "chase", "fetch", "digest", "export")
NEW_JOB_KINDS = (*OLD_JOB_KINDS, "right_of_reply")


def _check(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _kinds(message_kinds: Sequence[str], job_kinds: Sequence[str]) -> None:
    for table in ("outgoing_message", "mail_template"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(batch.f(f'ck_{table}_message_kind'), type_='check')
            batch.create_check_constraint(batch.f(f'ck_{table}_message_kind'),
                                          _check(message_kinds))
    with op.batch_alter_table('job') as batch:
        batch.drop_constraint(batch.f('ck_job_job_kind'), type_='check')
        batch.create_check_constraint(batch.f('ck_job_job_kind'), _check(job_kinds))


def upgrade() -> None:
    _kinds(NEW_MESSAGE_KINDS, NEW_JOB_KINDS)
    op.create_table(
        'right_of_reply',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('answer_by', sa.Date(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['outgoing_message.id'],
                                name=op.f('fk_right_of_reply_message_id_outgoing_message')),
        sa.ForeignKeyConstraint(['request_id'], ['request.id'],
                                name=op.f('fk_right_of_reply_request_id_request'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_right_of_reply')),
        sa.UniqueConstraint('message_id', name=op.f('uq_right_of_reply_message_id')),
    )
    op.create_index(op.f('ix_right_of_reply_request_id'), 'right_of_reply', ['request_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_right_of_reply_request_id'), table_name='right_of_reply')
    op.drop_table('right_of_reply')
    # Messages and jobs of the kind go with it: the older schema cannot hold them.
    op.execute("UPDATE outgoing_message SET job_id = NULL WHERE job_id IN "
               "(SELECT id FROM job WHERE kind = 'right_of_reply')")
    op.execute("DELETE FROM job WHERE kind = 'right_of_reply'")
    op.execute("DELETE FROM outgoing_message WHERE kind = 'right_of_reply'")
    op.execute("DELETE FROM mail_template WHERE kind = 'right_of_reply'")
    _kinds(OLD_MESSAGE_KINDS, OLD_JOB_KINDS)
