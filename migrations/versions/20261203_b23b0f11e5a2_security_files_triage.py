"""Security: unguessable stored file ids, triage hiding, background imports.

Kept files get a random ``public_id`` that links name them by (the sequential id was guessed
to download files of embargoed campaigns); mail templates get a ``version`` so that a save over
someone else's newer wording is refused. Triage hiding needs no schema.

Revision ID: b23b0f11e5a2
Revises: a23a0c5e55f1
Create Date: 2026-12-03 19:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b23b0f11e5a2'
down_revision: str | None = 'a23a0c5e55f1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stored_file") as batch:
        batch.add_column(sa.Column("public_id", sa.String(length=32), nullable=True))
    stored_file = sa.table("stored_file", sa.column("id", sa.Integer),
                           sa.column("public_id", sa.String))
    connection = op.get_bind()
    ids = connection.scalars(sa.select(stored_file.c.id)).all()
    # One random id each, as foitrack.models.stored_file.new_public_id makes them.
    for file_id in ids:
        connection.execute(stored_file.update().where(stored_file.c.id == file_id)
                           .values(public_id=secrets.token_urlsafe(16)))
    with op.batch_alter_table("stored_file") as batch:
        batch.alter_column("public_id", existing_type=sa.String(length=32), nullable=False)
        batch.create_unique_constraint(batch.f("uq_stored_file_public_id"), ["public_id"])
    with op.batch_alter_table("mail_template") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("mail_template") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("stored_file") as batch:
        batch.drop_constraint(batch.f("uq_stored_file_public_id"), type_="unique")
        batch.drop_column("public_id")
