"""Browser tests: the app served on a loopback port, driven in Debian's headless Chromium.

Each module gets its own server and database, so a test story can build on its earlier steps.
The pages are opened and checked with tests/browser/chromium.py.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from foitrack import create_app, migrate
from foitrack.db import make_engine
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.databases import ScratchDatabases
from tests.factories import load_forces, make_user


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make test`, which installs "
                    "Debian's chromium package, or set FOITRACK_CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live_server(scratch: ScratchDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = scratch.new_url()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    folder = tmp_path_factory.mktemp("live")
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(folder / "instance"),
                      "SECRET_KEY": uuid.uuid4().hex, "STORAGE_PATH": str(folder / "files")})
    with app.extensions["foitrack.db"].session() as session:
        load_forces(session)
        researcher = make_user(session, "researcher", "rosa@example.org").email
        checker = make_user(session, "researcher", "chen@example.org").email
        admin = make_user(session, "admin", "ada@example.org").email
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", researcher, checker, admin,
                         scratch.backend)
    finally:
        server.shutdown()
        thread.join(5)
        app.extensions["foitrack.db"].engine.dispose()
