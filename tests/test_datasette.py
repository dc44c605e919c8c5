"""`foitrack datasette` run as a user runs it: Datasette over the public releases' databases,
with their metadata and canned queries, and nothing embargoed or unpublished reachable at any
address, to anyone, until its embargo lifts by itself (issue 20, point 3)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from foitrack.cli import main
from foitrack.models import Figure, StoredFile
from foitrack.services import api_tokens, publishing
from foitrack.services.datasette_site import FORCE_FIGURES, NATIONAL_TOTALS
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, make_user
from tests.pages import sign_in
from tests.queue.conftest import free_port, wait_for
from tests.test_publish import FIGURES, SMALL, answered_campaign

pytestmark = pytest.mark.slow

TODAY = dt.date(2019, 6, 10)
PUBLISHED = dt.datetime(2019, 6, 10, 9, 30, tzinfo=dt.UTC)
FAR = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
PUBLIC = "grooming-2019-v1"
# Version 2 of the public campaign under embargo; another campaign's only version under
# embargo; a campaign never published (its name is what a guess would try).
HIDDEN = ["grooming-2019-v2", "embargoed-2020-v1", "unpublished-2021-v1"]
SECRET_TITLES = ["Version two, not yet out", "Embargoed 2020 figures"]
WHO = ["anonymous", "token", "signed-in"]


class Server:
    """A `foitrack datasette` process on a free loopback port."""

    def __init__(self, env: dict[str, str], *options: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "foitrack.cli", "datasette", "--port", str(self.port),
             *options],
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        try:
            wait_for(self._answers, timeout=60, what=f"foitrack datasette:\n{self.output()}")
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines[-40:])

    def _answers(self) -> bool:
        assert self.process.poll() is None, f"foitrack datasette stopped:\n{self.output()}"
        try:
            with urllib.request.urlopen(f"{self.base}/-/versions.json", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Visitor:
    """Someone asking: anonymous, with a foitrack API token in the query string and header,
    or with a signed-in foitrack session cookie. Datasette must show each the same."""

    def __init__(self, server: Server, query: str = "", headers: dict[str, str] | None = None):
        self.server, self.query, self.headers = server, query, headers or {}

    def get(self, path: str) -> tuple[int, str]:
        joiner = "&" if "?" in path else "?"
        return self.server.get(path + (joiner + self.query if self.query else ""), self.headers)

    def json(self, path: str) -> object:
        status, body = self.get(path)
        assert status == 200, (path, status, body[:500])
        return json.loads(body)


def publish(app, session, campaign, **options):
    """As `foitrack publish` does: the release, then its files in the instance."""
    options.setdefault("title", "Online grooming: 2018/19")
    release = publishing.publish(session, TEST_ACTOR, campaign, today=TODAY, now=PUBLISHED,
                                 **options)
    publishing.write_files(release, publishing.release_folder(
        Path(app.instance_path) / "releases", release), FileStore(app.config["STORAGE_PATH"]))
    session.commit()
    return release


def another_campaign(session, slug):
    made = create_from_file(session, TEST_ACTOR, SMALL.replace('slug = "grooming-2019"',
                                                               f'slug = "{slug}"'))
    import_csv(session, TEST_ACTOR, made, io.BytesIO(FIGURES))
    return made


@pytest.fixture
def releases(app, session):
    """grooming-2019 v1 public (one reply document ticked), its v2 and embargoed-2020's v1
    under embargo till 2099, unpublished-2021 never published."""
    campaign = answered_campaign(session)
    for figure in session.scalars(select(Figure).order_by(Figure.id)):
        data = f"reply {figure.id}".encode()
        figure.source_file = StoredFile(sha256=FileStore(app.config["STORAGE_PATH"]).put(data),
                                        filename=f"reply-{figure.id}.xlsx", size=len(data),
                                        content_type="application/octet-stream",
                                        created_by="tests")
    session.commit()
    figure_ids = list(session.scalars(select(Figure.id).order_by(Figure.id)))
    public = publish(app, session, campaign, documents=figure_ids[:1])
    publish(app, session, campaign, title=SECRET_TITLES[0], note="Kent's figure corrected",
            embargo_until=FAR)
    publish(app, session, another_campaign(session, "embargoed-2020"), title=SECRET_TITLES[1],
            embargo_until=FAR)
    another_campaign(session, "unpublished-2021")
    session.commit()
    return {"public": public, "ticked": f"reply-{figure_ids[0]}.xlsx",
            "unticked": [f"reply-{i}.xlsx" for i in figure_ids[1:]]}


@pytest.fixture
def server(cli_env, releases):
    started = Server(cli_env)
    yield started
    started.stop()


@pytest.fixture
def visitors(app, session, server):
    user = make_user(session, role="admin")
    _, token = api_tokens.create_token(session, TEST_ACTOR, user, "partner feed")
    session.commit()
    client = app.test_client()
    assert sign_in(client, user.email).status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    quoted = urllib.parse.quote(token)
    return {
        "anonymous": Visitor(server),
        "token": Visitor(server, f"token={quoted}&_token={quoted}&api_key={quoted}",
                         {"Authorization": f"Bearer {token}"}),
        "signed-in": Visitor(server, headers={"Cookie": f"session={cookie.value}"}),
    }


def hidden_addresses(name):
    return [f"/{name}", f"/{name}.json", f"/{name}/figures", f"/{name}/figures.json",
            f"/{name}/figures.csv", f"/{name}/figures/1", f"/{name}.db",
            f"/{name}?sql=select+*+from+figures", f"/{name}.json?sql=select+1",
            f"/{name}/{FORCE_FIGURES}?authority=Kent+Police",
            f"/{name}/{FORCE_FIGURES}.json?authority=E23000032",
            f"/{name}/{NATIONAL_TOTALS}", f"/{name}/{NATIONAL_TOTALS}.csv"]


def listings():
    return ["/", "/.json", "/-/databases.json", "/-/metadata.json", f"/{PUBLIC}",
            f"/{PUBLIC}.json", f"/{PUBLIC}/figures.json?_shape=array",
            f"/{PUBLIC}/figures.csv?_size=max"]


def assert_tells_nothing_hidden(body, where):
    for secret in [*HIDDEN, *SECRET_TITLES, "embargoed-2020", "unpublished-2021"]:
        assert secret not in body, f"{where} shows {secret}"


@pytest.mark.parametrize("who", WHO)
def test_no_embargoed_or_unpublished_release_is_reachable(server, visitors, releases, who):
    visitor = visitors[who]
    for name in HIDDEN:
        for path in hidden_addresses(name):
            status, body = visitor.get(path)
            assert status == 404, (who, path, status)
            assert_tells_nothing_hidden(body, path)
    for path in listings():
        status, body = visitor.get(path)
        assert status == 200, (who, path, status)
        assert_tells_nothing_hidden(body, path)
        for unticked in releases["unticked"]:  # a reply document not ticked is never named
            assert unticked not in body, (path, unticked)
    databases = visitor.json("/-/databases.json")
    assert [d["name"] for d in databases] == [PUBLIC]
    assert all(not d["is_mutable"] for d in databases)
    assert set(visitor.json("/-/metadata.json")["databases"]) == {PUBLIC}
    # Datasette's own databases: no in-memory one, and its catalogue for no one but root.
    assert visitor.get("/_memory?sql=select+1")[0] == 404
    assert visitor.get("/_internal/tables.json")[0] in (403, 404)


@pytest.mark.parametrize("who", WHO)
def test_sql_reaches_no_other_file(server, visitors, app, who):
    visitor = visitors[who]
    embargoed = (Path(app.instance_path) / "releases" / "embargoed-2020" / "v1"
                 / "embargoed-2020-v1.sqlite")
    assert embargoed.is_file()  # there on disk, and still out of reach
    attach = urllib.parse.quote(f"ATTACH DATABASE '{embargoed}' AS e")
    for sql in (attach, urllib.parse.quote(f"select 1; {urllib.parse.unquote(attach)}"),
                urllib.parse.quote(f"-- comment\n{urllib.parse.unquote(attach)}")):
        status, body = visitor.get(f"/{PUBLIC}.json?sql={sql}")
        assert status != 200 or '"ok": false' in body, body[:300]
        assert_tells_nothing_hidden(body.replace(str(embargoed), ""), "ATTACH")
    # What a SELECT can see of the connection: this release's database and nothing else.
    listed = visitor.json(f"/{PUBLIC}.json?sql=select+name+from+pragma_database_list"
                          "&_shape=array")
    assert [row["name"] for row in listed] == ["main"]
    tables = visitor.json(f"/{PUBLIC}.json?sql=select+name+from+sqlite_master+where+type"
                          "%3D%27table%27+order+by+name&_shape=array")
    assert "figures" in [row["name"] for row in tables]
    for path in (f"/{PUBLIC}.json?sql=select+*+from+sqlite_master", f"/{PUBLIC}.db"):
        status, body = visitor.get(path)
        assert status == 200
        assert_tells_nothing_hidden(body, path)


@pytest.mark.parametrize("who", WHO)
def test_the_public_release_is_served_with_its_metadata_and_queries(server, visitors,
                                                                    releases, who):
    visitor = visitors[who]
    metadata = visitor.json("/-/metadata.json")
    described = metadata["databases"][PUBLIC]
    content = publishing.content_of(releases["public"])
    assert described["title"] == "Online grooming: 2018/19"
    assert described["license"] == "Open Government Licence v3.0"
    assert described["license_url"].startswith("https://www.nationalarchives.gov.uk/")
    assert described["source"] == "Freedom of Information requests by foitrack"
    assert "Version 1, published 2019-06-10." in described["description"]
    assert set(described["tables"]) == {table["name"] for table in content["tables"]}
    for table in content["tables"]:  # every column of every table, described as frozen
        assert described["tables"][table["name"]]["columns"] == {
            name: text for name, _kind, text, _width in table["columns"]}
    assert described["tables"]["figures"]["columns"]["value"] == "the figure, when exact"
    assert set(described["queries"]) == {FORCE_FIGURES, NATIONAL_TOTALS}
    assert described["queries"][FORCE_FIGURES]["title"] == "One force's figures"
    # The database page lists the queries and the tables; the database downloads as a file.
    status, page = visitor.get(f"/{PUBLIC}")
    assert status == 200 and "One force&#39;s figures" in page and "The national totals" in page
    status, body = visitor.get(f"/{PUBLIC}/figures")
    assert status == 200 and "the figure, when exact" in body

    columns = "authority_code,measure,category,value,as_given,source_document"
    for authority in ("Kent Police", "kent police", "E23000032"):
        rows = visitor.json(f"/{PUBLIC}/{FORCE_FIGURES}.json?_shape=array&authority="
                            + urllib.parse.quote(authority))
        assert [{k: row[k] for k in columns.split(",")} for row in rows] == [
            {"authority_code": "E23000032", "measure": "offences", "category": "",
             "value": 200, "as_given": "200", "source_document": ""}]
    rows = visitor.json(f"/{PUBLIC}/{FORCE_FIGURES}.json?_shape=array&authority=E23000016")
    assert [(row["category"], row["value"], row["as_given"], row["source_document"])
            for row in rows] == [("", 122, "122", releases["ticked"]),
                                 ("Instagram", None, "<5", "")]
    assert visitor.json(f"/{PUBLIC}/{FORCE_FIGURES}.json?_shape=array&authority=Nowhere") == []
    totals = visitor.json(f"/{PUBLIC}/{NATIONAL_TOTALS}.json?_shape=array")
    assert [(row["measure"], row["period"], row["total"], row["authorities_with_figure"],
             row["authorities_asked"]) for row in totals] == [("offences", "2018-19", 322, 2, 2)]


def test_an_embargo_lifts_by_itself_with_nothing_restarted(app, session, cli_env):
    campaign = answered_campaign(session)
    session.commit()
    server = Server(cli_env)
    try:
        assert server.get("/-/databases.json") == (200, "[]")
        # Real time: an embargo half a minute ahead (room for publishing, which writes the
        # files and draws nothing, on a CI machine running two test workers; 12 s was tight),
        # published while the server runs.
        embargo = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=30)
        publish(app, session, campaign, embargo_until=embargo)
        checked_before = False
        while True:
            status, body = server.get(f"/{PUBLIC}.json")
            answered = dt.datetime.now(dt.UTC)
            if answered < embargo:
                assert status == 404, "reachable before its embargo"
                assert PUBLIC not in server.get("/-/databases.json")[1]
                checked_before = True
            elif status == 200:
                break
            assert answered < embargo + dt.timedelta(seconds=60), "never opened"
            time.sleep(0.2)
        if not checked_before:
            pytest.fail("the machine was too slow to ask before the embargo lifted")
        assert [d["name"] for d in json.loads(server.get("/-/databases.json")[1])] == [PUBLIC]
        metadata = json.loads(server.get("/-/metadata.json")[1])
        assert metadata["databases"][PUBLIC]["title"] == "Online grooming: 2018/19"
        totals = json.loads(server.get(f"/{PUBLIC}/{NATIONAL_TOTALS}.json?_shape=array")[1])
        assert [row["total"] for row in totals] == [322]
        assert server.process.poll() is None  # the same process throughout
    finally:
        server.stop()


def test_a_fixed_time_opens_what_is_embargoed_until_then(cli_env, releases):
    server = Server({**cli_env, "FOITRACK_NOW": "2100-01-01T00:00:00+00:00"},
                    "--setting", "default_page_size", "1")
    try:
        names = [d["name"] for d in json.loads(server.get("/-/databases.json")[1])]
        assert names == ["embargoed-2020-v1", "grooming-2019-v1", "grooming-2019-v2"]
        assert server.get("/unpublished-2021-v1")[0] == 404
        # Datasette's own settings pass through.
        assert len(json.loads(server.get("/embargoed-2020-v1/figures.json?_shape=array")[1])) == 1
    finally:
        server.stop()


def test_a_fixed_time_that_is_not_a_time_is_refused(runner):
    result = runner.invoke(main, ["datasette"], env={"FOITRACK_NOW": "soon"})
    assert result.exit_code == 2
    assert "FOITRACK_NOW" in result.output and "'soon' is not a time" in result.output


def test_a_datasette_setting_that_does_not_exist_is_refused(runner):
    result = runner.invoke(main, ["datasette", "--setting", "allow_everything", "on"])
    assert result.exit_code == 2
    assert "allow_everything is not a valid option" in result.output
