"""Heavy pages answer at once (issue 22, point 3): two processes asked for the same cold
aggregate build it once between them (Redis, shared); after a write the campaign's aggregate and
chart images are built in the background before anyone asks (here, the in-process warm-up of a
deployment without a task queue); and with Redis down the pages still answer."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from foitrack.exporters import charts
from foitrack.services import aggregate, data_version, page_data, release
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.web import page_cache, warm
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.pages import cell_names, chart_sources, counting, csrf_token, sign_in

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("FOITRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SLUG = "grooming-2019"
BASE = f"/campaigns/{SLUG}"
HEADER = b"authority,measure,period,dimension,category,value,caveat,source\n"
TOTAL = "Offences of sexual communication with a child recorded, 2018/19, total"


@pytest.fixture
def campaign(session):
    """grooming-2019 with Kent's and West Mercia's figures; its id."""
    load_forces(session)
    found = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN)
    import_csv(session, TEST_ACTOR, found, io.BytesIO(
        HEADER + b"E23000032,offences,2018-19,,,1234,,\nE23000016,offences,2018-19,,,100,,\n"))
    found.min_coverage = 0.02  # two of 43 forces: enough for the release to state the total
    session.commit()
    return found.id


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue name of this test's own: the shared cache's names start with it, so nothing of
    another test or run is found, and its keys are deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"foitrack:{name}:*"):
        client.delete(key)


def counting_builds(monkeypatch) -> list[object]:
    """Each aggregate this process computes, from now on."""
    calls: list[object] = []
    real = aggregate.build

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(aggregate, "build", counted)
    return calls


# ---- two processes, one build -----------------------------------------------------------------

# A web process of its own (its app, its page cache), signed in, that loads the aggregate page
# when told to on stdin and reports how many aggregates it computed.
WEB_PROCESS = r"""
import json, sys, time
from foitrack import create_app
from foitrack.services import aggregate
from tests.pages import sign_in

settings, email, path = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
computed = []
real = aggregate.build

def slow_build(*args, **kwargs):
    computed.append(1)
    time.sleep(0.5)  # long enough that the other process asks while this one builds
    return real(*args, **kwargs)

aggregate.build = slow_build
app = create_app(settings)
client = app.test_client()
assert sign_in(client, email).status_code == 302
print("ready", flush=True)
sys.stdin.readline()
page = client.get(path)
print(json.dumps({"status": page.status_code, "computed": len(computed),
                  "total": ">1,334</a>" in page.get_data(as_text=True)}), flush=True)
