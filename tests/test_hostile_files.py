"""Hostile files through the real upload pages (signed in) and the command line: malformed CSV,
XLSX, email and zip files. Every case: no server error, a clear message naming the file, row,
sheet or cell, nothing written, and whatever the page shows of it escaped."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from foitrack.backups import count_rows
from foitrack.cli import main
from foitrack.models import Attachment, Figure, InboundMessage, StoredFile
from foitrack.services import templates
from tests.factories import blank, make_campaign, make_user, saved
from tests.pages import csrf_token, sign_in, upload

FIXTURES = Path(__file__).parent / "fixtures"
SCRIPT = '<script>alert("x")</script>'
HEADER = "authority,measure,period,dimension,category,value,caveat,source\n"
GOOD_ROW = "E23000016,offences,2017-18,,,73,,table 1\n"
SLUG = "grooming-2019"


@pytest.fixture
def campaign(session):
    found = make_campaign(session, (FIXTURES / "grooming-2019.toml").read_text())
    return found


@pytest.fixture
def researcher(app, session, campaign):
    client = app.test_client()
    assert sign_in(client, make_user(session).email).status_code == 302
    return client


@pytest.fixture
def admin(app, session, campaign):
    client = app.test_client()
    assert sign_in(client, make_user(session, "admin").email).status_code == 302
    return client


def _counts(app) -> dict[str, int]:
    with app.extensions["foitrack.db"].engine.connect() as connection:
        counts = count_rows(connection)
    counts.pop("sign_in_failure", None)
    return counts


def refused(response, *expected: str) -> str:
    """The page of a refused upload: a 400 with the form again, each expected phrase on it."""
    page = response.get_data(as_text=True)
    assert response.status_code == 400, (response.status_code, page[:500])
    for phrase in expected:
        assert phrase in page, (phrase, page[page.find("problem"):][:1500])
    assert SCRIPT not in page and "<img src=x" not in page
    return page


# ---- tidy CSV of figures ----------------------------------------------------------------

def _rows(text: str, encoding: str = "utf-8") -> bytes:
    return (HEADER + text).encode(encoding)


FIGURES_CSV = {
    "latin-1, not UTF-8": (_rows("E23000016,offences,2017-18,,,73,caf\xe9,t\n", "latin-1"),
                           "not UTF-8 text (byte"),
    "binary garbage": (bytes(range(256)) * 4, "not UTF-8 text"),
    "a zip renamed .csv": (b"PK\x03\x04" + b"\x00" * 64, "header"),
    "ragged rows": (_rows(GOOD_ROW + "E23000016,offences,2018-19,,,1\n"),
                    "line 3: has 6 cells but the header has 8"),
    "a 200 KB cell": (_rows("E23000016,offences,2017-18,,,73," + "x" * 200_000 + ",t\n"),
                      "line 2"),
    "an unterminated quote": (_rows('E23000016,offences,2017-18,,,73,"open,t\n'), "line"),
    "a NUL in a caveat": (_rows("E23000016,offences,2017-18,,,73,a\x00b,t\n"),
                          "line 2: holds a NUL character"),
    "UTF-16 without a byte order mark": (_rows(GOOD_ROW).decode().encode("utf-16-le"),
                                         "line 1: holds a NUL character", "UTF-16"),
    "negative": (_rows("E23000016,offences,2017-18,,,-5,,t\n"), "line 2, column value",
                 "cannot be negative"),
    "decimal": (_rows("E23000016,offences,2017-18,,,2.5,,t\n"), "line 2, column value",
                "whole number"),
    "1e308": (_rows("E23000016,offences,2017-18,,,1e308,,t\n"), "line 2, column value"),
    "10**30": (_rows(f"E23000016,offences,2017-18,,,{10**30},,t\n"), "line 2, column value",
               "too large"),
    "5,000 digits": (_rows("E23000016,offences,2017-18,,," + "9" * 5000 + ",,t\n"),
                     "line 2, column value", "too large"),
    "a script as the authority": (_rows('"<script>alert(""x"")</script>",offences,2017-18,,,5,,t\n'),
                                  "line 2, column authority", "&lt;script&gt;"),
    "an unknown period": (_rows("E23000016,offences,2099-00,,,5,,t\n"), "line 2"),
    "one good row, one bad": (_rows(GOOD_ROW + "E23000016,offences,2018-19,,,x,,t\n"),
                              "line 3, column value"),
}


@pytest.mark.parametrize("case", list(FIGURES_CSV))
def test_a_hostile_figures_csv_is_refused_by_line_and_writes_nothing(app, researcher, case):
    data, *expected = FIGURES_CSV[case]
    before = _counts(app)
    response = upload(researcher, f"/campaigns/{SLUG}/figures/import", "figures.csv", data)
    refused(response, *expected)
    assert _counts(app) == before


@pytest.mark.parametrize("case", ["negative", "a NUL in a caveat", "5,000 digits", "ragged rows"])
def test_the_command_line_refuses_the_same_csv_in_one_line(app, runner, campaign, tmp_path, case):
    data, *expected = FIGURES_CSV[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    before = _counts(app)
    result = runner.invoke(main, ["figures", "import", SLUG, str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output
    assert all(phrase in result.output for phrase in expected if "&" not in phrase)
    assert _counts(app) == before


FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"y\")"]


def test_formulas_in_text_come_out_neutralised_in_every_export(app, researcher, session):
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(HEADER.strip().split(","))
    for n, formula in enumerate(FORMULAS):
        period = "2017-18" if n < 3 else "2018-19"
        category = ["", "Instagram", "Facebook", "Instagram", "Facebook"][n]
        writer.writerow(["E23000016", "offences", period, "platform" if category else "",
                         category, str(n), formula, f"{formula} source"])
    response = upload(researcher, f"/campaigns/{SLUG}/figures/import", "f.csv",
                      rows.getvalue().encode())
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    stored = set(session.scalars(select(Figure.caveat)))
    assert stored == set(FORMULAS)  # kept as the authority wrote them

    figures_csv = researcher.get(f"/campaigns/{SLUG}/figures.csv").get_data(as_text=True)
    cells = [cell for row in csv.reader(io.StringIO(figures_csv.lstrip("\ufeff"))) for cell in row]
    for formula in FORMULAS:
        assert "'" + formula in cells and formula not in cells

    dataset_csv = researcher.get(f"/campaigns/{SLUG}/export.csv")
    if dataset_csv.status_code == 200:
        text = dataset_csv.get_data(as_text=True)
        for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
            assert not any(cell.startswith(("=", "+", "@")) for cell in row), row

    book = load_workbook(io.BytesIO(researcher.get(f"/campaigns/{SLUG}/export.xlsx").data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)

    # Imported again from the export, the apostrophe goes: the same figures, unchanged.
    again = upload(researcher, f"/campaigns/{SLUG}/figures/import", "again.csv",
                   figures_csv.encode())
    assert again.status_code == 302
    session.expire_all()
    assert set(session.scalars(select(Figure.caveat))) == set(FORMULAS)


def test_a_script_in_an_imported_caveat_is_escaped_on_the_pages(app, researcher, session):
    data = (HEADER + 'E23000016,offences,2017-18,,,73,"<script>alert(""x"")</script>",'
            '<img src=x onerror=alert(1)>\n')
    response = upload(researcher, f"/campaigns/{SLUG}/figures/import", "f.csv", data.encode())
    assert response.status_code == 302
    figure_id = session.scalar(select(Figure.id))
    for page in (f"/campaigns/{SLUG}/requests/west-mercia/figures",
                 f"/campaigns/{SLUG}/requests/west-mercia/figures/{figure_id}",
                 f"/campaigns/{SLUG}/aggregate"):
        response = researcher.get(page)
        text = response.get_data(as_text=True)
        assert response.status_code == 200, page
        assert SCRIPT not in text and "<img src=x" not in text
        if page.endswith(str(figure_id)):  # the figure's own page shows the caveat, escaped
            assert "&lt;script&gt;" in text


# ---- filled templates (XLSX) ------------------------------------------------------------

def _value_row(book, category="Total", period="2017/18") -> int:
    sheet = book[templates.layout.SHEET]
    for row in sheet.iter_rows(min_row=templates.layout.HEADER_ROW + 1):
        if row[3].value == category and period in str(row[2].value or row[1].value or ""):
            return row[0].row
    return templates.layout.HEADER_ROW + 1


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _bomb(session, campaign) -> bytes:
    """A real template whose shared strings expand to 300 MB from a few hundred KB (streamed
    into the zip, so the test itself never holds 300 MB)."""
    with zipfile.ZipFile(io.BytesIO(saved(blank(session, campaign)))) as archive:
        members = {item.filename: archive.read(item) for item in archive.infolist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if name != "xl/sharedStrings.xml":
                archive.writestr(name, content)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as target:
            target.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                         b'spreadsheetml/2006/main"><si><t>')
            chunk = b"A" * 2**20
            for _ in range(300):
                target.write(chunk)
            target.write(b"</t></si></sst>")
    return out.getvalue()


def _cell_case(session, campaign, value) -> bytes:
    book = blank(session, campaign)
    row = _value_row(book)
    book[templates.layout.SHEET][f"{templates.layout.VALUE_COLUMN}{row}"] = value
    return saved(book)


CELL = f"{templates.layout.SHEET}!{templates.layout.VALUE_COLUMN}"
XLSX_CASES = {
    "not a zip": (lambda s, c: b"this is not a workbook", "reply.xlsx", "not an XLSX workbook"),
    "a zip that is not xlsx": (lambda s, c: _zip({"readme.txt": b"hello"}), "reply.xlsx",
                               "not an XLSX workbook"),
    "path traversal entries": (lambda s, c: _zip({"../../etc/passwd": b"root", "/abs": b"x"}),
                               "reply.xlsx", "not an XLSX workbook"),
    "a nested zip": (lambda s, c: _zip({"inner.xlsx": saved(blank(s, c))}), "reply.xlsx",
                     "not an XLSX workbook"),
    "a zip bomb": (_bomb, "reply.xlsx", "expands to more than"),
    "a date for a number": (lambda s, c: _cell_case(s, c, dt.datetime(2019, 1, 1)), "reply.xlsx",
                            f"reply.xlsx {CELL}", "is not a figure"),
    "negative": (lambda s, c: _cell_case(s, c, -3), "reply.xlsx", CELL, "negative"),
    "decimal": (lambda s, c: _cell_case(s, c, 2.5), "reply.xlsx", CELL, "whole number"),
    "1e308": (lambda s, c: _cell_case(s, c, 1e308), "reply.xlsx", CELL, "too large"),
    "10**30": (lambda s, c: _cell_case(s, c, 10**30), "reply.xlsx", CELL, "too large"),
    "a script in a cell": (lambda s, c: _cell_case(s, c, SCRIPT), "reply.xlsx", CELL,
                           "&lt;script&gt;"),
    "a hostile file name": (lambda s, c: b"not a workbook", f"../../{SCRIPT}.xlsx",
                            "not an XLSX workbook"),
}


@pytest.mark.parametrize("case", list(XLSX_CASES))
def test_a_hostile_template_upload_is_refused_by_cell_and_writes_nothing(app, researcher, session,
                                                                        campaign, case):
    make, name, *expected = XLSX_CASES[case]
    data = make(session, campaign)
    before = _counts(app)
    stored_before = set(Path(app.config["STORAGE_PATH"]).rglob("*")) \
        if Path(app.config["STORAGE_PATH"]).exists() else set()
    response = upload(researcher, f"/campaigns/{SLUG}/templates/import", name, data)
    refused(response, *expected)
    assert _counts(app) == before
    after = set(Path(app.config["STORAGE_PATH"]).rglob("*")) \
        if Path(app.config["STORAGE_PATH"]).exists() else set()
    assert after == stored_before  # a refused upload is not even kept


def test_merged_cells_and_a_formula_are_read_as_the_template_says(app, researcher, session,
                                                                  campaign):
    book = blank(session, campaign)
    sheet = book[templates.layout.SHEET]
    row = _value_row(book)
    sheet[f"{templates.layout.VALUE_COLUMN}{row}"] = 73
    sheet.merge_cells(f"{templates.layout.VALUE_COLUMN}{row}:F{row}")  # value and caveat merged
    other = _value_row(book, period="2018/19")
    sheet[f"{templates.layout.VALUE_COLUMN}{other}"] = "=1+1"  # no saved result: read as empty
    response = upload(researcher, f"/campaigns/{SLUG}/templates/import", "reply.xlsx",
                      saved(book))
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    assert "1 new" in response.get_data(as_text=True)


# ---- trackers ---------------------------------------------------------------------------

TRACKERS = {
    "an impossible date": ("t.csv", b"Force,Date sent\nKent,31/02/2019\n", "line 2, column sent",
                           "is not a date"),
    "a month 13": ("t.csv", b"Force,Date sent\nKent,2019-13-01\n", "line 2, column sent"),
    "a date in the future": ("t.csv", b"Force,Date sent\nKent,01/01/2999\n", "in the future"),
    "not UTF-8": ("t.csv", "Force\nK\xe9nt\n".encode("latin-1"), "not UTF-8"),
    "no authority column": ("t.csv", f"{SCRIPT},x\n1,2\n".encode(), "no column names the authority"),
    # The csv module's own 128 KB limit is not relied on: importing frictionless raises it.
    "a huge field": ("t.csv", b"Force\n" + b"x" * 200_000 + b"\n",
                     "line 2", "a cell is longer than 10,000 characters"),
    "an xlsx that is not": ("t.xlsx", b"PK\x03\x04junk", "t.xlsx is not an XLSX workbook"),
}


@pytest.mark.parametrize("case", list(TRACKERS))
def test_a_hostile_tracker_is_refused_and_writes_nothing(app, researcher, case):
    name, data, *expected = TRACKERS[case]
    before = _counts(app)
    response = upload(researcher, f"/campaigns/{SLUG}/tracker/import", name, data,
                      {"confirmed": "1"})
    refused(response, *expected)
    assert _counts(app) == before


def test_a_tracker_zip_bomb_is_refused(app, researcher, session, campaign):
    before = _counts(app)
    response = upload(researcher, f"/campaigns/{SLUG}/tracker/import", "t.xlsx",
                      _bomb(session, campaign), {"confirmed": "1"})
    refused(response, "t.xlsx", "expands to more than")
    assert _counts(app) == before


# ---- email ------------------------------------------------------------------------------

def _reply(*attachments: tuple[str, bytes], headers: dict | None = None) -> bytes:
    message = EmailMessage()
    for name, value in (headers or {"From": "FOI <foi@westmercia.pnn.police.uk>",
                                     "Subject": "Your request", "Message-ID": "<r1@p.example>"}
                        ).items():
        message[name] = value
    message.set_content("Please find our response attached.")
    for filename, payload in attachments:
        message.add_attachment(payload, maintype="application", subtype="pdf", filename=filename)
    return bytes(message)


HOSTILE_NAMES = ["../../etc/passwd.pdf", "..\\..\\x.pdf", "/etc/shadow.pdf", "C:\\Windows\\x.pdf",
                 "a\x00b.pdf", "x" * 400 + ".pdf", "\u202egnp.exe.pdf", f"{SCRIPT}.pdf", "...pdf",
                 "\U0001f600 r\u00e9ponse.pdf"]


def test_attachment_names_cannot_climb_folders_and_are_escaped(app, researcher, session):
    attachments = [(name, b"%PDF-1.4 " + str(n).encode()) for n, name in enumerate(HOSTILE_NAMES)]
    response = upload(researcher, "/mail/inbox", "reply.eml", _reply(*attachments))
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    names = list(session.scalars(select(Attachment.filename).order_by(Attachment.id)))
    assert len(names) == len(HOSTILE_NAMES)
    for name in names:
        assert "/" not in name and "\\" not in name and "\x00" not in name
        assert not name.startswith(".") and len(name) <= 200 and name.isprintable()
    assert names[0] == "passwd.pdf" and names[1] == "x.pdf"
    storage = Path(app.config["STORAGE_PATH"]).resolve()
    for path in storage.rglob("*"):
        assert path.resolve().is_relative_to(storage)
    page = researcher.get("/mail/inbox").get_data(as_text=True)
    assert SCRIPT not in page and "\u202e" not in page or "&lt;script&gt;" in page


EMAILS = {
    "empty": (b"", "the file is empty"),
    "no headers at all": (b"\r\n\r\njust a body", "is not an email message"),
    "binary garbage": (bytes(range(1, 256)) * 3, "reply.eml"),
}


@pytest.mark.parametrize("case", list(EMAILS))
def test_a_message_that_is_not_one_is_refused_and_writes_nothing(app, researcher, case):
    data, *expected = EMAILS[case]
    before = _counts(app)
    response = upload(researcher, "/mail/inbox", "reply.eml", data)
    if response.status_code == 302:
        # garbage with a colon in it reads as a header: kept for a person in triage, whole
        assert case == "binary garbage"
        assert _counts(app)["inbound_message"] == before["inbound_message"] + 1
        return
    refused(response, *expected)
    assert _counts(app) == before


def test_broken_mime_and_missing_headers_go_to_triage_whole(app, researcher, session):
    broken = (b"From: someone\r\nContent-Type: multipart/mixed; boundary=NOPE\r\n\r\n"
              b"--WRONG\r\nContent-Type: application/pdf; name=\"../x.pdf\"\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n")
    for n, data in enumerate((broken, b"Subject: only a subject\r\n\r\nbody",
                              _reply(headers={"X-Nothing": "x"}))):
        response = upload(researcher, "/mail/inbox", f"m{n}.eml", data)
        assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 3
    assert all(m.request_id is None for m in session.scalars(select(InboundMessage)))


def test_a_huge_attachment_is_kept_listed_but_refused(app, researcher, session):
    big = b"%PDF-1.4" + b"\x00" * (26 * 2**20)
    response = upload(researcher, "/mail/inbox", "reply.eml", _reply(("big.pdf", big)))
    assert response.status_code == 302
    attachment = session.scalars(select(Attachment)).one()
    assert attachment.refused and "larger than" in attachment.refused
    assert attachment.stored_file_id is None
    assert session.scalar(select(func.count()).select_from(StoredFile)) == 1  # the .eml alone


def test_a_zip_attachment_with_traversal_entries_is_never_unpacked(app, researcher, session):
    evil = _zip({"../../../tmp/evil.txt": b"x", "/etc/cron.d/evil": b"y",
                 "nested.zip": _zip({"../../z": b"z"})})
    response = upload(researcher, "/mail/inbox", "reply.eml", _reply(("files.zip", evil)))
    assert response.status_code == 302
    attachment = session.scalars(select(Attachment)).one()
    assert attachment.flagged  # archives are flagged for a person, kept as bytes
    storage = Path(app.config["STORAGE_PATH"])
    assert sorted(p.name for p in storage.rglob("*") if p.is_file()) == sorted(
        session.scalars(select(StoredFile.sha256)))
    assert not Path("/tmp/evil.txt").exists() or Path("/tmp/evil.txt").read_bytes() != b"x"


def test_one_bad_message_among_good_ones_imports_none(app, researcher):
    before = _counts(app)
    path = "/mail/inbox"
    response = researcher.post(path, data={
        "csrf_token": csrf_token(researcher, path),
        "file": [(io.BytesIO(_reply(("a.pdf", b"%PDF"))), "good.eml"),
                 (io.BytesIO(b""), f"{SCRIPT}.eml")]}, content_type="multipart/form-data")
    refused(response, "the file is empty")
    after = _counts(app)
    assert after == before


def test_the_command_line_refuses_a_bad_message_in_one_line(app, runner, tmp_path):
    path = tmp_path / "bad.eml"
    path.write_bytes(b"\r\n\r\njust a body")
    before = _counts(app)
    result = runner.invoke(main, ["mail", "import", str(path)], catch_exceptions=False)
    assert result.exit_code == 1 and "Error:" in result.output and "bad.eml" in result.output
    assert _counts(app) == before


# ---- authorities CSV --------------------------------------------------------------------

AUTHORITY_HEADER = "name,code,kind,country,foi_email\n"
AUTHORITIES = {
    "not UTF-8": ("name\nK\xe9nt\n".encode("latin-1"), "UTF-8"),
    "binary garbage": (bytes(range(256)) * 4, "UTF-8"),
    "ragged rows": ((AUTHORITY_HEADER + "A Council,E1,council\n").encode(), "line 2"),
    "a huge field": ((AUTHORITY_HEADER + "x" * 200_000 + ",E1,council,England,a@b.c\n").encode(),
                     "line"),
    "a NUL": ((AUTHORITY_HEADER + "A\x00Council,E1,council,England,a@b.c\n").encode(),
              "line 2: holds a NUL character"),
}


@pytest.mark.parametrize("case", list(AUTHORITIES))
def test_a_hostile_authorities_csv_is_refused_and_writes_nothing(app, admin, case):
    data, *expected = AUTHORITIES[case]
    before = _counts(app)
    response = upload(admin, "/authorities/import", "authorities.csv", data)
    refused(response, *expected)
    assert _counts(app) == before


def test_a_nul_and_undecodable_bytes_in_a_message_are_kept_as_text_a_database_can_store(
        app, researcher, session):
    raw = (b"From: FOI \xff\xfe <foi@example.org>\r\nSubject: caf\xe9 \x00 reply\r\n"
           b"Message-ID: <nul\x00@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           b"before\x00after \xff\r\n")
    response = upload(researcher, "/mail/inbox", "nul.eml", raw)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    message = session.scalars(select(InboundMessage)).one()
    for text in (message.subject, message.body_text, message.message_key, message.from_name or ""):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates left
    assert "before" in message.body_text and "after" in message.body_text


@pytest.mark.parametrize(("command", "name", "data", "expected"), [
    (["requests", "import-tracker", SLUG], "t.csv", b"Force,Date sent\nKent,31/02/2019\n",
     "line 2, column sent"),
    (["requests", "import-tracker", SLUG], "t.csv", b"Force,Ref\nKent,a\x00b\n",
     "line 2: holds a NUL character"),
    (["authorities", "import"], "a.csv", (AUTHORITY_HEADER + "A\x00C,E1,council,England,a@b.c\n")
     .encode(), "line 2: holds a NUL character"),
])
def test_the_command_line_refuses_hostile_trackers_and_authorities(app, runner, campaign, tmp_path,
                                                                   command, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    before = _counts(app)
    result = runner.invoke(main, [*command, str(path), "--yes"] if "import-tracker" in command
                           else [*command, str(path)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output and expected in result.output
    assert "Traceback" not in result.output
    assert _counts(app) == before


@pytest.mark.parametrize("case", ["a zip bomb", "a date for a number", "a zip that is not xlsx"])
def test_the_command_line_refuses_hostile_templates(app, runner, session, campaign, tmp_path, case):
    make, _name, *expected = XLSX_CASES[case]
    path = tmp_path / "reply.xlsx"
    path.write_bytes(make(session, campaign))
    before = _counts(app)
    result = runner.invoke(main, ["figures", "import", SLUG, str(path), "--yes"],
                           catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output and "Traceback" not in result.output
    assert all(phrase in result.output for phrase in expected)
    assert _counts(app) == before


# ---- XML entity bombs inside an XLSX (issue 23, point 14) -------------------------------

# Nested entity definitions: each expands to ten of the one before, so the last would be a
# billion "lol"s. A parser that expands them holds gigabytes; one that refuses them raises.
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{n} "{(f"&lol{n - 1};" if n > 1 else "&lol;") * 10}">'
                    for n in range(1, 10)) + "]>")


def _laughing(workbook: bytes, member: str) -> bytes:
    """``workbook`` again, with ``member`` (one of its XML parts) opening with the nested
    entity definitions and using the last one inside its root element: a real zip, built here."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        members = {item.filename: archive.read(item) for item in archive.infolist()}
    assert member in members, sorted(members)
    text = members[member].decode("utf-8")
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2:]
    root_end = text.index(">", text.index("<")) + 1  # after the root element's opening tag
    members[member] = (LAUGHS + text[:root_end] + "<x>&lol9;</x>" + text[root_end:]).encode()
    return _zip(members)


