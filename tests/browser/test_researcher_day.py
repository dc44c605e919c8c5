"""A researcher's day, in a real browser: from a new campaign to the 43 forces to the XLSX.

One story in steps (issue 16): design the data by the form, pilot, send, record replies going
from force to force, type figures into the grid, chase from the chase list, aggregate a few
forces chosen by name, read the release lines, download the exports. Walked at desktop width
and on a 390 px phone; each step's page photographed and checked with axe-core, and on the
phone checked not to scroll sideways. It uses only what a researcher can do in the pages: no
service is called behind the browser's back.
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
from tests.browser.chromium import (
    DESKTOP,
    PHONE_390,
    Visits,
    fill_date,
    new_page,
    sign_in,
    wait_until,
)

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WEST_MERCIA = "E23000016"
REFUSING = "Cumbria Constabulary"
MEASURE = "Offences of sexual communication with a child recorded"


PLATFORMS = ["Instagram", "Facebook", "Messenger", "WhatsApp", "Snapchat", "Other"]
AGES = ["0-5", "6-8", "9-11", "12-13", "14-15", "16-17"]
PILOT = ["Avon and Somerset Constabulary", "Bedfordshire Police", "Cambridgeshire Constabulary"]
CHASED = ["Dyfed-Powys Police", "Essex Police"]
CHOSEN = ("Kent", "Surrey Police")  # the aggregate's two forces: one typed, one ticked
def _fixture_rows() -> list[dict[str, str]]:
    with open(FIXTURES / "grooming-2019.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _code_of(name: str) -> str:
    return next(row["code"] for row in read_registry() if row["name"] == name)


def _totals_of(codes: set[str]) -> dict[str, int]:
    """The fixture's totals by period over the forces of ``codes``."""
    totals: dict[str, int] = {}
    for r in _fixture_rows():
        if r["authority"] in codes and not r["dimension"]:
            totals[r["period"]] = totals.get(r["period"], 0) + int(r["value"])
    return totals


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


def _go(page: Page, name: str) -> None:
    """Follow a link of the site's menu: on a phone it folds behind the "Menu" button."""
    menu = page.locator(".site-menu-button")
    if menu.is_visible() and page.locator(".site-menu[open]").count() == 0:
        menu.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def _design_by_the_form(page: Page, visits: Visits) -> None:
    """The data design typed into the form's rows, from a form emptied of what it starts from
    (the example design, or the last campaign's)."""
    expect(page.get_by_role("heading", name="Data design")).to_be_visible()
    remove = page.get_by_role("button", name=re.compile(r"^Remove "))
    while remove.count():
        remove.first.click()
    expect(page.get_by_label("Measure 1 key", exact=True)).to_have_count(0)

    page.get_by_role("button", name="Add another measure").click()
    page.get_by_label("Measure 1 key", exact=True).fill("offences")
    page.get_by_label("Measure 1 name", exact=True).fill(MEASURE)
    page.get_by_label("Measure 1 unit", exact=True).fill("offences")

    # The two financial years by the shortcut, not typed date by date.
    page.get_by_label("First financial year").fill("2017/18")
    page.get_by_label("Last financial year").fill("2018/19")
    page.get_by_role("button", name="Fill the periods with these financial years").click()
    expect(page.get_by_label("Period 1 key", exact=True)).to_have_value("2017-18")
    expect(page.get_by_label("Period 2 name", exact=True)).to_have_value("2018/19")
    expect(page.get_by_label("Period 2 end", exact=True)).to_have_value("2019-03-31")
    # What was typed before a button other than Save stays typed.
    expect(page.get_by_label("Measure 1 name", exact=True)).to_have_value(MEASURE)

    page.get_by_role("button", name="Add another breakdown").click()
    page.get_by_label("Breakdown 1 key", exact=True).fill("platform")
    page.get_by_label("Breakdown 1 name", exact=True).fill("Communication method")
    page.get_by_label("Breakdown 1 categories", exact=True).fill("\n".join(PLATFORMS))
    page.get_by_label("Breakdown 1 not-recorded category", exact=True).fill("Not recorded")
    page.get_by_label("Breakdown 1 overlapping", exact=True).check()
    page.get_by_label("Breakdown 1 unit", exact=True).fill("instances")
    page.get_by_role("button", name="Add another breakdown").click()
    page.get_by_label("Breakdown 2 key", exact=True).fill("age")
    page.get_by_label("Breakdown 2 name", exact=True).fill("Victim age")
    page.get_by_label("Breakdown 2 categories", exact=True).fill("\n".join(AGES))
    expect(page.get_by_label("Breakdown 1 overlapping", exact=True)).to_be_checked()
    visits.check(page, "data design typed in the form")
    page.get_by_role("button", name="Save design", exact=True).last.click()
    expect(page.locator(".notification").first).to_contain_text("Saved the data design")
    summary = page.locator("#design-summary")
    expect(summary).to_contain_text(f"{MEASURE} (offences)")
    expect(summary).to_contain_text("2017/18: 2017-04-01 to 2018-03-31; 2018/19: 2018-04-01 to 2019-03-31")
    expect(summary).to_contain_text("Instagram, Facebook, Messenger, WhatsApp, Snapchat, Other, "
                                    "Not recorded (not recorded)")
    visits.check(page, "data design saved")


