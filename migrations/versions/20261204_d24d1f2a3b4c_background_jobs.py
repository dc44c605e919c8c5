"""Background jobs: the job table, messages tied to their job, scheduled sends.

A message gains ``job_id`` and ``handed_over_at`` (set just before the mail server is given
it, so a worker killed before then can be known not to have sent it) and the status
"cancelled"; a campaign gains ``send_on``, the day its request is to be emailed by itself.

Revision ID: d24d1f2a3b4c
Revises: c23c0e7d15a3
Create Date: 2026-12-04 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foitrack.db

revision: str = 'd24d1f2a3b4c'
down_revision: str | None = 'c23c0e7d15a3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("queued", "sending", "sent", "outbox", "failed")
NEW_STATUSES = (*OLD_STATUSES, "cancelled")


def _status_check(statuses: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def upgrade() -> None:
    op.create_table(
        'job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('send', 'chase', 'fetch', 'digest', 'export', name='job_kind',
                                  native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', 'cancelled',
                                   name='job_state', native_enum=False, create_constraint=True,
                                   length=20), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('params', sa.Text(), nullable=True),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('cancel_requested', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('created_by_user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', foitrack.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', foitrack.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('worker', sa.String(length=200), nullable=True),
        sa.Column('heartbeat_at', foitrack.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('result_file_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'],
                                name=op.f('fk_job_campaign_id_campaign'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_user_id'], ['user.id'],
                                name=op.f('fk_job_created_by_user_id_user')),
        sa.ForeignKeyConstraint(['result_file_id'], ['stored_file.id'],
                                name=op.f('fk_job_result_file_id_stored_file')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job')),
    )
    with op.batch_alter_table('job') as batch:
        batch.create_index(batch.f('ix_job_campaign_id'), ['campaign_id'], unique=False)
        batch.create_index(batch.f('ix_job_state'), ['state'], unique=False)
    with op.batch_alter_table('outgoing_message') as batch:
        batch.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('handed_over_at', foitrack.db.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.create_foreign_key(batch.f('fk_outgoing_message_job_id_job'), 'job', ['job_id'],
                                 ['id'])
        batch.create_index(batch.f('ix_outgoing_message_job_id'), ['job_id'], unique=False)
        batch.drop_constraint(batch.f('ck_outgoing_message_delivery_status'), type_='check')
        batch.create_check_constraint(batch.f('ck_outgoing_message_delivery_status'),
                                      _status_check(NEW_STATUSES))
    with op.batch_alter_table('campaign') as batch:
        batch.add_column(sa.Column('send_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('send_on')
    op.execute("UPDATE outgoing_message SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table('outgoing_message') as batch:
        batch.drop_constraint(batch.f('ck_outgoing_message_delivery_status'), type_='check')
        batch.create_check_constraint(batch.f('ck_outgoing_message_delivery_status'),
                                      _status_check(OLD_STATUSES))
        batch.drop_index(batch.f('ix_outgoing_message_job_id'))
        batch.drop_constraint(batch.f('fk_outgoing_message_job_id_job'), type_='foreignkey')
        batch.drop_column('handed_over_at')
        batch.drop_column('job_id')
    with op.batch_alter_table('job') as batch:
        batch.drop_index(batch.f('ix_job_state'))
        batch.drop_index(batch.f('ix_job_campaign_id'))
    op.drop_table('job')
