"""Narrowed follow-up requests: a request may have follow-ups to the same authority in the
same campaign, numbered, linked to the first request, each with its own wording; the first
request names which of them the authority's figures come from.

Revision ID: c29d5e6f7a8b
Revises: c29d5f2a6b7e
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c29d5e6f7a8b'
down_revision: str | None = 'c29d5f2a6b7e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_number', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('follow_up_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('question', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('figures_from_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_request_follow_up_of_id'), ['follow_up_of_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_request_follow_up_of_id_request'), 'request',
                                    ['follow_up_of_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_request_figures_from_id_request'), 'request',
                                    ['figures_from_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint('uq_request_campaign_id_authority_id', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_request_campaign_id_authority_id_follow_up_number'),
            ['campaign_id', 'authority_id', 'follow_up_number'])


def downgrade() -> None:
    # Follow-ups cannot survive the one-request-per-authority constraint: they go, with their
    # events (their figures live on the first request, which stays). Their correspondence is
    # kept, moved to the first request; links to their events are cleared. Written out, not
    # left to ON DELETE: SQLite runs migrations with its foreign keys off.
    follow_ups = "SELECT id FROM request WHERE follow_up_number > 0"
    their_events = f"SELECT id FROM event WHERE request_id IN ({follow_ups})"
    for table in ("outgoing_message", "inbound_message"):
        op.execute(f"UPDATE {table} SET request_id = (SELECT follow_up_of_id FROM request "
                   f"WHERE request.id = {table}.request_id) WHERE request_id IN ({follow_ups})")
    op.execute(f"UPDATE inbound_message SET event_id = NULL WHERE event_id IN ({their_events})")
    op.execute(f"UPDATE figure SET source_event_id = NULL WHERE source_event_id IN ({their_events})")
    op.execute(f"DELETE FROM figure WHERE request_id IN ({follow_ups})")
    op.execute(f"DELETE FROM event WHERE request_id IN ({follow_ups})")
    op.execute("UPDATE request SET figures_from_id = NULL")
    op.execute("DELETE FROM request WHERE follow_up_number > 0")
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_request_campaign_id_authority_id_follow_up_number'),
                                 type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_request_campaign_id_authority_id'),
                                          ['campaign_id', 'authority_id'])
        batch_op.drop_constraint(batch_op.f('fk_request_figures_from_id_request'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_request_follow_up_of_id_request'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_request_follow_up_of_id'))
        batch_op.drop_column('figures_from_id')
        batch_op.drop_column('question')
        batch_op.drop_column('follow_up_of_id')
        batch_op.drop_column('follow_up_number')
