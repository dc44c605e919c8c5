"""Property-based tests (hypothesis) on everything that reads what people upload: a figure's
value, tidy CSVs, trackers, filled templates, email, and uploaded file names. Whatever comes in,
each either reads it or raises its own error with a message; nothing else escapes, and a
refused file writes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from foitrack.domain.figure_values import MAX_VALUE, NotAFigure, ValueKind, parse
from foitrack.errors import Invalid
from foitrack.models import Attachment, Figure, InboundMessage, StoredFile
from foitrack.services import figures, inbound, requests, templates, tracker_import
from foitrack.services.figures import CSV_COLUMNS
from foitrack.storage import FileStore, safe_filename
from tests.factories import TEST_ACTOR, blank, make_campaign, saved

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2019, 7, 1)

# Modest, repeatable runs: the same examples every time, the suite kept fast.
PURE = settings(max_examples=300, deadline=None, derandomize=True)
WITH_DB = settings(max_examples=40, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow, HealthCheck.data_too_large])

# Text that openpyxl can put in a cell and a database can keep (no surrogates or control codes).
cell_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
digits = st.integers(min_value=0, max_value=10**12).map(str)
figure_like = st.one_of(
    digits,
    st.integers(min_value=0, max_value=10**9).map(lambda n: f"{n:,}"),
    digits.map(lambda d: f"<{d}"),
    st.tuples(digits, st.sampled_from(["-", " - ", "–"]), digits).map("".join),
    st.sampled_from(["*", "not recorded", "NR", "Not Held", "np", "withheld", "withheld s.40",
                     "Withheld under section 31(1)(a)", "withheld s.40(2)", "-3", "2.5", "1e308",
                     "0-2147483647", "<2147483648", "<2147483649", "9" * 5000, "٣٤", "３"]),
    st.text(max_size=30),
)


# ---- a figure's value -------------------------------------------------------------------

@PURE
@given(st.one_of(figure_like, st.text()), st.one_of(st.none(), st.integers(1, 100)))
def test_any_text_is_a_figure_that_reads_back_from_its_text_or_a_clear_refusal(text, threshold):
    try:
        value = parse(text, threshold)
    except NotAFigure as error:
        assert str(error).strip()
        return
    assert parse(value.text, threshold) == value
    if value.kind is ValueKind.exact:
        assert 0 <= value.value <= MAX_VALUE
    if value.kind is ValueKind.suppressed:
        assert 0 <= value.lower <= value.upper <= MAX_VALUE


# ---- uploaded names ---------------------------------------------------------------------

names = st.one_of(
    st.text(),
    st.lists(st.sampled_from(["..", ".", "/", "\\", "\x00", "etc", "passwd", "C:", " ", "\u202e",
                              "fdp.exe", "x" * 300, "\u00e9", "\U0001f600", ":", "*"]),
             max_size=8).map("".join),
)


@PURE
@given(names)
def test_a_safe_filename_never_climbs_folders_and_is_never_empty(name):
    clean = safe_filename(name, "attachment")
    assert clean and clean.strip()
    assert "/" not in clean and "\\" not in clean and "\x00" not in clean
    assert clean not in (".", "..") and not clean.startswith(".")
    assert len(clean) <= 200
    assert clean.isprintable()
    assert safe_filename(clean, "attachment") == clean  # already safe: kept as it is


@pytest.mark.parametrize("name", ["\x00..", "\x00 \x00", "a/\x00..", " .. ", "\u202e..."])
def test_names_hypothesis_found_are_made_safe(name):
    # "\x00.." became ".." when the dots were stripped before the NUL was removed.
    assert safe_filename(name, "attachment") == "attachment"


# ---- the tidy CSV import ----------------------------------------------------------------

@pytest.fixture
def campaign(session):
    found = make_campaign(session, (FIXTURES / "grooming-2019.toml").read_text())
    return found


def _figure_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Figure))


csv_cell = st.one_of(
    st.sampled_from(["E23000016", "West Mercia", "Kent", "offences", "2017-18", "2018-19",
                     "platform", "age", "Instagram", "Not recorded", "0-5", ""]),
    figure_like, cell_text, st.just("=cmd|' /C calc'!A0"), st.just("'=1+1"),
)
csv_rows = st.lists(st.lists(csv_cell, min_size=6, max_size=9), max_size=8)


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@WITH_DB
@given(st.one_of(
    st.tuples(st.just(list(CSV_COLUMNS)), csv_rows).map(lambda hr: _csv_bytes(*hr)),
    st.tuples(st.lists(st.sampled_from([*CSV_COLUMNS, "extra", ""]), max_size=9), csv_rows)
    .map(lambda hr: _csv_bytes(*hr)),
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
))
def test_a_tidy_csv_is_imported_whole_or_refused_writing_nothing(session, campaign, data):
    before = _figure_count(session)
    try:
        report = figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(data))
    except Invalid as error:
        assert error.problems and all(str(problem).strip() for problem in error.problems)
        session.rollback()  # as every caller does: the service may have written a batch
        assert _figure_count(session) == before
    else:
        assert _figure_count(session) == before + report.created
    finally:
        session.rollback()


# ---- the tracker import -----------------------------------------------------------------

tracker_cell = st.one_of(
    st.sampled_from(["West Mercia", "W Mercia Police", "Kent", "E23000016", "Gotham", "01/05/2019",
                     "2019-05-01", "31/02/2019", "2019-13-01", "1 May 2019", "20/05/2019",
                     "2099-01-01", "Refused", "provided", "awaiting", "ncnd", "FOI 123", ""]),
    cell_text,
)
tracker_headings = st.lists(st.sampled_from(["Force", "Authority", "Date sent", "Date of reply",
                                             "Status", "Ref", "Notes", ""]), max_size=6)


@WITH_DB
@given(st.one_of(
    st.tuples(tracker_headings, st.lists(st.lists(tracker_cell, max_size=6), max_size=6))
    .map(lambda hr: _csv_bytes(*hr)),
    st.binary(max_size=300),
))
def test_a_tracker_is_planned_or_refused_with_a_message(session, campaign, data):
    try:
        planned = tracker_import.plan(session, campaign, "tracker.csv", data, TODAY)
    except Invalid as error:
        assert str(error).strip()
    else:
        assert all(row.authority is not None or row.how for row in planned.rows)
    finally:
        session.rollback()


# ---- filled templates -------------------------------------------------------------------

cell_value = st.one_of(
    st.none(), st.integers(-10**30, 10**30), st.floats(allow_nan=True, allow_infinity=True),
    st.dates(), st.datetimes(), st.booleans(), figure_like.filter(lambda t: t.isprintable()),
    cell_text,
)


@WITH_DB
@given(st.lists(st.tuples(st.integers(1, 60), st.integers(1, 9), cell_value), max_size=12),
       st.booleans())
def test_a_filled_template_is_read_or_refused_cell_by_cell(session, campaign, changes, meta):
    book = blank(session, campaign)
    sheet = book[templates.layout.META_SHEET] if meta else book[templates.layout.SHEET]
    for row, column, value in changes:
        try:
            sheet.cell(row=row, column=column).value = value
        except (ValueError, TypeError):
            assume(False)  # openpyxl itself refuses to write it (e.g. a date out of Excel's range)
    data = saved(book)
    found, problems = templates.read_template(campaign, requests.campaign_requests(session, campaign),
                                              "reply.xlsx", data)
    assert (found is None) == bool(problems)
    for problem in problems:
        assert "reply.xlsx" in str(problem) and problem.message.strip()
    try:
        plan = templates.preview(session, campaign, [("reply.xlsx", data)])
    except Invalid as error:
        assert "reply.xlsx" in str(error)
    else:
        assert not problems and len(plan.files) == 1
    finally:
        session.rollback()


@WITH_DB
@given(st.lists(st.tuples(cell_text.filter(lambda t: 0 < len(t.strip()) <= 31
                                             and not any(c in t for c in "[]:*?/\\")),
                          st.lists(st.lists(cell_value, max_size=5), max_size=5)),
                max_size=3))
def test_any_workbook_is_refused_with_a_message_naming_the_file(session, campaign, sheets):
    book = Workbook()
    for title, rows in sheets:
        try:
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
        except (ValueError, TypeError):
            assume(False)
    data = saved(book)
    found, problems = templates.read_template(campaign, requests.campaign_requests(session, campaign),
                                              "odd.xlsx", data)
    assert found is None and problems and all("odd.xlsx" in str(p) for p in problems)
    # As a tracker its first sheet (the workbook's default, empty) is read: refused, named.
    with pytest.raises(Invalid, match="odd.xlsx"):
        tracker_import.plan(session, campaign, "odd.xlsx", data, TODAY)
    session.rollback()


# ---- email ------------------------------------------------------------------------------

header_name = st.sampled_from(["From", "To", "Subject", "Date", "Message-ID", "In-Reply-To",
                               "References", "Content-Type", "Content-Transfer-Encoding",
                               "Content-Disposition", "MIME-Version", "X-Odd"])
header_value = st.one_of(
    st.sampled_from(["FOI <foi@westmercia.pnn.police.uk>", "<>", "@", "Mon, 32 Foo 2019",
                     "Thu, 01 Jan 1970 00:00:00 +9999", "multipart/mixed; boundary=XYZ",
                     "multipart/mixed", "text/plain; charset=klingon", "base64",
                     "quoted-printable", "attachment; filename=\"../../etc/passwd\"",
                     "attachment; filename*=utf-8''%2E%2E%2F%2E%2E%2Fx.pdf",
                     "=?utf-8?b?////?=", "=?bogus?q?x?=", "[FOI-1-KENT] reply", "<a@b> <c@d>"]),
    st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
            max_size=60),
)
body = st.one_of(
    st.sampled_from([b"--XYZ\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
                     b"filename=\"..\\\\..\\\\x.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                     b"!!not base64!!\r\n--XYZ--\r\n",
                     b"--XYZ\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n",
                     b"=E9=XX=\r\n"]),
    st.binary(max_size=200),
)


def _message(headers: list[tuple[str, str]], content: bytes) -> bytes:
    lines = [f"{name}: {value}".encode("utf-8", "surrogatepass") for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + content


@WITH_DB
@given(st.one_of(
    st.tuples(st.lists(st.tuples(header_name, header_value), max_size=8), body)
    .map(lambda hb: _message(*hb)),
    st.binary(max_size=300),
), st.sampled_from(["reply.eml", "box.mbox"]))
def test_an_email_is_filed_or_refused_and_its_names_are_safe(session, campaign, tmp_path_factory,
                                                            data, filename):
    store = FileStore(tmp_path_factory.mktemp("files"))
    before = session.scalar(select(func.count()).select_from(InboundMessage))
    try:
        inbound.import_file(session, TEST_ACTOR, store, filename, data, TODAY)
    except Invalid as error:
        assert filename in str(error)
    else:
        session.flush()
        for name in session.scalars(select(Attachment.filename)):
            assert "/" not in name and "\\" not in name and not name.startswith(".")
        for name in session.scalars(select(StoredFile.filename)):
            assert "/" not in name and "\\" not in name
    finally:
        session.rollback()
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == before
