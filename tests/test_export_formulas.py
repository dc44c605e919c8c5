"""Formulas in exports (issue 23, point 7): text a user typed that a spreadsheet would run.

Every text field a user can type (the campaign's title and subject, an authority's name when it
has no code, measure, period, dimension, category and group labels, caveats, sources, the
authority's reference, a finding's explanation) holds a formula-like payload; then every CSV
and XLSX foitrack writes, on the web and on the command line, is opened and every cell read:
no CSV cell starts with = + - @ tab or CR unprotected, and no XLSX cell is a formula (the text
is there, exactly, as a string). Imports still read the exports back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from foitrack.cli import main
from foitrack.domain.csv_safety import FORMULA_STARTS
from foitrack.models import Authority, Campaign, Figure, Request
from foitrack.services import requests as request_service
from foitrack.services import templates
from foitrack.services.authority_import import import_authorities
from foitrack.services.design import create_from_file
from tests.factories import TEST_ACTOR, load_forces, make_user
from tests.pages import sign_in, upload

LINK = '=HYPERLINK("http://evil","x")'
PAYLOADS = [LINK, "+1", "-1+1", "@SUM(1)", "\t=1+1", "\r=1+1"]
SLUG = "hostile"
EVIL = "evil-authority"  # an authority with no code, whose name is a formula
CSV_TABLES = ("figures", "aggregate", "tracker", "coverage", "changes")

DESIGN = f"""
slug = "{SLUG}"
title = {json.dumps(LINK)}
subject = "@SUM(1) request"
authorities = ["E23000016", "{EVIL}"]
request_text = "Dear {{{{ authority.name }}}}"
[[measures]]
key = "offences"
label = "=1+1 offences"
[[periods]]
key = "2017-18"
label = "+2017/18"
start = 2017-04-01
end = 2018-03-31
[[periods]]
key = "2018-19"
label = "-2018/19"
start = 2018-04-01
end = 2019-03-31
[[period_groups]]
key = "both"
label = "@both years"
periods = ["2017-18", "2018-19"]
[[dimensions]]
key = "platform"
label = "@method"
categories = [{json.dumps(LINK)}, "+1", "-1+1", "@SUM(1)"]
not_recorded = "-Not recorded"
[[groups]]
key = "apps"
label = "=apps"
dimension = "platform"
categories = [{json.dumps(LINK)}, "+1"]
"""


def _figures_csv(authority: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["authority", "measure", "period", "dimension", "category", "value",
                     "caveat", "source"])
    for period, base in (("2017-18", 10), ("2018-19", 40)):
        writer.writerow([authority, "offences", period, "", "", base, LINK, "-1+1 table"])
        for n, category in enumerate([LINK, "+1", "-1+1", "@SUM(1)", "-Not recorded"]):
            # The categories add up to more than the total: a finding to explain.
            writer.writerow([authority, "offences", period, "platform", category, base + n,
                             PAYLOADS[n], PAYLOADS[-1 - n]])
    return out.getvalue()


@pytest.fixture
def hostile(app, session, runner):
    """The hostile campaign, built as users build one, with tab- and CR-led text put in
    directly where a form or file would trim it."""
    load_forces(session)
    import_authorities(session, TEST_ACTOR, io.BytesIO(
        f'name,kind,slug\n"{LINK.replace(chr(34), chr(34) * 2)}",police-force,{EVIL}\n'.encode()))
    session.commit()
    campaign = create_from_file(session, TEST_ACTOR, DESIGN)
    session.commit()
    from foitrack.services.figures import import_csv

    for authority in ("E23000016", LINK):
        import_csv(session, TEST_ACTOR, campaign, io.BytesIO(_figures_csv(authority).encode()))
    session.commit()
    for request, reference in zip(request_service.campaign_requests(session, campaign),
                                  [LINK, "-1+1"], strict=True):
        request_service.set_reference(session, TEST_ACTOR, request, reference)
    session.commit()
    for code in ("E23000016", EVIL):
        result = runner.invoke(main, ["requests", "event", SLUG, code, "sent", "2019-01-02"],
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
    # What a form or a CSV trims, put in as a script could: leading tab and CR.
    figures = session.scalars(select(Figure).order_by(Figure.id)).all()
    figures[0].caveat, figures[0].source = "\t=1+1", "\r=1+1"
    session.scalar(select(Authority).where(Authority.slug == EVIL)).region = "\t=region"
    session.scalar(select(Request).where(Request.reference == "-1+1")).reference = "\r=ref"
    session.commit()
    findings = json.loads(runner.invoke(main, ["figures", "check", SLUG, "--format", "json"],
                                        catch_exceptions=False).stdout)
    assert findings, "the design should give a finding to explain"
    result = runner.invoke(main, ["figures", "explain", SLUG, findings[0]["key"], "--note", LINK],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert session.scalar(select(Authority.code).where(Authority.slug == EVIL)) is None
    return session.scalar(select(Campaign).where(Campaign.slug == SLUG))


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
            for cell in row]


def _unsafe_csv(text: str) -> list[str]:
    return [cell for cell in _csv_cells(text) if cell.startswith(FORMULA_STARTS)]


def _xlsx_problems(data: bytes) -> list[str]:
    """Formula cells, by openpyxl and by the sheets' XML itself (a <f> element), and text
    cells that are not strings."""
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and re.search(rb"<f[ >]", archive.read(name)):
                problems.append(f"{name} has a formula element")
    book = load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str)
                                             and cell.data_type != "s"):
                    problems.append(f"{sheet.title}!{cell.coordinate} {cell.value!r}")
    return problems


def _xlsx_texts(data: bytes) -> set[str]:
    book = load_workbook(io.BytesIO(data))
    return {cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
            for cell in row if isinstance(cell, str)}


@pytest.fixture
def researcher(app, session, hostile):
    client = app.test_client()
    assert sign_in(client, make_user(session, "admin").email).status_code == 302
    return client


def test_every_csv_on_the_web_and_the_command_line_protects_every_text_cell(
        app, researcher, runner, hostile, tmp_path):
    csvs: dict[str, str] = {}
    for path in [f"/campaigns/{SLUG}/figures.csv", "/chase.csv", "/authorities/export.csv",
                 *(f"/campaigns/{SLUG}/export.csv?table={table}" for table in CSV_TABLES)]:
        response = researcher.get(path)
        assert response.status_code == 200, path
        csvs[path] = response.get_data(as_text=True)
    commands = [["figures", "export", SLUG], ["aggregate", SLUG, "--format", "csv"],
                ["authorities", "list", "--format", "csv"],
                ["requests", "overdue", "--format", "csv"],
                ["figures", "check", SLUG, "--format", "csv"]]
    for command in commands:
        result = runner.invoke(main, command, catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
        csvs[" ".join(command)] = result.stdout
    for table in CSV_TABLES:
        target = tmp_path / f"{table}.csv"
        result = runner.invoke(main, ["export", SLUG, "--format", "csv", "--table", table,
                                      "-o", str(target)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        csvs[f"export --table {table}"] = target.read_text(encoding="utf-8")

    for where, text in csvs.items():
        assert not _unsafe_csv(text), (where, _unsafe_csv(text)[:5])
    # Not vacuous: the payloads are there, protected, where each one was typed.
    figures_csv = _csv_cells(csvs[f"/campaigns/{SLUG}/figures.csv"])
    for payload in PAYLOADS:
        assert "'" + payload in figures_csv, payload
    assert _csv_cells(csvs["figures export " + SLUG]) == figures_csv
    assert "'" + LINK in _csv_cells(csvs["/chase.csv"])  # the authority's name and reference
    assert "'\r=ref" in _csv_cells(csvs["requests overdue --format csv"])
    assert "'\t=region" in _csv_cells(csvs["/authorities/export.csv"])
    assert "'" + LINK in _csv_cells(csvs[f"aggregate {SLUG} --format csv"])  # a category
    assert "'" + LINK in _csv_cells(csvs[f"figures check {SLUG} --format csv"])  # explanation


def test_every_xlsx_on_the_web_and_the_command_line_has_no_formula(
        app, researcher, runner, hostile, session, tmp_path):
    books: dict[str, bytes] = {}
    for path in [f"/campaigns/{SLUG}/export.xlsx",
                 f"/campaigns/{SLUG}/requests/{EVIL}/template.xlsx",
                 f"/campaigns/{SLUG}/requests/west-mercia/template.xlsx"]:
        response = researcher.get(path)
        assert response.status_code == 200, path
        books[path] = response.data
    with zipfile.ZipFile(io.BytesIO(researcher.get(f"/campaigns/{SLUG}/templates.zip").data)) as z:
        books.update({f"templates.zip {name}": z.read(name) for name in z.namelist()})
    # The template the mail sends is the same bytes (services.mail attaches template_bytes).
    for request in request_service.campaign_requests(session, hostile):
        books[f"mail attachment {request.authority.slug}"] = templates.template_bytes(hostile,
                                                                                     request)
    assert runner.invoke(main, ["export", SLUG, "--format", "xlsx", "-o",
                                str(tmp_path / "all.xlsx")], catch_exceptions=False).exit_code == 0
    books["export --format xlsx"] = (tmp_path / "all.xlsx").read_bytes()
    assert runner.invoke(main, ["figures", "template", SLUG, "-o", str(tmp_path / "t")],
                         catch_exceptions=False).exit_code == 0
    books.update({f"figures template {p.name}": p.read_bytes()
                  for p in (tmp_path / "t").iterdir()})

    for where, data in books.items():
        assert not _xlsx_problems(data), (where, _xlsx_problems(data)[:5])
    # The text is kept exactly (no apostrophe in an XLSX: the cell is a string).
    dataset = _xlsx_texts(books[f"/campaigns/{SLUG}/export.xlsx"])
    assert {LINK, "+1", "-1+1", "@SUM(1)", "\t=1+1", "=1+1 offences", "@method",
            "=apps", "+2017/18", "-2018/19"} <= dataset
    # A CR comes back a CR: cells written one by one (with their number formats) escape it
    # as _x000D_, where XML would have read a bare CR as a line feed.
    assert "\r=1+1" in dataset
    reference = session.scalar(select(Request.reference).join(Authority)
                               .where(Authority.slug == EVIL))
    template = _xlsx_texts(books[f"/campaigns/{SLUG}/requests/{EVIL}/template.xlsx"])
    assert {LINK, reference, "+1", "-1+1", "@SUM(1)", "+2017/18", "-2018/19",
            "=1+1 offences"} <= template
    book = load_workbook(io.BytesIO(books[f"/campaigns/{SLUG}/export.xlsx"]))
    title = book["README"]["A1"]
    assert (title.value, title.data_type, title.quotePrefix) == (LINK, "s", True)


def test_the_exports_read_back_unchanged(app, researcher, hostile, session):
    """The figures CSV and a filled response template import again: the apostrophes go, the
    labels match, nothing changes."""
    before = {(f.id, f.caveat, f.source, f.value) for f in session.scalars(select(Figure))}
    exported = researcher.get(f"/campaigns/{SLUG}/figures.csv").get_data(as_text=True)
    path = f"/campaigns/{SLUG}/figures/import"

    response = upload(researcher, path, "again.csv", exported.encode())
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    session.expire_all()
    assert {(f.id, f.caveat, f.source, f.value) for f in session.scalars(select(Figure))} == before

    data = researcher.get(f"/campaigns/{SLUG}/requests/{EVIL}/template.xlsx").data
    book = load_workbook(io.BytesIO(data))
    sheet = book[templates.layout.SHEET]
    filled = 0
    for row in sheet.iter_rows(min_row=templates.layout.HEADER_ROW + 1):
        if row[3].value in (LINK, "@SUM(1)"):  # category labels that are formulas
            row[4].value = 7
            filled += 1
    assert filled == 4
    out = io.BytesIO()
    book.save(out)
    response = upload(researcher, f"/campaigns/{SLUG}/templates/import", "reply.xlsx",
                      out.getvalue())
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:1500]
    assert "4 changed" in page

