"""A smoke run of the load test at a tiny size: real gunicorn, real locust, the test database.

Three simulated users for five seconds against gunicorn on the backend the suite runs on
(SQLite, or PostgreSQL when FOITRACK_TEST_DATABASE_URL is set). It asserts that no request
failed and that every write the users saw succeed is in the database; the latencies live in
docs/reliability.md, and speed is never asserted here."""

from __future__ import annotations

import copy

import pytest

from benchmarks import load
from tests.databases import ScratchDatabases

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def short_run(scratch: ScratchDatabases) -> tuple[str, load.Outcome]:
    url = scratch.new_url()
    load.fill(url, 1000)
    return url, load.run(url, users=3, seconds=5, workers=2, think=(0.1, 0.3))


def test_a_short_load_has_no_errors_and_every_write_lands(short_run):
    _url, outcome = short_run
    assert outcome.locust_status == 0
    assert outcome.failures == []
    totals = next(row for row in outcome.rows if row["name"] == "Aggregated")
    assert totals["count"] > 0 and totals["failures"] == 0
    # Each researcher saves its own grid as it starts, so there are writes to look for.
    assert outcome.writes["grid_saves"] >= 1
    assert outcome.write_problems == []
    assert outcome.errors == 0


def test_the_write_check_notices_a_write_the_database_does_not_hold(short_run):
    url, outcome = short_run
    claimed = copy.deepcopy(outcome.writes)
    claimed["api_events"].append("a note nobody saved")
    cell, value = next(iter(claimed["cells"].items()))
    claimed["cells"][cell] = str(int(value) + 1)

    problems = load.check_writes(url, outcome.config, claimed)

    assert len(problems) == 2
    assert "a note nobody saved" in problems[0]
    assert cell in problems[1]