BOMBED_PARTS = ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml",
                "[Content_Types].xml", "xl/styles.xml", "docProps/core.xml", "_rels/.rels"]


@pytest.mark.parametrize("member", BOMBED_PARTS)
def test_an_xlsx_with_nested_entities_is_refused_naming_the_file(app, researcher, session,
                                                                 campaign, member):
    data = _laughing(saved(blank(session, campaign)), member)
    before = _counts(app)
    response = upload(researcher, f"/campaigns/{SLUG}/templates/import", "laughs.xlsx", data)
    refused(response, "laughs.xlsx", "declares XML entities")
    assert _counts(app) == before
    response = upload(researcher, f"/campaigns/{SLUG}/tracker/import", "laughs.xlsx", data,
                      {"confirmed": "1"})
    refused(response, "laughs.xlsx", "declares XML entities")
    assert _counts(app) == before


def test_the_command_line_refuses_an_xlsx_with_nested_entities(app, runner, session, campaign,
                                                               tmp_path):
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(_laughing(saved(blank(session, campaign)), "xl/worksheets/sheet1.xml"))
    before = _counts(app)
    for command in (["figures", "import", SLUG, str(path), "--yes"],
                    ["requests", "import-tracker", SLUG, str(path), "--yes"]):
        result = runner.invoke(main, command, catch_exceptions=False)
        assert result.exit_code == 1, result.output
        assert "Error:" in result.output and "Traceback" not in result.output
        assert "laughs.xlsx" in result.output and "declares XML entities" in result.output, \
            result.output
    assert _counts(app) == before
