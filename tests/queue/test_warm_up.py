"""After a write, a real `foitrack worker` builds the campaign's aggregate, charts and chart
images into the shared cache (Redis) before anyone asks, and the web process then finds them
there under the versions its page reads (issue 22, point 3, where a task queue exists)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import redis

from foitrack.domain.clock import today_in_uk
from foitrack.exporters import charts
from foitrack.services import aggregate, data_version, page_data, release, shared_cache
from foitrack.services import series as series_service
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.web import page_cache, warm
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.pages import chart_sources, counting, sign_in
from tests.queue.conftest import REDIS_URL, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

HEADER = b"authority,measure,period,dimension,category,value,caveat,source\n"
BASE = "/campaigns/grooming-2019"


@pytest.fixture
def queued_warm_up(app, worker_env) -> Iterator[shared_cache.SharedCache]:
    """The app as a web process of a deployment with Redis as its broker: its cache backed by
    Redis (CACHE_URL unset: the broker's), and a write's warm-up handed to the queue 0.3 s on.
    Yields the shared cache; what the test put there is deleted afterwards."""
    app.config["WARM_UP_DELAY"] = 0.3
    page_cache.init_app(app.extensions, app.config)
    warm.init_app(app)
    shared = page_cache.of(app.extensions).shared
    assert shared is not None and warm.warmer_of(app) is None  # the queue's warm-up, not ours
    yield shared
    app.config["WARM_UP_DELAY"] = None
    warm.init_app(app)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{shared.namespace}*"):
        client.delete(key)


def in_shared_cache(shared, session, campaign_id: int) -> bool:
    """Whether the aggregate of everyone and its charts' images are in Redis under the versions
    now, as the page will look for them."""
    session.rollback()
    version = data_version.of_campaigns(session, [campaign_id])
    key = page_data.aggregate_key(campaign_id, None, False)
    if not shared.has(version, key):
        return False
    built = shared.get(version, key, lambda: pytest.fail("not there after all"))
    return bool(built.charts) and all(shared.has(version, page_data.image_key(
        page_data.chart_key(campaign_id, None, False, c.name), page_data.SHOWN_FORMAT))
        for c in built.charts)


def test_a_worker_builds_a_written_campaigns_pages_before_anyone_asks(
        app, client, session, queued_warm_up, start_worker, monkeypatch):
    worker = start_worker()
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN)
    session.commit()
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        HEADER + b"E23000032,offences,2018-19,,,1234,,\nE23000016,offences,2018-19,,,100,,\n"))
    session.commit()  # the write: nothing in this process builds anything
    wait_for(lambda: in_shared_cache(queued_warm_up, session, campaign.id), timeout=60,
             what=f"the worker's warm-up:\n{worker.output()}")
    computed: list[object] = []
    real = aggregate.build
    monkeypatch.setattr(aggregate, "build", lambda *a, **k: computed.append(1) or real(*a, **k))
    sign_in(client, make_user(session, role="viewer").email)
    page = client.get(f"{BASE}/aggregate")
    assert page.status_code == 200 and ">1,334</a>" in page.get_data(as_text=True)
    chart = client.get(f"{BASE}/charts/national-total-offences.svg")
    assert chart.status_code == 200 and b"1,334" in chart.get_data()
    assert computed == []  # found in Redis, built by the worker


def test_a_command_line_import_is_warmed_by_a_worker_too(
        app, session, queued_warm_up, worker_env, start_worker, tmp_path):
    """`foitrack figures import` writes from a process of its own: with a broker, it asks a
    worker to warm the campaign's pages as the web app does after a person's save."""
    worker = start_worker()
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN)
    session.commit()
    upload = tmp_path / "figures.csv"
    upload.write_bytes(HEADER + b"E23000032,offences,2018-19,,,1234,,\n")
    done = subprocess.run(
        [sys.executable, "-m", "foitrack.cli", "figures", "import", "grooming-2019",
         str(upload), "--yes"],
        env={**os.environ, **worker_env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    wait_for(lambda: in_shared_cache(queued_warm_up, session, campaign.id), timeout=60,
             what=f"the worker's warm-up after the import:\n{worker.output()}")
    version = data_version.of_campaigns(session, [campaign.id])
    built = queued_warm_up.get(version, page_data.aggregate_key(campaign.id, None, False),
                               lambda: pytest.fail("not there after all"))
    assert [r.total for r in built.result.rows if r.cell.level == "total"] == [1234]


def test_a_worker_builds_the_campaigns_series_and_fact_sheet_too(
        app, client, session, queued_warm_up, start_worker, monkeypatch):
    """The worker, a process of its own, also builds the series the campaign is in (table,
    charts, images) and the last-written authority's fact sheet: opening them builds nothing."""
    worker = start_worker()
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN)
    series_service.link(session, TEST_ACTOR, series_service.create_series(
        session, TEST_ACTOR, slug="grooming", name="Grooming"), campaign)
    session.commit()
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        HEADER + b"E23000016,offences,2018-19,,,100,,\nE23000032,offences,2018-19,,,1234,,\n"))
    session.commit()

    def series_ready() -> bool:
        session.rollback()
        series = series_service.get_series(session, "grooming")
        version = data_version.of_campaigns(session, [campaign.id],
                                            data_version.series_scope(series.id))
        key = page_data.series_key(series.id, None, [campaign.id], app.config["TODAY"] or today_in_uk())
        if not queued_warm_up.has(version, key):
            return False
        kept = queued_warm_up.get(version, key, lambda: pytest.fail("not there after all"))
        return all(queued_warm_up.has(version, page_data.image_key(
            page_data.series_chart_key(key, c.name), page_data.SHOWN_FORMAT))
            for c in kept.charts)

    wait_for(lambda: in_shared_cache(queued_warm_up, session, campaign.id) and series_ready(),
             timeout=60, what=f"the worker's warm-up:\n{worker.output()}")
    drawn = counting(monkeypatch, (series_service, "series_table"), (release, "fact_sheet"),
                     (charts, "render"), (charts, "authority_against_total"))
    sign_in(client, make_user(session, role="viewer").email)
    # The import wrote both at once: of a tie, the first authority by id (West Mercia).
    for path in ("/series/grooming", f"{BASE}/fact-sheets/west-mercia"):
        page = client.get(path)
        assert page.status_code == 200 and "1,334" in page.get_data(as_text=True), path
        for image in chart_sources(page.get_data(as_text=True)):
            assert client.get(image).status_code == 200, image
    assert drawn == []  # found in Redis, built by the worker