"""


def start_web_process(settings: dict[str, object], email: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WEB_PROCESS, json.dumps(settings), email, f"{BASE}/aggregate"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_two_processes_asked_for_the_same_cold_aggregate_build_it_once(
        database_url, tmp_path, session, campaign, queue_name):
    email = make_user(session, role="viewer").email
    processes = [start_web_process({
        "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / f"web{n}"),
        "SECRET_KEY": "one key for both", "TESTING": True, "CACHE_URL": REDIS_URL,
        "QUEUE": queue_name}, email) for n in (1, 2)]
    try:
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.strip() == "ready", process.communicate(timeout=30)
        for process in processes:  # both at once
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert [r["status"] for r in reports] == [200, 200]
    assert all(r["total"] for r in reports)  # both show the numbers
    assert sum(r["computed"] for r in reports) == 1


# ---- Redis down -------------------------------------------------------------------------------

def test_with_redis_down_the_pages_still_answer(app, client, session, campaign, caplog):
    app.config["CACHE_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    page_cache.init_app(app.extensions, app.config)
    sign_in(client, make_user(session, role="viewer").email)
    caplog.set_level(logging.WARNING, logger="foitrack.services.shared_cache")
    for _ in range(2):
        page = client.get(f"{BASE}/aggregate")
        assert page.status_code == 200
        assert ">1,334</a>" in page.get_data(as_text=True)
    chart = client.get(f"{BASE}/charts/national-total-offences.svg")
    assert chart.status_code == 200 and b"1,334" in chart.get_data()
    assert client.get(f"{BASE}/release").status_code == 200
    # The shared tier was asked, found down, and said so once, not once a request.
    assert page_cache.of(app.extensions).shared is not None
    assert len([r for r in caplog.records if "did not answer" in r.getMessage()]) == 1


# ---- the warm-up in the web process ----------------------------------------------------------

@pytest.fixture
def warming(app) -> Iterator[warm.Warmer]:
    """The app warms a campaign's pages 0.3 s after the last write to it, in a thread of its
    own (no broker: the embedded queue)."""
    app.config["WARM_UP_DELAY"] = 0.3
    warm.init_app(app)
    warmer = warm.warmer_of(app)
    assert warmer is not None
    yield warmer
    app.config["WARM_UP_DELAY"] = None
    warm.init_app(app)  # stops the thread and the listening


def save_kent(client, value: str, base: str) -> None:
    """A researcher's save of Kent's total in the figures grid."""
    url = f"{BASE}/requests/kent/figures"
    total = cell_names(client.get(url).get_data(as_text=True))[TOTAL]
    assert client.post(url, data={"csrf_token": csrf_token(client, url), total: value,
                                  f"base-{total}": base}).status_code == 302


def ready(app, session, campaign_id: int) -> bool:
    """Whether the aggregate of everyone and its charts' images are kept under the versions
    now: what the aggregate page would find without building."""
    session.rollback()  # read the versions as they are now
    version = data_version.of_campaigns(session, [campaign_id])
    cache = page_cache.of(app.extensions)
    key = page_data.aggregate_key(campaign_id, None, False)
    if not cache.has(version, key):
        return False
    built = cache.get(version, key, lambda: pytest.fail("built again"))
    return all(cache.has(version, page_data.image_key(
        page_data.chart_key(campaign_id, None, False, c.name), page_data.SHOWN_FORMAT))
        for c in built.charts)


def wait_until(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {timeout} s")
        time.sleep(0.05)


def test_after_a_write_the_aggregate_and_its_charts_are_ready_before_anyone_asks(
        app, client, session, campaign, warming, monkeypatch):
    sign_in(client, make_user(session, role="researcher").email)
    assert not ready(app, session, campaign)  # nobody has asked yet
    save_kent(client, "1235", "1234")
    # ... and nobody loaded a page meanwhile. The count goes up just after the last image is
    # kept: wait for both, or a busy machine reads it in between.
    wait_until(lambda: ready(app, session, campaign) and warming.warmed >= 1)
    assert warming.warmed == 1
    computed = counting_builds(monkeypatch)
    builds = page_cache.of(app.extensions).builds
    page = client.get(f"{BASE}/aggregate").get_data(as_text=True)
    assert ">1,335</a>" in page and ">1,334</a>" not in page
    chart = client.get(f"{BASE}/charts/national-total-offences.svg").get_data(as_text=True)
    assert "1,335" in chart
    assert computed == []  # the aggregate was there, under the versions the page read
    # Only the page's own HTML tables and map were drawn, not the aggregate, charts or image.
    assert page_cache.of(app.extensions).builds - builds == 2
    assert "1,335" in client.get(f"{BASE}/release").get_data(as_text=True)
    assert computed == []


def test_a_burst_of_writes_is_warmed_once_and_reads_warm_nothing(
        app, client, session, campaign, warming):
    warming.delay = 4.0  # room for three saves even on a busy machine
    sign_in(client, make_user(session, role="researcher").email)
    saved = []
    for value, base in (("1235", "1234"), ("1236", "1235"), ("1237", "1236")):
        save_kent(client, value, base)
        saved.append(time.monotonic())
    assert saved[-1] - saved[0] < warming.delay  # each within the window of the last
    wait_until(lambda: ready(app, session, campaign) and warming.warmed >= 1)
    time.sleep(2.5)
    assert warming.warmed == 1
    for _ in range(3):
        client.get(f"{BASE}/aggregate")
        client.get(f"{BASE}/release")
    time.sleep(2.5)
    assert warming.warmed == 1  # a read asks for nothing


def test_a_write_to_one_campaign_warms_only_that_one(app, client, session, campaign, warming):
    other = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        f'slug = "{SLUG}"', 'slug = "other-2019"'))
    session.commit()
    wait_until(lambda: ready(app, session, other.id))  # its creation was a write to it
    sign_in(client, make_user(session, role="researcher").email)
    save_kent(client, "1235", "1234")
    wait_until(lambda: ready(app, session, campaign) and warming.warmed >= 2)
    assert warming.warmed == 2  # the other once, at its creation, and this one
    assert ready(app, session, other.id)  # still valid: the write was not to it


def test_after_a_write_the_release_and_the_written_authoritys_fact_sheet_are_ready_too(
        app, client, session, campaign, warming, monkeypatch):
    """The release and the fact sheet of the authority just written (page, chart and image)
    are built with the aggregate: opening them builds nothing. The series is left to a worker
    (tests/queue)."""
    sign_in(client, make_user(session, role="researcher").email)
    save_kent(client, "1235", "1234")
    wait_until(lambda: warming.warmed >= 1)
    drawn = counting(monkeypatch, (release, "fact_sheet"), (release, "national_release"),
                     (charts, "render"), (charts, "authority_against_total"))
    page = client.get(f"{BASE}/fact-sheets/kent")
    assert page.status_code == 200 and "1,235" in page.get_data(as_text=True)
    images = chart_sources(page.get_data(as_text=True))
    assert images
    for image in images:
        assert client.get(image).status_code == 200, image
    release_page = client.get(f"{BASE}/release")
    assert release_page.status_code == 200 and "1,335" in release_page.get_data(as_text=True)
    assert drawn == []  # the sheet, its chart and its image, and the release, were there



def test_after_a_write_the_series_is_ready_too_drawn_in_a_process_apart(
        app, client, session, campaign, warming, monkeypatch):
    """The web process's own warm-up builds the series the campaign is in (table, charts and
    images) as a worker does, its images drawn in a child process: vl-convert holds the
    interpreter lock while it draws, so drawn here they would stall this process's requests.
    Opening the series page and its images after the warm-up builds nothing."""
    from foitrack.exporters import chart_images
    from foitrack.models import Campaign
    from foitrack.services import series as series_service

    series_service.link(session, TEST_ACTOR, series_service.create_series(
        session, TEST_ACTOR, slug="grooming", name="Grooming"), session.get(Campaign, campaign))
    session.commit()
    sign_in(client, make_user(session, role="researcher").email)
    wait_until(lambda: warming.warmed >= 1, timeout=60)  # the link was a write to it too
    apart = counting(monkeypatch, (chart_images, "draw_apart"))
    save_kent(client, "1235", "1234")
    wait_until(lambda: warming.warmed >= 2 and ready(app, session, campaign), timeout=60)
    assert apart  # every image of the warm-up was drawn apart
    drawn = counting(monkeypatch, (series_service, "series_table"), (charts, "render"),
                     (chart_images, "draw_apart"))
    page = client.get("/series/grooming")
    assert page.status_code == 200 and "1,235" in page.get_data(as_text=True)
    images = chart_sources(page.get_data(as_text=True))
    assert images
    for image in images:
        assert client.get(image).status_code == 200, image
    assert drawn == []  # the table, its charts and their images were there


def test_after_a_write_the_checks_page_is_ready_too(app, client, session, campaign, warming,
                                                   monkeypatch):
    """The consistency findings (worked out from every figure and timeline) are built with
    the rest of the warm-up: the checks page opened after a save works nothing out."""
    from foitrack.services import checks

    sign_in(client, make_user(session, role="researcher").email)
    save_kent(client, "99999", "1234")  # far from West Mercia's: a finding or not, worked out
    wait_until(lambda: ready(app, session, campaign) and warming.warmed >= 1)
    worked_out = counting(monkeypatch, (checks, "findings"))
    assert client.get(f"{BASE}/checks/").status_code == 200
    assert worked_out == []


def test_the_warm_up_waits_while_the_process_answers_a_request(
        app, client, session, campaign, warming):
    """A person's request comes first: while one is being answered here, the warm-up builds
    nothing (it goes on once the request ends, or after warm.MAX_YIELD seconds)."""
    sign_in(client, make_user(session, role="researcher").email)
    save_kent(client, "1235", "1234")
    warming.serving(+1)  # a long request, in flight
    try:
        time.sleep(1.5)  # five times the delay
        assert warming.warmed == 0 and not ready(app, session, campaign)
    finally:
        warming.serving(-1)
    wait_until(lambda: ready(app, session, campaign) and warming.warmed == 1)
