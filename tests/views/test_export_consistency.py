"""Downloads while others write: a slow reader must not block their saves (SQLite's read lock
held by an open cursor made every other COMMIT fail with "database is locked"), and one file
must describe one state of the data (its aggregate once disagreed with its own figures when a
save landed between the statements that read them). Both found in review.

The client here reads a streamed download part-way, as a slow connection would, and another
session writes meanwhile; the same on SQLite and PostgreSQL (FOITRACK_TEST_DATABASE_URL).
"""

from __future__ import annotations

import csv
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select, update

from benchmarks.generate import generate
from foitrack.models import Authority, Campaign, Figure, Request
from foitrack.services import api_tokens
from foitrack.services import datasets as dataset_service
from tests.factories import TEST_ACTOR, make_user
from tests.pages import sign_in

pytestmark = pytest.mark.postgres

SLUG = "bench-0"
# More figures than one batch of any export's cursor (10,000 rows), so a download is still
# reading from the database when its first pieces reach the client.
FIGURES = 15_000
# Web and API routes to the same downloads: (path, headers key).
STREAMED = [
    f"/campaigns/{SLUG}/export.csv?table=figures",
    f"/campaigns/{SLUG}/export.json",
    f"/campaigns/{SLUG}/figures.csv",
    f"/api/v1/campaigns/{SLUG}/export.json",
    f"/api/v1/campaigns/{SLUG}/export.csv?table=figures",
]


@pytest.fixture
def bench(app: Flask, session: Any) -> Iterator[tuple[FlaskClient, dict[str, str], list[Any]]]:
    """A campaign of 19,200 figures (400 authorities), a signed-in viewer and an API token."""
    yield from _bench(app, session, FIGURES)


@pytest.fixture
def small(app: Flask, session: Any) -> Iterator[tuple[FlaskClient, dict[str, str], list[Any]]]:
    """The 43 forces' 1,032 figures: a campaign's size, built well inside SQLite's busy timeout."""
    yield from _bench(app, session, 1000)


def _bench(app: Flask, session: Any, figures: int) -> Iterator[tuple[FlaskClient, dict[str, str], list[Any]]]:
    """Downloads left open are closed at the end, as a server would when the client goes."""
    generate(session, figures)
    session.commit()
    client = app.test_client()
    user = make_user(session, role="viewer")
    sign_in(client, user.email)
    _, plain = api_tokens.create_token(session, TEST_ACTOR, user, "scripts")
    session.commit()
    opened: list[Any] = []
    yield client, {"Authorization": f"Bearer {plain}"}, opened
    for response in opened:
        response.close()


def _open(bench: tuple[FlaskClient, dict[str, str], list[Any]], path: str) -> Iterator[bytes]:
    """The download's body as the server hands it out, piece by piece, read only when asked."""
    client, token, opened = bench
    response = client.get(path, headers=token if path.startswith("/api/") else {},
                          buffered=False)
    opened.append(response)
    assert response.status_code == 200, response.status_code
    return iter(response.response)


def _a_total_figure(app: Flask) -> tuple[int, int]:
    """An exact total (no category) near the end of the files (they are ordered by authority):
    its id and value."""
    with app.extensions["foitrack.db"].session() as session:
        found = session.execute(
            select(Figure.id, Figure.value).join(Request, Request.id == Figure.request_id)
            .join(Campaign, Campaign.id == Request.campaign_id)
            .join(Authority, Authority.id == Request.authority_id)
            .where(Campaign.slug == SLUG, Figure.category_id.is_(None), Figure.kind == "exact")
            .order_by(Authority.name.desc(), Figure.id).limit(1)).one()
    return found.id, found.value


def _saved(app: Flask, figure_id: int, value: int) -> str:
    try:
        _colleague_saves(app, figure_id, value)
    except Exception as error:  # reported by the test, which runs this in a thread
        return repr(error)
    return "saved"


def _colleague_saves(app: Flask, figure_id: int, value: int) -> None:
    """Another session changes a figure and commits, as a grid save would."""
    with app.extensions["foitrack.db"].session() as session:
        session.execute(update(Figure).where(Figure.id == figure_id).values(value=value))
        session.commit()


@pytest.mark.parametrize("path", STREAMED)
def test_a_colleague_can_save_while_a_slow_client_downloads(app, bench, path):
    figure_id, value = _a_total_figure(app)
    body = _open(bench, path)
    first = b""
    while len(first) < 256 * 1024:  # the client has read into the figures, then waits
        first += next(body)

    _colleague_saves(app, figure_id, value + 1000)  # "database is locked" on SQLite, before

    rest = b"".join(body)
    with app.extensions["foitrack.db"].session() as session:
        assert session.scalar(select(Figure.value).where(Figure.id == figure_id)) == value + 1000
    text = (first + rest).decode("utf-8")
    # The file is the data as it was when it was asked for, whole.
    rows = _figure_rows(text, path)
    assert len(rows) == 19_200
    assert sum(int(row["value"]) for row in rows if row["category"] == ""
               and str(row["value"]).isdigit()) == _total_sum(app) - 1000


