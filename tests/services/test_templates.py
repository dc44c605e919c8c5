"""Response templates: made, filled as a force would fill them, read back; bad files refused."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from foitrack.errors import Invalid
from foitrack.models import Figure, StoredFile
from foitrack.services import figures, requests, templates
from foitrack.services.design import create_from_file
from foitrack.storage import FileStore, safe_filename
from tests.factories import (
    EXAMPLE_DESIGN,
    TEST_ACTOR,
    blank,
    cell_for,
    make_campaign,
    make_user,
    saved,
)


@pytest.fixture
def campaign(session):
    found = make_campaign(session)
    return found


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "files")


def fill(book, values):
    sheet = book["Figures"]
    for category, value in values.items():
        sheet[cell_for(sheet, category)] = value
    return book


def test_the_template_has_a_cell_for_every_figure_and_checks_its_input(session, campaign):
    sheet = blank(session, campaign)["Figures"]
    assert sheet["B2"].value == "West Mercia Police"
    labels = [sheet[f"D{row}"].value for row in range(13, sheet.max_row + 1)]
    assert labels == ["Total", "Instagram", "Facebook", "Messenger", "WhatsApp", "Snapchat", "Other",
                      "Not recorded"]
    validation = sheet.data_validations.dataValidation[0]
    assert validation.type == "custom" and "E13:E20" in str(validation.sqref)
    assert sheet.freeze_panes == "A13"


def test_a_filled_template_round_trips(session, campaign, store):
    user = make_user(session)
    book = fill(blank(session, campaign), {"Total": 122, "Instagram": "<5", "Snapchat": "Not recorded",
                                           "Other": 30})
    book["Figures"][cell_for(book["Figures"], "Total").replace("E", "F")] = "keyword search"
    data = saved(book)
    plan = templates.preview(session, campaign, [("reply.xlsx", data)])
    assert plan.summary() == "1 file: 4 new, 0 changed, 0 unchanged, 0 changing a checked figure"
    report = templates.apply(session, TEST_ACTOR, plan, store, user)
    session.commit()
    assert report.created == 4
    rows = {(r["category"], r["value"]): r for r in figures.export_rows(session, campaign)}
    assert set(rows) == {("", "122"), ("Instagram", "<5"), ("Snapchat", "not recorded"),
                         ("Other", "30")}
    assert rows[("", "122")]["caveat"] == "keyword search"
    assert rows[("", "122")]["source"] == "reply.xlsx Figures!E13"
    stored = session.scalars(select(StoredFile)).one()
    assert store.read(stored.sha256) == data  # the file itself is kept as the source
    figure = session.scalars(select(Figure).where(Figure.category_id.is_(None))).one()
    assert figure.source_file.filename == "reply.xlsx"
    again = templates.preview(session, campaign, [("reply.xlsx", data)])
    assert again.count("unchanged") == 4


def test_a_change_to_a_checked_figure_shows_as_a_conflict(session, campaign, store):
    enterer, checker = make_user(session), make_user(session)
    templates.apply(session, TEST_ACTOR, templates.preview(session, campaign, [
        ("a.xlsx", saved(fill(blank(session, campaign), {"Total": 122})))]), store, enterer)
    figures.check_figures(session, TEST_ACTOR, session.scalars(select(Figure)).all(), checker)
    session.commit()
    plan = templates.preview(session, campaign, [("b.xlsx", saved(fill(blank(session, campaign),
                                                                       {"Total": 125})))])
    conflict = plan.figures[0]
    assert (conflict.status, conflict.old, conflict.new, conflict.checked_by) == (
        "conflict", "122", "125", checker.email)


def test_many_templates_at_once(session, campaign, store):
    files = [(f"{slug}.xlsx", saved(fill(blank(session, campaign, slug), {"Total": n})))
             for n, slug in enumerate(["kent", "surrey", "sussex"], start=10)]
    report = templates.apply(session, TEST_ACTOR, templates.preview(session, campaign, files), store)
    assert report.created == 3


def _bad_files(session, campaign):
    book = fill(blank(session, campaign), {"Total": 12})
    renamed = blank(session, campaign)
    renamed["Figures"].title = "Sheet1"
    moved = blank(session, campaign)
    moved["Figures"].insert_rows(5)
    return {
        "wrong sheet": (saved(renamed), "needs the sheets 'Figures' and 'foitrack'"),
        "moved header": (saved(moved), "Figures!A12: should read 'Measure'"),
        "text in a number cell": (saved(fill(blank(session, campaign), {"Instagram": "lots"})),
                                  "Figures!E14: 'lots' is not a figure"),
        "negative number": (saved(fill(blank(session, campaign), {"Other": -3})),
                            "Figures!E19: '-3': a count cannot be negative"),
        "decimal": (saved(fill(blank(session, campaign), {"Other": 2.5})),
                    "Figures!E19: 2.5 is not a whole number"),
        "not xlsx": (b"%PDF-1.4 not a spreadsheet", "is not an XLSX workbook"),
        "empty": (b"", "the file is empty"),
        "good one beside them": (saved(book), None),
    }


@pytest.mark.parametrize("case", ["wrong sheet", "moved header", "text in a number cell",
                                  "negative number", "decimal", "not xlsx", "empty"])
def test_bad_files_import_nothing_with_a_clear_message(session, campaign, case):
    cases = _bad_files(session, campaign)
    data, message = cases[case]
    good = cases["good one beside them"][0]
    with pytest.raises(Invalid) as caught:
        templates.preview(session, campaign, [("good.xlsx", good), ("bad.xlsx", data)])
    assert message in str(caught.value)
    assert session.scalar(select(func.count()).select_from(Figure)) == 0


def test_a_template_of_another_campaign_is_refused(session, campaign):
    other = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace('slug = "grooming-2019"',
                                                                  'slug = "other"'))
    book = fill(blank(session, other), {"Total": 5})
    with pytest.raises(Invalid, match="is the template of campaign 'other', not 'grooming-2019'"):
        templates.preview(session, campaign, [("x.xlsx", saved(book))])


def test_uploaded_names_cannot_climb_folders():
    assert safe_filename("../../etc/passwd", "upload.xlsx") == "passwd"
    assert safe_filename("C:\\Users\\x\\reply.xlsx", "upload.xlsx") == "reply.xlsx"
    assert safe_filename("..", "upload.xlsx") == "upload.xlsx"


def test_the_43_replies_of_the_acceptance_campaign_in_one_go(session, store):
    """Each force's figures written into its own template, all 43 imported at once: the
    national figures come out as the charity published them."""
    import csv
    from pathlib import Path

    from foitrack.services import aggregate

    fixtures = Path(__file__).parent.parent / "fixtures"
    campaign = make_campaign(session, (fixtures / "grooming-2019.toml").read_text())
    given: dict[str, dict[tuple[str, str, str], str]] = {}
    with (fixtures / "grooming-2019.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            given.setdefault(row["authority"], {})[
                (row["period"], row["dimension"], row["category"])] = row["value"]
    files = []
    for request in requests.campaign_requests(session, campaign):
        book = load_workbook(io.BytesIO(templates.template_bytes(campaign, request)))
        sheet = book["Figures"]
        mine = given.get(request.authority.code, {})
        for row in range(13, sheet.max_row + 1):
            key = (sheet[f"H{row}"].value, sheet[f"I{row}"].value or "",
                   "" if sheet[f"D{row}"].value == "Total" else sheet[f"D{row}"].value)
            if key in mine:
                value = mine[key]
                sheet[f"E{row}"] = int(value) if value.isdigit() else value
        files.append((f"{request.authority.slug}.xlsx", saved(book)))
    plan = templates.preview(session, campaign, files)
    assert (len(plan.files), plan.count("new")) == (43, 784)
    templates.apply(session, TEST_ACTOR, plan, store)
    session.commit()
    national = aggregate.build(session, campaign)
    assert national.row("offences", "2018-19").total == 4373
    assert national.row("offences", "2017-18", "WhatsApp").upper_bound == 128
    assert round(national.row("offences", "two-years", "Instagram").share_where_recorded, 4) == 0.2531
