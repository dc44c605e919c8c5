"""A researcher's day, in a real browser: from a new campaign to the 43 forces to the XLSX.

One story in steps, each step's page photographed and checked with axe-core. It uses only
what a researcher can do in the pages: no service is called behind the browser's back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from foitrack.services.registry import read_registry
from tests.browser.chromium import Visits, fill_date, new_page, sign_in

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WEST_MERCIA = "E23000016"
REFUSING = "Cumbria Constabulary"
MEASURE = "Offences of sexual communication with a child recorded"


def _design() -> str:
    """The data design of the charity's 2019 campaign, as a researcher pastes it in."""
    text = (FIXTURES / "grooming-2019.toml").read_text()
    return text[text.index("[[measures]]"):]


def _fixture_rows() -> list[dict[str, str]]:
    with open(FIXTURES / "grooming-2019.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _code_of(name: str) -> str:
    return next(row["code"] for row in read_registry() if row["name"] == name)


def _reply_csv(path: Path) -> tuple[Path, dict[str, int]]:
    """The other forces' figures as a tidy CSV, without West Mercia (typed in the grid) and the
    refusing force; and the national totals by period that the aggregate should then show."""
    refusing = _code_of(REFUSING)
    rows = [r for r in _fixture_rows() if r["authority"] not in (WEST_MERCIA, refusing)]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    totals: dict[str, int] = {}
    for r in rows:
        if not r["dimension"]:
            totals[r["period"]] = totals.get(r["period"], 0) + int(r["value"])
    return path, totals


def _flash(page: Page) -> str:
    return page.locator(".notification").first.inner_text()


def test_a_researchers_day(browser, live_server, tmp_path):
    visits = Visits("day")
    page = new_page(browser, live_server)
    today = dt.date.today()
    sent_on = today - dt.timedelta(days=60)

    # Sign in: the dashboard is empty but says what to do.
    sign_in(page, live_server.researcher)
    expect(page.get_by_role("heading", name=re.compile("Dashboard"))).to_be_visible()
    visits.check(page, "dashboard, first sign-in")

    # A campaign to the 43 forces of England and Wales.
    page.get_by_role("link", name="New campaign").first.click()
    page.get_by_label("Title").fill("Sexual communication with a child, 2017/18 and 2018/19")
    page.get_by_label("Short name").fill("grooming-2019")
    page.get_by_label("Send to a set").select_option("england-wales")
    visits.check(page, "new campaign")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.locator(".notification")).to_contain_text("Campaign created with 43 requests")
    expect(page.locator("#requests tbody tr")).to_have_count(43)
    visits.check(page, "campaign created")

    # Its data design, pasted as the campaign file's TOML.
    page.get_by_role("link", name="Data design").click()
    page.get_by_label("Data design (TOML)").fill(_design())
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator(".notification")).to_contain_text("Saved the data design")
    page.get_by_role("link", name="Sexual communication with a child").first.click()

    # Mark every request sent, sixty days ago: tick all, record, and the statuses follow.
    page.get_by_label("Tick every request").check()
    assert page.locator("#requests tbody input[type=checkbox]:checked").count() == 43
    page.get_by_label("Record", exact=True).select_option(label="Request sent")
    fill_date(page, "On", sent_on)
    page.get_by_role("button", name="Record for ticked requests").click()
    expect(page.locator(".notification").first).to_contain_text("43")
    expect(page.locator("#requests tbody")).not_to_contain_text("Not sent")
    visits.check(page, "campaign sent")

    # A refusal under s.12 from one force.
    page.get_by_role("link", name=REFUSING).first.click()
    page.get_by_label("What happened").select_option(label="Response received")
    fill_date(page, "Date", sent_on + dt.timedelta(days=20))
    page.get_by_label("Outcome").select_option("refused")
    page.get_by_label("Sections cited").fill("s.12")
    page.get_by_label("Note").fill("Refused: finding the platform would exceed the cost limit.")
    page.get_by_role("button", name="Add to the timeline").click()
    expect(page.locator(".notification").first).to_contain_text("Recorded: response received")
    expect(page.locator("dl.summary-list")).to_contain_text("s.12")
    visits.check(page, "refusal recorded")

    # The other forces' replies come in as a tidy CSV.
    upload, national = _reply_csv(tmp_path / "replies.csv")
    page.goto("/campaigns/grooming-2019")
    page.get_by_role("link", name="Import figures (CSV)").click()
    page.get_by_label("File").set_input_files(str(upload))
    visits.check(page, "import figures")
    page.get_by_role("button", name=re.compile("Import")).click()
    expect(page.locator(".notification").first).to_contain_text("Imported replies.csv")

    # West Mercia's reply, typed into the grid like a spreadsheet, with a "<5".
    page.goto("/campaigns/grooming-2019/requests/west-mercia")
    page.get_by_label("What happened").select_option(label="Response received")
    fill_date(page, "Date", sent_on + dt.timedelta(days=18))
    page.get_by_label("Outcome").select_option("provided")
    page.get_by_role("button", name="Add to the timeline").click()
    page.get_by_role("link", name="Enter figures from this reply").click()
    first = page.get_by_label(f"{MEASURE}, 2017/18, total", exact=True)
    first.click()
    page.keyboard.type("73")
    page.keyboard.press("ArrowDown")  # down to 2018/19 in the same column
    page.keyboard.type("122")
    expect(page.get_by_label(f"{MEASURE}, 2018/19, total", exact=True)).to_have_value("122")
    page.get_by_label(f"{MEASURE}, 2018/19, Instagram", exact=True).click()
    page.keyboard.type("17")
    page.keyboard.press("Tab")  # along the row: Facebook
    page.keyboard.type("10")
    page.keyboard.press("ArrowRight")  # the whole cell's text is typed, so right moves on
    page.keyboard.type("<5")
    expect(page.get_by_label(f"{MEASURE}, 2018/19, Messenger", exact=True)).to_have_value("<5")
    page.keyboard.press("ArrowUp")  # up to 2017/18, Messenger
    page.keyboard.type("four")  # a mistake, shown on its cell
    page.get_by_label("Source of the figures").fill("Reply of West Mercia, tables 1 and 2")
    page.get_by_role("button", name="Save figures").click()
    bad = page.get_by_label(f"{MEASURE}, 2017/18, Messenger", exact=True)
    expect(bad).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".error-summary")).to_contain_text("Nothing was saved")
    expect(page.get_by_label(f"{MEASURE}, 2018/19, Messenger", exact=True)).to_have_value("<5")
    visits.check(page, "figure grid with an error")
    bad.fill("4")
    page.get_by_role("button", name="Save figures").click()
    expect(page.locator(".notification").first).to_contain_text("Saved figures for West Mercia Police")
    visits.check(page, "figure grid saved")

    # The chase list: everyone else is late, the two who answered are not on it.
    page.get_by_role("link", name="Chase list").click()
    chase = page.locator("table").first
    expect(chase).to_contain_text("Dyfed-Powys Police")
    expect(chase).not_to_contain_text("West Mercia Police")
    expect(chase).not_to_contain_text(REFUSING)
    visits.check(page, "chase list")

    # The aggregate, its chart, and the numbers the release will quote.
    page.goto("/campaigns/grooming-2019/aggregate")
    table = page.locator("#aggregate")
    for period, label in (("2017-18", "2017/18"), ("2018-19", "2018/19")):
        total = national[period] + (73 if period == "2017-18" else 122)
        row = table.locator("tr.level-total", has_text=label).filter(has_text="Total").first
        expect(row).to_contain_text(f"{total:,}")
    chart = page.locator("figure img").first
    expect(chart).to_be_visible()
    # Rendered on the server by vl-convert: wait until the browser has it decoded.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chart.element_handle())
    visits.check(page, "aggregate")
    # Each chart downloads as a PNG for the press release, and as SVG to edit.
    with page.expect_download() as download_info:
        page.locator("figure").first.get_by_role("link", name=re.compile("^PNG")).click()
    png = download_info.value
    assert png.suggested_filename.endswith(".png")
    assert Path(png.path()).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with page.expect_download() as download_info:
        page.locator("figure").first.get_by_role("link", name=re.compile("^SVG")).click()
    assert b"<svg" in Path(download_info.value.path()).read_bytes()[:500]

    # The XLSX a journalist gets: West Mercia's figures as typed, numbers as numbers.
    page.goto("/campaigns/grooming-2019")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="XLSX").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
    assert {"README", "Aggregate", "Figures", "Requests"} <= set(book.sheetnames)
    figures = list(book["Figures"].iter_rows(values_only=True))
    header = figures[0]
    west_mercia = [dict(zip(header, row, strict=True)) for row in figures[1:] if "West Mercia Police" in row]
    values = {(r["period"], r["category"] or None): (r["kind"], r["value"], r["as_given"])
              for r in west_mercia}
    assert values[("2018-19", None)] == ("exact", 122, "122")
    assert values[("2018-19", "Messenger")] == ("suppressed", None, "<5")
    assert values[("2017-18", "Messenger")] == ("exact", 4, "4")

    # The dashboard now has work in it: the late ones, and figures for a second pair of eyes.
    page.goto("/")
    expect(page.locator("#todo")).to_contain_text("overdue")
    visits.check(page, "dashboard at the end of the day")
    assert page.problems == []  # type: ignore[attr-defined]