def _tick(page: Page, names: list[str]) -> None:
    for name in names:
        page.locator("#requests").get_by_label(name, exact=True).check()


def _record_for_ticked(page: Page, kind: str, day: dt.date) -> None:
    page.get_by_label("Record", exact=True).select_option(label=kind)
    fill_date(page, "On", day)
    page.get_by_role("button", name="Record for ticked requests").click()


def _record_reply(page: Page, day: dt.date, outcome: str) -> None:
    page.get_by_label("What happened").select_option(label="Response received")
    fill_date(page, "Date", day)
    page.get_by_label("Outcome").select_option(outcome)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE_390], ids=["desktop", "390px"])
def test_a_researchers_day(browser, live_server, tmp_path, viewport):
    phone = viewport["width"] < 600
    # One server for the module: each width runs its own campaign.
    slug = "grooming-2019-phone" if phone else "grooming-2019"
    title = "Sexual communication with a child, 2017/18 and 2018/19" + (" (phone)" if phone else "")
    visits = Visits(f"day-{viewport['width']}", narrow=phone)
    page = new_page(browser, live_server, viewport)
    today = dt.date.today()
    piloted_on = today - dt.timedelta(days=65)
    sent_on = today - dt.timedelta(days=60)

    # Sign in: the dashboard says what to do.
    sign_in(page, live_server.researcher)
    expect(page.get_by_role("heading", name=re.compile("Dashboard"))).to_be_visible()
    visits.check(page, "dashboard, first sign-in")

    # A campaign to the 43 forces of England and Wales.
    page.get_by_role("link", name="New campaign").first.click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Short name").fill(slug)
    page.get_by_label("Send to a set").select_option("england-wales")
    visits.check(page, "new campaign")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.locator(".notification")).to_contain_text("Campaign created with 43 requests")
    expect(page.locator("#requests tbody tr")).to_have_count(43)
    expect(page.locator("#task-design")).to_contain_text("Not started")
    visits.check(page, "campaign created")

    # Its data design, by the form: the task list's first stage and its one button.
    page.locator("#task-design").get_by_role("link", name="Data design").click()
    _design_by_the_form(page, visits)
    page.get_by_role("link", name=title).first.click()
    expect(page.locator("#task-design")).to_contain_text("Done")

    # The pilot: three requests recorded as sent first, ticked in the table.
    expect(page.locator("#task-pilot")).to_contain_text("Not started")
    _tick(page, PILOT)
    _record_for_ticked(page, "Request sent", piloted_on)
    expect(page.locator(".notification").first).to_contain_text("3")
    expect(page.locator("#task-pilot")).to_contain_text("Done")
    expect(page.locator("#task-pilot")).to_contain_text("Sent to 3 first")
    visits.check(page, "pilot sent")

    # Then the rest: the table shows only those not sent, all ticked, recorded as sent.
    not_sent = next(text for text in page.locator("#status option").all_inner_texts()
                    if text.startswith("Not sent"))
    assert not_sent == "Not sent (40)"
    page.get_by_label("Show", exact=True).select_option(label=not_sent)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#requests tbody tr")).to_have_count(40)
    page.get_by_label("Tick every request").check()
    assert page.locator("#requests tbody input[type=checkbox]:checked").count() == 40
    _record_for_ticked(page, "Request sent", sent_on)
    expect(page.locator(".notification").first).to_contain_text("40")
    page.get_by_role("link", name="Show every request").click()
    expect(page.locator("#requests tbody tr")).to_have_count(43)
    expect(page.locator("#requests tbody")).not_to_contain_text("Not sent")
    expect(page.locator("#task-send")).to_contain_text("Done")
    expect(page.locator("#task-pilot")).to_contain_text("Done")
    visits.check(page, "campaign sent")

    # A refusal under s.12 from one force...
    page.locator("#requests").get_by_role("link", name=REFUSING).click()
    _record_reply(page, sent_on + dt.timedelta(days=20), "refused")
    page.get_by_label("Sections cited").fill("s.12")
    page.get_by_label("Note").fill("Refused: finding the platform would exceed the cost limit.")
    page.get_by_role("button", name="Add to the timeline").click()
    expect(page.locator(".notification").first).to_contain_text("Recorded: response received")
    expect(page.locator("dl.summary-list")).to_contain_text("s.12")
    visits.check(page, "refusal recorded")

    # ... then straight on to the next force in the list, whose reply came the same day.
    next_force = page.get_by_role("link", name=re.compile(r"^Next force: "))
    following = re.sub(r"^Next force: |\s*→$", "", next_force.inner_text().strip())
    assert following and following != REFUSING
    next_force.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(following)
    _record_reply(page, sent_on + dt.timedelta(days=20), "provided")
    page.get_by_role("button", name="Add to the timeline").click()
    expect(page.locator(".notification").first).to_contain_text("Recorded: response received")
    expect(page.get_by_role("link", name=re.compile(r"Previous force: "))).to_contain_text(REFUSING)
    visits.check(page, "next force's reply recorded")

    # The other forces' replies come in as a tidy CSV.
    upload, national = _reply_csv(tmp_path / "replies.csv")
    page.goto(f"/campaigns/{slug}")
    page.get_by_role("link", name="Import figures (CSV)").click()
    page.get_by_label("File").set_input_files(str(upload))
    visits.check(page, "import figures")
    page.get_by_role("button", name=re.compile("Import")).click()
    expect(page.locator(".notification").first).to_contain_text("Imported replies.csv")

    # West Mercia's reply, typed into the grid like a spreadsheet, with a "<5".
    page.goto(f"/campaigns/{slug}/requests/west-mercia")
    _record_reply(page, sent_on + dt.timedelta(days=18), "provided")
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

    # The chase list: everyone else is late, those who answered are not on it.
    _go(page, "Chase list")
    page.get_by_label("Campaign", exact=True).select_option(label=title)
    page.get_by_role("button", name="Show", exact=True).click()
    chase = page.locator("#chase")
    expect(chase).to_contain_text(CHASED[0])
    expect(page.locator(".result-count")).to_contain_text("40 requests")
    for answered in ("West Mercia Police", REFUSING, following):
        expect(chase).not_to_contain_text(answered)
    visits.check(page, "chase list")
    # Two chased by hand today: ticked, and recorded from the list.
    for name in CHASED:
        chase.get_by_label(f"{name}, {title}", exact=True).check()
    page.get_by_role("button", name="Record “chaser sent”").click()
    expect(page.locator(".notification").first).to_contain_text("for 2 requests")
    for name in CHASED:
        row = page.locator("#chase tr", has_text=name)
        expect(row.locator(f"time[datetime='{today.isoformat()}']")).to_have_count(1)
    expect(page.locator("#chase tr", has_text=PILOT[0])).to_contain_text("never")
    visits.check(page, "chasers recorded from the list")
    # Not chased for a day or more: the two just chased leave the list.
    page.get_by_label("Not chased for at least (days)").fill("1")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator(".result-count")).to_contain_text("38 requests")
    for name in CHASED:
        expect(page.locator("#chase")).not_to_contain_text(name)

    # The aggregate, its chart, and the numbers the release will quote.
    page.goto(f"/campaigns/{slug}/aggregate")
    table = page.locator("#aggregate")
    totals = {period: national[period] + (73 if period == "2017-18" else 122)
              for period in ("2017-18", "2018-19")}
    for period, label in (("2017-18", "2017/18"), ("2018-19", "2018/19")):
        row = table.locator("tr.level-total", has_text=label).filter(has_text="Total").first
        expect(row).to_contain_text(f"{totals[period]:,}")
    chart = page.locator("figure img").first
    expect(chart).to_be_visible()
    # Rendered on the server by vl-convert: wait until the browser has it decoded.
    wait_until(page, lambda: chart.evaluate("img => img.complete && img.naturalWidth > 0"),
               "the chart is not decoded")
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

    # The release lines quote the national total, with its thousands separator.
    page.get_by_role("link", name="Release lines").first.click()
    latest, before = totals["2018-19"], totals["2017-18"]
    assert latest >= 1000, "the national total should be large enough to need a separator"
    line = page.locator("#release-lines li", has_text=f"{latest:,} offences").first
    expect(line).to_contain_text(f"from {before:,} in 2017/18")
    # Each number links to the figures behind it.
    expect(line.get_by_role("link", name=f"{latest:,}", exact=True)).to_be_visible()
    visits.check(page, "release lines")

    # Two forces' aggregate, chosen by name: one typed, one ticked from the searchable list.
    page.goto(f"/campaigns/{slug}/aggregate")
    page.locator("#authorities").fill(CHOSEN[0])
    page.get_by_text("Choose authorities and sets by name").click()
    page.get_by_label("Search the lists").fill("Surrey")
    expect(page.get_by_label("Kent Police", exact=True)).to_be_hidden()
    page.get_by_label(CHOSEN[1], exact=True).check()
    page.locator("details").get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Aggregate: (Kent, Surrey|Surrey, Kent)$"))
    expect(page.get_by_label("Kent Police", exact=True)).to_be_checked()  # the typed name, ticked
    pair = _totals_of({_code_of("Kent Police"), _code_of("Surrey Police")})
    table = page.locator("#aggregate")
    for period, label in (("2017-18", "2017/18"), ("2018-19", "2018/19")):
        row = table.locator("tr.level-total", has_text=label).filter(has_text="Total").first
        expect(row).to_contain_text(f"{pair[period]:,}")
        expect(row).not_to_contain_text(f"{totals[period]:,}")
    visits.check(page, "aggregate of two forces chosen by name")

    # The XLSX a journalist gets: West Mercia's figures as typed, numbers as numbers.
    page.goto(f"/campaigns/{slug}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="XLSX", exact=True).click()
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
    # And the same figures as CSV, as typed.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="figures CSV", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    typed = {(r["period"], r["category"] or None): r["as_given"] for r in rows
             if "West Mercia Police" in r.values()}
    assert typed[("2018-19", None)] == "122"
    assert typed[("2018-19", "Messenger")] == "<5"

    # The dashboard now has work in it: the late ones, and figures for a second pair of eyes.
    _go(page, "Dashboard")
    expect(page.locator("#todo")).to_contain_text("overdue")
    visits.check(page, "dashboard at the end of the day")
    assert page.problems == []  # type: ignore[attr-defined]