def _figure_rows(text: str, path: str) -> list[dict[str, Any]]:
    if ".json" in path:
        return json.loads(text)["figures"]
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def _totals_agree(aggregate: list[dict[str, Any]], figures: list[dict[str, Any]]) -> None:
    """Each period's total in the file equals the sum of the file's own exact total figures."""
    sums: dict[str, int] = {}
    for figure in figures:
        if figure["category"] == "" and figure["kind"] == "exact":
            sums[figure["period"]] = sums.get(figure["period"], 0) + int(figure["value"])
    totals = {row["period"]: int(row["total"]) for row in aggregate
              if row["level"] == "total" and row["dimension"] in ("", None)}
    assert sums and totals == sums


@pytest.mark.parametrize("path", [f"/campaigns/{SLUG}/export.json",
                                  f"/api/v1/campaigns/{SLUG}/export.json"])
def test_a_save_part_way_through_a_json_download_does_not_split_it(app, bench, path):
    figure_id, value = _a_total_figure(app)
    body = _open(bench, path)
    first = next(body)  # the aggregate has been worked out; the figures are still to come
    _colleague_saves(app, figure_id, value + 1000)
    document = json.loads((first + b"".join(body)).decode("utf-8"))
    _totals_agree(document["aggregate"], document["figures"])
    # and it is the data as it was when the download was asked for
    assert sum(int(f["value"]) for f in document["figures"]
               if f["kind"] == "exact" and f["category"] == "") == _total_sum(app) - 1000


def _total_sum(app: Flask) -> int:
    with app.extensions["foitrack.db"].session() as session:
        return sum(session.scalars(
            select(Figure.value).join(Request, Request.id == Figure.request_id)
            .join(Campaign, Campaign.id == Request.campaign_id)
            .where(Campaign.slug == SLUG, Figure.category_id.is_(None),
                   Figure.kind == "exact")))


@pytest.mark.parametrize("fmt", ["xlsx", "zip", "json"])
def test_a_save_between_the_aggregate_and_the_figures_does_not_split_the_file(
        app, small, monkeypatch, fmt):
    """The save is made just as the figures start to be read, after the aggregate was worked
    out (campaign_dataset reads them in separate statements). On PostgreSQL it commits at once;
    on SQLite it waits for the download's read lock, and commits once the file is built."""
    figure_id, value = _a_total_figure(app)
    outcome: list[str] = []
    colleague = threading.Thread(target=lambda: outcome.append(
        _saved(app, figure_id, value + 1000)))

    def saving_first(read: Any) -> Any:
        def rows(*args: Any, **kwargs: Any) -> Any:
            if not colleague.is_alive() and not outcome:
                colleague.start()
                colleague.join(timeout=1)  # committed by now, unless it has to wait (SQLite)
            yield from read(*args, **kwargs)
        return rows

    monkeypatch.setattr(dataset_service, "figure_rows", saving_first(dataset_service.figure_rows))
    monkeypatch.setattr(dataset_service, "figure_text_rows",
                        saving_first(dataset_service.figure_text_rows))
    client = small[0]
    data = client.get(f"/campaigns/{SLUG}/export.{fmt}").data
    colleague.join()
    assert outcome == ["saved"]  # the save was not refused, only (on SQLite) kept waiting
    if fmt == "json":
        document = json.loads(data)
        aggregate, figures = document["aggregate"], document["figures"]
    elif fmt == "zip":
        archive = zipfile.ZipFile(io.BytesIO(data))
        read = lambda name: list(csv.DictReader(io.StringIO(  # noqa: E731
            archive.read(f"{SLUG}/data/{name}.csv").decode("utf-8").lstrip("\ufeff"))))
        aggregate, figures = read("aggregate"), read("figures")
    else:
        book = load_workbook(io.BytesIO(data), read_only=True)
        aggregate, figures = _sheet(book["Aggregate"]), _sheet(book["Figures"])
    _totals_agree(aggregate, figures)


def _sheet(sheet: Any) -> list[dict[str, Any]]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows)
    return [{name: ("" if cell is None else cell) for name, cell in zip(header, row, strict=False)}
            for row in rows if any(cell is not None for cell in row)]
