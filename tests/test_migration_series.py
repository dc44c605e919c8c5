"""The rates-and-series migration puts campaigns already linked by "repeat" into a series."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from foitrack import migrate
from foitrack.db import make_engine

pytestmark = pytest.mark.postgres

BEFORE = "d24d1f2a3b4c"


def _campaign(connection, slug: str, title: str, repeat_of: int | None) -> int:
    return connection.execute(
        text("INSERT INTO campaign (slug, title, status, repeat_of_id, created_at, updated_at, "
             "design_version) VALUES (:slug, :title, 'draft', :repeat_of, CURRENT_TIMESTAMP, "
             "CURRENT_TIMESTAMP, 1) RETURNING id"),
        {"slug": slug, "title": title, "repeat_of": repeat_of}).scalar_one()


def test_each_chain_of_repeats_becomes_one_series_named_for_its_first_campaign(scratch):
    """Named as "Repeat next year" names one: the first campaign's slug and title without
    their year, the slug made unique."""
    engine = make_engine(scratch.new_url())
    try:
        migrate.upgrade(engine, BEFORE)
        with engine.begin() as connection:
            first = _campaign(connection, "grooming-2019", "Online grooming 2019", None)
            second = _campaign(connection, "grooming-2020", "Online grooming 2020", first)
            third = _campaign(connection, "grooming-2021", "Online grooming 2021", second)
            other = _campaign(connection, "stalking-2020", "Stalking 2020", None)
            other_repeat = _campaign(connection, "stalking-2021", "Stalking 2021", other)
            alone = _campaign(connection, "knives-2020", "Knife crime 2020", None)
            again = _campaign(connection, "grooming-2018-19", "Online grooming, 2018/19", None)
            again_repeat = _campaign(connection, "grooming-2019-20", "Online grooming, 2019/20",
                                     again)
        migrate.upgrade(engine)
        with engine.connect() as connection:
            series = {row.slug: row for row in connection.execute(
                text("SELECT id, slug, name FROM series"))}
            member = dict(connection.execute(text("SELECT id, series_id FROM campaign")).all())
            cadence = set(connection.execute(text("SELECT cadence_months FROM campaign")).scalars())
        assert {slug: row.name for slug, row in series.items()} == {
            "grooming": "Online grooming", "stalking": "Stalking",
            "grooming-2": "Online grooming"}
        grooming, stalking = series["grooming"].id, series["stalking"].id
        assert [member[c] for c in (first, second, third)] == [grooming] * 3
        assert [member[c] for c in (other, other_repeat)] == [stalking] * 2
        assert [member[c] for c in (again, again_repeat)] == [series["grooming-2"].id] * 2
        assert member[alone] is None
        assert cadence == {12}
        if engine.dialect.name == "sqlite":
            # Batch mode rebuilt the campaign table with the keys off; they are on again.
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
