"""The data design as a form (issue 16, point 2): rows for measures, periods, breakdowns and
groups, period shortcuts, rows added and removed without losing what was typed, the TOML kept
as "advanced" and round-tripping with the form, and a new campaign never starting blank."""

from __future__ import annotations

import html
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from foitrack.domain.period_shortcuts import calendar_quarters, financial_years
from foitrack.errors import Invalid
from foitrack.models import Campaign
from foitrack.services import design as design_service
from foitrack.services import design_form
from foitrack.services.campaigns import create_campaign
from tests.factories import (
    EXAMPLE_DESIGN,
    REQUEST_TEXT,
    TEST_ACTOR,
    load_forces,
    make_campaign,
    make_user,
)
from tests.pages import sign_in

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GROOMING = (FIXTURES / "grooming-2019.toml").read_text()
URL = "/campaigns/grooming-2019/design"
METHOD = 'label = "Communication method"'


class _FormFields(HTMLParser):
    """What a browser would send for the page's design form: every input, textarea and
    ticked checkbox, buttons left out (the test says which one it presses)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.labels: dict[str, str] = {}  # label text -> the name of its field
        self._ids: dict[str, str] = {}
        self._textarea: str | None = None
        self._label_for: str | None = None
        self._label_text = ""
        self._pairs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a.get("type") not in ("submit",):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields[a["name"]] = a.get("value", "y")
            else:
                self.fields[a["name"]] = a.get("value", "")
            self._ids[a.get("id", "")] = a["name"]
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
            self._ids[a.get("id", "")] = a["name"]
        elif tag == "label":
            self._label_for, self._label_text = a.get("for"), ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data
        if self._label_for is not None:
            self._label_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            # As an HTML parser does: the newline just after <textarea> is not in its value.
            text = self.fields[self._textarea or ""]
            self.fields[self._textarea or ""] = text.removeprefix("\r\n").removeprefix("\n")
            self._textarea = None
        elif tag == "label" and self._label_for is not None:
            self._pairs.append((" ".join(self._label_text.split()), self._label_for))
            self._label_for = None

    def close(self) -> None:
        super().close()
        self.labels = {text: self._ids[for_id] for text, for_id in self._pairs if for_id in self._ids}


def _form(page: str) -> tuple[dict[str, str], dict[str, str]]:
    """The form's fields as a browser would post them, and each label's field name."""
    parser = _FormFields()
    parser.feed(page[page.index('<form method="post" action='):])
    parser.close()
    return parser.fields, parser.labels


class DesignPage:
    """The design page in a test client: fill fields by their labels, press a button."""

    def __init__(self, client, url: str = URL) -> None:
        self.client, self.url = client, url
        self.response = client.get(url)
        self.page = self.response.get_data(as_text=True)
        self.fields, self.labels = _form(self.page)

    def fill(self, label: str, value: str | bool) -> None:
        name = self.labels[label]
        if value is True:
            self.fields[name] = "y"
        elif value is False:
            self.fields.pop(name, None)
        else:
            self.fields[name] = value

    def value(self, label: str) -> str:
        return self.fields.get(self.labels[label], "")

    def press(self, action: str = "save"):
        self.response = self.client.post(self.url, data={**self.fields, "action": action})
        if self.response.status_code != 302:
            self.page = self.response.get_data(as_text=True)
            self.fields, self.labels = _form(self.page)
        return self.response


@pytest.fixture
def researcher(client, session):
    make_campaign(session)
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def _stored_toml(session, slug: str = "grooming-2019") -> str:
    session.expire_all()
    return design_service.design_toml(session.scalar(select(Campaign).where(Campaign.slug == slug)))


def _design_part(text: str) -> str:
    return text[text.index("[[measures]]"):]


# ---- the form saves a design, and the grid follows ----------------------------------------

def test_a_design_saved_by_the_form_is_stored_and_the_grid_shows_it(client, researcher, session):
    page = DesignPage(client)
    assert page.value("Measure 1 key") == "offences"
    page.press("add-measures")
    page.fill("Measure 2 key", "arrests")
    page.fill("Measure 2 name", "Arrests made")
    page.fill("Measure 2 rate per", "0")
    page.fill("Breakdown 1 categories", page.value("Breakdown 1 categories") + "\nTikTok")
    page.fill("Breakdown 1 overlapping", True)
    page.fill("Suppression threshold", "5")
    assert page.press().status_code == 302
    stored = _stored_toml(session)
    assert '[[measures]]\nkey = "arrests"\nlabel = "Arrests made"\nunit = "arrests"\nrate_per = 0\n' \
        in stored
    platform = tomllib.loads(stored)["dimensions"][0]
    assert platform["categories"][-2:] == ["Other", "TikTok"] and platform["overlapping"] is True
    assert stored.startswith("suppression_threshold = 5\n")
    assert "Saved the data design" in client.get(URL).get_data(as_text=True)
    grid = client.get("/campaigns/grooming-2019/requests/west-mercia/figures").get_data(as_text=True)
    assert "Arrests made" in grid and "TikTok" in grid


def test_the_form_shows_a_stored_design_and_its_toml_as_the_page_always_wrote_it(
        client, session):
    make_campaign(session, GROOMING)
    sign_in(client, make_user(session).email)
    page = DesignPage(client)
    assert page.fields["design"].lstrip("\n") == _stored_toml(session).lstrip("\n")
    assert page.value("Period 2 key") == "2018-19" and page.value("Period 2 name") == "2018/19"
    assert page.value("Breakdown 1 overlapping") == "y"
    assert page.value("Category group 3 categories").splitlines() == ["0-5", "6-8", "9-11"]
    assert page.value("Period group 1 periods").splitlines() == ["2017-18", "2018-19"]
    assert 'id="design-toml" open' not in page.page  # the TOML is "advanced": folded away


# ---- TOML and form round trip -------------------------------------------------------------

def test_the_grooming_design_round_trips_between_toml_and_form():
    data = design_service.parse_design_text(_design_part(GROOMING))
    rows = design_form.rows_of_text(_design_part(GROOMING))
    assert design_form.parse_rows(rows) == data
    text = design_form.design_text(design_form.data_of(rows)[0])
    assert design_service.parse_design_text(text) == data
    assert design_form.rows_of_text(text) == rows


def test_toml_typed_in_fills_the_form_and_saving_the_form_stores_it(client, researcher, session):
    page = DesignPage(client)
    page.fields["design"] = _design_part(GROOMING)
    assert page.press("toml-to-form").status_code == 200
    assert page.value("Period 1 key") == "2017-18" and page.value("Breakdown 2 name") == "Victim age"
    assert page.press().status_code == 302
    assert _stored_toml(session) == design_service.design_toml(
        make_campaign_like(session, GROOMING))


def make_campaign_like(session, text: str) -> Campaign:
    """The same design on another campaign, made from the file, to compare with."""
    return make_campaign(session, text.replace('slug = "grooming-2019"', 'slug = "copy"'))


def test_changed_toml_is_what_is_saved(client, researcher, session):
    page = DesignPage(client)
    page.fields["design"] = page.fields["design"].replace(METHOD, 'label = "Discord and the rest"')
    assert page.press().status_code == 302
    assert tomllib.loads(_stored_toml(session))["dimensions"][0]["label"] == "Discord and the rest"


def test_changing_both_form_and_toml_saves_nothing_and_keeps_both(client, researcher, session):
    before = _stored_toml(session)
    page = DesignPage(client)
    page.fields["design"] = page.fields["design"].replace(METHOD, 'label = "Discord and the rest"')
    page.fill("Measure 1 name", "Offences recorded")
    response = page.press()
    assert response.status_code == 400
    assert "you changed both the form and the TOML" in page.page
    assert "Discord" in page.fields["design"] and page.value("Measure 1 name") == "Offences recorded"
    assert _stored_toml(session) == before
    page.press("form-to-toml")  # keep the form's
    assert "Discord" not in page.fields["design"]
    assert page.press().status_code == 302
    assert 'label = "Offences recorded"' in _stored_toml(session)


# ---- rows added and removed, nothing typed lost --------------------------------------------

def test_adding_and_removing_rows_keeps_what_was_typed(client, researcher, session):
    before = _stored_toml(session)
    page = DesignPage(client)
    page.fill("Measure 1 name", "Offences (typed, not saved)")
    page.press("add-periods")
    assert page.value("Period 2 key") == ""
    assert page.value("Measure 1 name") == "Offences (typed, not saved)"
    page.fill("Period 2 key", "2019-20")
    page.fill("Period 2 name", "2019/20")
    page.press("add-periods")
    page.fill("Period 3 key", "2020-21")
    page.press("remove-periods-2")
    assert page.response.status_code == 200
    assert page.value("Period 2 key") == "2020-21"
    assert page.value("Period 1 key") == "2018-19"
    assert "Period 3 key" not in page.labels
    assert page.value("Measure 1 name") == "Offences (typed, not saved)"
    assert 'label = "Offences (typed, not saved)"' in page.fields["design"]  # the TOML follows
    page.press("remove-groups-1")
    assert "Category group 1 key" not in page.labels
    assert _stored_toml(session) == before  # nothing is saved until Save


# ---- period shortcuts ----------------------------------------------------------------------

def test_financial_years_fill_the_periods_as_the_designs_write_them(client, researcher):
    page = DesignPage(client)
    page.fill("First financial year", "2017/18")
    page.fill("Last financial year", "2019/20")
    page.press("financial-years")
    assert [(page.value(f"Period {n} key"), page.value(f"Period {n} name"),
             page.value(f"Period {n} start"), page.value(f"Period {n} end")) for n in (1, 2, 3)] == [
        ("2017-18", "2017/18", "2017-04-01", "2018-03-31"),
        ("2018-19", "2018/19", "2018-04-01", "2019-03-31"),
        ("2019-20", "2019/20", "2019-04-01", "2020-03-31")]
    assert "Period 4 key" not in page.labels
    assert page.press().status_code == 302


def test_calendar_quarters_fill_the_periods(client, researcher):
    page = DesignPage(client)
    page.fill("First quarter", "2023 Q4")
    page.fill("Last quarter", "2024 Q2")
    page.press("quarters")
    assert [(page.value(f"Period {n} key"), page.value(f"Period {n} name"),
             page.value(f"Period {n} start"), page.value(f"Period {n} end")) for n in (1, 2, 3)] == [
        ("2023-q4", "Q4 2023", "2023-10-01", "2023-12-31"),
        ("2024-q1", "Q1 2024", "2024-01-01", "2024-03-31"),
        ("2024-q2", "Q2 2024", "2024-04-01", "2024-06-30")]


def test_a_shortcut_typed_wrong_says_so_and_keeps_the_periods(client, researcher):
    page = DesignPage(client)
    page.fill("First financial year", "2019/20")
    page.fill("Last financial year", "2017/18")
    response = page.press("financial-years")
    assert response.status_code == 400
    assert "Last financial year: comes before the first" in page.page
    assert page.value("Period 1 key") == "2018-19"


def test_period_shortcuts_written_in_other_ways():
    assert [p.key for p in financial_years("2017-18", "FY2018/19")] == ["2017-18", "2018-19"]
    assert [p.label for p in calendar_quarters("Q1 2024", "2024-q1")] == ["Q1 2024"]
    with pytest.raises(Invalid, match="second year should be 18"):
        financial_years("2017/19", "2018/19")
    with pytest.raises(Invalid, match="quarter written like"):
        calendar_quarters("2024 Q5", "2024 Q1")


# ---- a bad row names its row, and nothing is saved -----------------------------------------

def test_a_bad_row_is_named_and_nothing_is_saved(client, researcher, session):
    before = _stored_toml(session)
    page = DesignPage(client)
    page.press("add-periods")
    page.fill("Period 2 key", "2019-20")
    page.fill("Period 2 name", "2019/20")
    page.fill("Period 2 start", "2019-04-01")
    page.fill("Period 2 end", "end of March 2020")
    page.press("add-measures")
    page.press("add-measures")  # a blank row is left out, and not counted against the next
    page.fill("Measure 3 key", "Arrests")
    page.fill("Measure 3 name", "Arrests")
    response = page.press()
    assert response.status_code == 400
    summary = html.unescape(page.page)
    assert "Period 2 end: must be a date written like 2018-04-01" in summary
    assert "Measure 3 key: 'Arrests' must be lower-case letters" in summary
    assert re.search(r'<a href="#periods-1-end">Period 2 end: ', page.page)
    assert page.value("Period 2 end") == "end of March 2020"  # what was typed stays
    assert page.value("Measure 3 key") == "Arrests"
    assert _stored_toml(session) == before


def test_a_design_with_no_measure_left_says_so(client, researcher, session):
    before = _stored_toml(session)
    page = DesignPage(client)
    page.press("remove-measures-1")
    page.fill("Period 1 start", "01/04/2018")  # a date as people in the UK type it is fine
    assert page.press().status_code == 400
    assert "Measures: at least one measure is needed" in page.page
    assert "Period 1 start" not in html.unescape(page.page).split("There is a problem")[1][:400]
    assert _stored_toml(session) == before


# ---- a new campaign starts from a design, never from nothing --------------------------------

def _new_campaign(session, slug: str = "knife-crime") -> None:
    create_campaign(session, TEST_ACTOR, title="Knife crime, 2023", slug=slug,
                    request_text=REQUEST_TEXT, authority_keys=["E23000016"])
    session.commit()


def test_a_new_campaign_starts_from_the_last_campaigns_design(client, researcher, session):
    make_campaign(session, GROOMING.replace('slug = "grooming-2019"', 'slug = "grooming-later"')
                  .replace('title = "Sexual', 'title = "Later: sexual'))
    _new_campaign(session)
    page = DesignPage(client, "/campaigns/knife-crime/design")
    assert page.response.status_code == 200
    assert "Started from the design of Later: sexual communication with a child" in page.page
    assert page.value("Period 1 key") == "2017-18"  # grooming-later's, not grooming-2019's
    assert page.value("Category group 3 name") == "Aged 11 or younger"
    session.expire_all()
    knife = session.scalar(select(Campaign).where(Campaign.slug == "knife-crime"))
    assert not knife.measures  # nothing saved until the researcher saves
    page.fill("Measure 1 key", "knife-offences")
    page.fill("Measure 1 name", "Knife offences recorded")
    page.fill("Measure 1 unit", "offences")
    assert page.press().status_code == 302
    assert 'key = "knife-offences"' in _stored_toml(session, "knife-crime")
    assert "Started from" not in client.get("/campaigns/knife-crime/design").get_data(as_text=True)


def test_with_no_design_anywhere_a_new_campaign_starts_from_the_example(client, session):
    load_forces(session)
    _new_campaign(session)
    sign_in(client, make_user(session).email)
    page = DesignPage(client, "/campaigns/knife-crime/design")
    assert "Started from the example design" in page.page
    assert page.value("Measure 1 key") == "offences"
    assert page.value("Breakdown 1 name") == "Communication method"
    assert 'id="design-toml" open' in page.page  # a campaign file's design can be pasted


def test_a_campaign_hidden_from_the_user_is_not_offered_as_a_start(session):
    load_forces(session)
    make_campaign(session, EXAMPLE_DESIGN)
    _new_campaign(session)
    knife = session.scalar(select(Campaign).where(Campaign.slug == "knife-crime"))
    _data, source = design_form.starting_design(session, knife, Campaign.slug != "grooming-2019")
    assert source is None
    _data, source = design_form.starting_design(session, knife)
    assert source == "Sexual communication with a child, 2017/18 and 2018/19"
