"""A smoke run of the latency benchmark at its smallest size: 2 campaigns, one run, real
gunicorn, on the backend the suite runs on (SQLite, or PostgreSQL when
FOITRACK_TEST_DATABASE_URL is set). It asserts the table names every page with three timings
and that each timed write landed; the figures live in docs/benchmarks.md, and speed is never
asserted here."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from benchmarks import latency, publish
from foitrack.db import make_engine
from foitrack.models import AuditEntry, PublishedRelease
from tests.databases import ScratchDatabases

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PAGES = ["dashboard", "campaign list", "campaign", "chase list", "aggregate + charts",
         "aggregate cell", "release", "fact sheet list", "fact sheet + charts", "request",
         "figure grid", "checks", "data design", "export .csv", "series list", "series + charts"]
NUMBER = re.compile(r"\d+\.\d")


def test_the_latency_benchmark_times_every_page_warm_and_after_both_writes(
        scratch: ScratchDatabases, capsys: pytest.CaptureFixture[str]) -> None:
    url = scratch.new_url()
    assert latency.main(["--campaigns", "2", "--runs", "1", "--database", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"latency: {scratch.backend}, 2 campaigns x 43 requests, ")
    assert "median of 1 runs" in lines[0]
    assert re.fullmatch(r"load average \(1 min\): \d+\.\d\d at start, \d+\.\d\d at end", lines[1])
    assert lines[2].split() == ["page", "warm", "ms", "cold,", "write", "elsewhere", "ms",
                                "cold,", "own", "write", "ms"]
    rows = [line.rsplit(maxsplit=3) for line in lines[3:3 + len(PAGES)]]
    assert [row[0] for row in rows] == PAGES
    assert all(NUMBER.fullmatch(cell) for row in rows for cell in row[1:])
    # Charts are loaded with their pages: the aggregate's, a fact sheet's and the series'.
    assert re.search(r"aggregate \+ charts \d, fact sheet \+ charts \d, series \+ charts \d",
                     lines[3 + len(PAGES)])
    # Each page was timed after a write elsewhere and one to its own campaign.
    engine = make_engine(url)
    with engine.connect() as connection:
        writes = connection.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.entity_type == "figure", AuditEntry.action == "update"))
    engine.dispose()
    assert writes == 2 * len(PAGES)


def test_the_publish_benchmark_publishes_a_campaign_of_43_and_rolls_it_back(
        scratch: ScratchDatabases, capsys: pytest.CaptureFixture[str]) -> None:
    url = scratch.new_url()
    assert publish.main(["--campaigns", "1", "--runs", "2", "--database", url,
                         "--write-files"]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert re.fullmatch(r"publish latency-0 \(43 requests\): \d+\.\d\d, \d+\.\d\d s; "
                        r"median \d+\.\d\d s", line), line
    engine = make_engine(url)
    try:
        with engine.connect() as connection:  # every run rolled back: nothing published
            assert connection.execute(select(func.count(PublishedRelease.id))).scalar() == 0
    finally:
        engine.dispose()
