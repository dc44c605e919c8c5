"""Rates and series: population per authority, series of campaigns, reference figures.

A measure gains ``rate_per`` (100,000 unless the campaign file says otherwise; 0: no rate)
and ``rate_base``; a campaign gains ``series_id``, ``cadence_months`` (how far apart its
repeats are) and ``send_on_reminded``. Campaigns already linked by "repeat" are put into one
series per chain, named after the first campaign of the chain without its year (as "Repeat next
year" names one), so their years line up at once.

Revision ID: e25e1a0b2c3d
Revises: d24d1f2a3b4c
Create Date: 2026-12-04 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foitrack.db
from foitrack.domain.series_table import series_name_base, series_slug_base

revision: str = 'e25e1a0b2c3d'
down_revision: str | None = 'd24d1f2a3b4c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series')),
    sa.UniqueConstraint('slug', name=op.f('uq_series_slug'))
    )
    op.create_table('population',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('authority_id', sa.Integer(), nullable=False),
    sa.Column('base', sa.String(length=50), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('population', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('created_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['authority_id'], ['authority.id'], name=op.f('fk_population_authority_id_authority'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population')),
    sa.UniqueConstraint('authority_id', 'base', 'year', name=op.f('uq_population_authority_id_base_year'))
    )
    with op.batch_alter_table('population', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_authority_id'), ['authority_id'], unique=False)

    op.create_table('reference_figure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=300), nullable=False),
    sa.Column('period', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', foitrack.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_reference_figure_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_figure'))
    )
    with op.batch_alter_table('reference_figure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reference_figure_campaign_id'), ['campaign_id'], unique=False)

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_on_reminded', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('series_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cadence_months', sa.Integer(), server_default='12', nullable=False))
        batch_op.create_index(batch_op.f('ix_campaign_series_id'), ['series_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_campaign_series_id_series'), 'series', ['series_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_per', sa.Integer(), server_default='100000', nullable=False))
        batch_op.add_column(sa.Column('rate_base', sa.String(length=50), server_default='population', nullable=False))

    _series_for_repeat_chains()


def _series_for_repeat_chains() -> None:
    """One series per chain of repeats, slug and name from the chain's first campaign without
    its trailing year ("grooming-2019" gives "grooming"), the slug made unique ("grooming-2")."""
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, slug, title, repeat_of_id FROM campaign "
                                      "ORDER BY id"))
    campaigns = {row.id: row for row in rows}
    repeated = {row.repeat_of_id for row in campaigns.values() if row.repeat_of_id}
    chains: dict[int, list[int]] = {}
    for campaign in campaigns.values():
        if campaign.repeat_of_id is None and campaign.id not in repeated:
            continue
        root, seen = campaign, set()
        while root.repeat_of_id in campaigns and root.id not in seen:
            seen.add(root.id)
            root = campaigns[root.repeat_of_id]
        chains.setdefault(root.id, []).append(campaign.id)
    now = foitrack.db.utcnow()
    taken: set[str] = set()  # the series table is new: only the ones made here can clash
    for root_id, members in sorted(chains.items()):
        root = campaigns[root_id]
        # A campaign slug is already a slug, and so is what is left without its year; kept
        # short enough for a "-N" (services.series._unique_slug does the same).
        base = series_slug_base(root.slug)[:76].strip("-") or "series"
        slug, number = base, 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
        taken.add(slug)
        series_id = connection.execute(
            sa.text("INSERT INTO series (slug, name, created_at) VALUES (:slug, :name, :now) "
                    "RETURNING id").bindparams(sa.bindparam("now", type_=foitrack.db.UTCDateTime())),
            {"slug": slug, "name": series_name_base(root.title)[:300], "now": now}).scalar_one()
        connection.execute(sa.text("UPDATE campaign SET series_id = :series WHERE id IN "
                                   "(" + ", ".join(str(int(m)) for m in members) + ")"),
                           {"series": series_id})


def downgrade() -> None:
    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.drop_column('rate_base')
        batch_op.drop_column('rate_per')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaign_series_id_series'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_campaign_series_id'))
        batch_op.drop_column('cadence_months')
        batch_op.drop_column('series_id')
        batch_op.drop_column('send_on_reminded')

    with op.batch_alter_table('reference_figure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reference_figure_campaign_id'))

    op.drop_table('reference_figure')
    with op.batch_alter_table('population', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_authority_id'))

    op.drop_table('population')
    op.drop_table('series')
