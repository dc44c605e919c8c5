"""The data design page's form: a row per measure, period, breakdown and group, the release
thresholds, the period shortcuts, and the design as TOML for those who prefer it.

Every setting is taken as typed (text fields, so nothing typed is lost when the page is shown
again); services.design_form turns the rows into a design and parse_design checks it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, StringField, TextAreaField

from foitrack.domain.design import Design
from foitrack.domain.period_shortcuts import calendar_quarters, financial_years
from foitrack.errors import Invalid, Problem
from foitrack.services.data_design import parse_design_text
from foitrack.services.design_form import (
    PLACE,
    SECTIONS,
    SETTINGS,
    blank_row,
    data_of,
    design_text,
    digest,
    parse_rows,
    period_rows,
    rows_of_text,
)
from foitrack.services.release import DEFAULT_MIN_BASE, DEFAULT_MIN_COVERAGE

EXAMPLE_NAME = ("the example design (sexual communication with a child, 2017/18 and 2018/19): "
                "change it to what your campaign asks")
BOTH_CHANGED = ("Nothing was saved: you changed both the form and the TOML. Press “Fill the "
                "form from this TOML” to keep the TOML, or “Rewrite this TOML from the form” to "
                "keep the form, then save.")


class MeasureRow(Form):
    key = StringField("key")
    label = StringField("name")
    unit = StringField("unit")
    rate_per = StringField("rate per")
    rate_base = StringField("rate base")


class PeriodRow(Form):
    key = StringField("key")
    label = StringField("name")
    start = StringField("start")
    end = StringField("end")


class PeriodGroupRow(Form):
    key = StringField("key")
    label = StringField("name")
    periods = TextAreaField("periods")


class DimensionRow(Form):
    key = StringField("key")
    label = StringField("name")
    categories = TextAreaField("categories")
    not_recorded = StringField("not-recorded category")
    overlapping = BooleanField("overlapping")
    unit = StringField("unit")


class GroupRow(Form):
    key = StringField("key")
    label = StringField("name")
    dimension = StringField("breakdown")
    categories = TextAreaField("categories")


# What a row of each table is called on the page, and each setting of it: "Measure 1 name".
ROW_NOUNS = {"measures": "Measure", "periods": "Period", "period_groups": "Period group",
             "dimensions": "Breakdown", "groups": "Category group"}
ADD_LABELS = {"measures": "Add another measure", "periods": "Add another period",
              "period_groups": "Add another period group",
              "dimensions": "Add another breakdown", "groups": "Add another category group"}
SETTING_NAMES = {"key": "key", "label": "name", "unit": "unit", "rate_per": "rate per",
                 "rate_base": "rate base", "start": "start", "end": "end", "periods": "periods",
                 "categories": "categories", "not_recorded": "not-recorded category",
                 "overlapping": "overlapping", "dimension": "breakdown"}
# Messages written for the TOML, said as the form's fields say them.
FORM_WORDING = {
    " (no quotes, no time)": "",
    " (no quotes)": "",
    'must be a list of names, e.g. ["A", "B"]': "must list at least one, one a line",
}


class DataDesignForm(FlaskForm):
    measures = FieldList(FormField(MeasureRow))
    periods = FieldList(FormField(PeriodRow))
    period_groups = FieldList(FormField(PeriodGroupRow))
    dimensions = FieldList(FormField(DimensionRow))
    groups = FieldList(FormField(GroupRow))
    suppression_threshold = StringField(
        "Suppression threshold",
        description='What "*" in a reply stands for: a figure below it, e.g. 5 ("*" is then 0 '
                    "to 4). Blank: the campaign has none.")
    min_coverage = StringField(
        "Least coverage for a national line",
        description="The share of the authorities asked that must give a usable figure before "
                    f"the release states a national total, e.g. 0.5 or 50%. Blank: "
                    f"{DEFAULT_MIN_COVERAGE:g}.")
    min_base = StringField(
        "Least base for a share",
        description=f"The smallest recorded total a share is stated on, e.g. 50. Blank: "
                    f"{DEFAULT_MIN_BASE}.")
    first_year = StringField("First financial year", description="e.g. 2017/18")
    last_year = StringField("Last financial year", description="e.g. 2018/19")
    first_quarter = StringField("First quarter", description="e.g. 2023 Q1")
    last_quarter = StringField("Last quarter", description="e.g. 2024 Q2")
    design = TextAreaField(
        "Data design (TOML)",
        description="The same design in the campaign file format (see the README). Saving "
                    "takes this text if you changed it, and the form above otherwise.",
    )
    # The design's version and text as the page showed them: a save over a colleague's newer
    # design is refused (409) and shows what they changed, instead of undoing it unseen.
    version = HiddenField()
    base = HiddenField()
    # Fingerprints of the TOML and the rows the page showed: which of the two was changed.
    toml_digest = HiddenField()
    rows_digest = HiddenField()


def row_label(section: str, number: int, name: str) -> str:
    """What the field of setting ``name`` in row ``number`` (from 1) of ``section`` is called."""
    return f"{ROW_NOUNS[section]} {number} {SETTING_NAMES[name]}"


def form_rows(form: DataDesignForm) -> dict[str, Any]:
    """The rows as typed, newlines as the server writes them."""
    rows: dict[str, Any] = {name: (getattr(form, name).data or "").strip() for name in SETTINGS}
    for section, names in SECTIONS.items():
        rows[section] = [
            {name: bool(entry.form[name].data) if name == "overlapping"
             else (entry.form[name].data or "").replace("\r\n", "\n").strip() for name in names}
            for entry in getattr(form, section)]
    return rows


def load_rows(form: DataDesignForm, rows: dict[str, Any]) -> None:
    """Show ``rows`` in the form, each field labelled by its row."""
    for name in SETTINGS:
        getattr(form, name).data = rows.get(name, "")
    for section in SECTIONS:
        getattr(form, section).process(None, rows.get(section, []))
    label_rows(form)


def label_rows(form: DataDesignForm) -> None:
    """Label every field by its row's place: "Measure 2 name", as screen readers and a
    problem in the summary say it."""
    for section in SECTIONS:
        for number, entry in enumerate(getattr(form, section), start=1):
            for setting in entry.form:
                setting.label.text = row_label(section, number, setting.short_name)


def _form_wording(message: str) -> str:
    for toml, form in FORM_WORDING.items():
        message = message.replace(toml, form)
    return message


def show_row_problems(form: DataDesignForm, error: Invalid) -> tuple[list[tuple[str, str]],
                                                                     list[str]]:
    """Put each problem beside its field; return the summary's links to them ((id, text))
    and the problems no field holds (a table as a whole: "at least one measure is needed")."""
    links: list[tuple[str, str]] = []
    others: list[str] = []
    for problem in error.problems:
        message = _form_wording(problem.message)
        field = _field(form, problem)
        if field is None:
            others.append(_whole_table(problem, message))
            continue
        field.errors = [*field.errors, message]
        links.append((field.id, f"{field.label.text}: {message}"))
    return links, others


def _field(form: DataDesignForm, problem: Problem) -> Any:
    place = problem.field or ""
    if place.startswith("release."):
        place = place.removeprefix("release.")
    if place in SETTINGS:
        return getattr(form, place)
    found = PLACE.fullmatch(place)
    if not found or found["section"] not in SECTIONS:
        return None
    entries = getattr(form, found["section"]).entries
    row = int(found["row"]) - 1
    if row >= len(entries) or found["name"] not in SECTIONS[found["section"]]:
        return None
    return entries[row].form[found["name"]]


def _whole_table(problem: Problem, message: str) -> str:
    section = (problem.field or "").split("[")[0]
    if section in ROW_NOUNS:
        what = ROW_NOUNS[section].lower() + "s"
        return (f"{what.capitalize()}: {message}".replace("[[" + section + "]]",
                                                          ROW_NOUNS[section].lower()))
    return str(problem)


# ---- what the page does with the form --------------------------------------------------------

@dataclass
class DesignPage:
    """What the design page shows beside the form after a post."""

    problems: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (field id, problem)
    changed: Any = None  # a DesignChanged: a colleague saved meanwhile
    started_from: str | None = None  # what a campaign without a design was given to start
    toml_open: bool = False


def toml_changed(form: DataDesignForm) -> bool:
    """Whether the TOML is not what the page showed: then it, not the rows, is the design.
    A post without the page's fingerprint (a script's, an older page's) is taken as TOML."""
    return not form.toml_digest.data or digest(form.design.data or "") != form.toml_digest.data


def show_rows(form: DataDesignForm, rows: dict[str, Any], toml: str | None = None) -> None:
    """Show ``rows`` and ``toml`` (by default, the rows written as TOML), both taken as what
    the page now shows, unchanged."""
    load_rows(form, rows)
    form.design.data = design_text(data_of(rows)[0]) if toml is None else toml
    form.toml_digest.data = digest(form.design.data)
    form.rows_digest.data = digest(form_rows(form))


def read_design(form: DataDesignForm, page: DesignPage) -> Design | None:
    """The design posted, from the TOML if it was changed, else from the rows; None, with the
    problems on ``page`` and beside their fields, if it is wrong."""
    edited = toml_changed(form)
    rows = form_rows(form)
    if edited and form.rows_digest.data and digest(rows) != form.rows_digest.data:
        page.problems, page.toml_open = [BOTH_CHANGED], True
        return None
    try:
        return parse_design_text(form.design.data or "") if edited else parse_rows(rows)
    except Invalid as error:
        if edited:
            page.problems, page.toml_open = [str(p) for p in error.problems], True
        else:
            page.links, page.problems = show_row_problems(form, error)
        return None


def change_rows(form: DataDesignForm, action: str, page: DesignPage) -> None:
    """Do what a button other than Save asked: add or remove a row, fill the periods, or
    copy the TOML into the form or the form into the TOML. Nothing is saved."""
    rows = form_rows(form)
    if action == "toml-to-form":
        page.toml_open = True
        try:
            show_rows(form, rows_of_text(form.design.data or ""), toml=form.design.data)
        except Invalid as error:
            page.problems = [str(p) for p in error.problems]
        return
    if action == "form-to-toml":
        page.toml_open = True
        show_rows(form, rows)
        return
    removal = re.fullmatch(r"remove-([a-z_]+)-(\d+)", action)
    if action.startswith("add-") and action[4:] in SECTIONS:
        rows[action[4:]].append(blank_row(action[4:]))
    elif removal and removal[1] in SECTIONS and 1 <= int(removal[2]) <= len(rows[removal[1]]):
        del rows[removal[1]][int(removal[2]) - 1]
    elif action in ("financial-years", "quarters"):
        first, last = ((form.first_year, form.last_year) if action == "financial-years"
                       else (form.first_quarter, form.last_quarter))
        make = financial_years if action == "financial-years" else calendar_quarters
        try:
            rows["periods"] = period_rows(make(first.data or "", last.data or ""))
        except Invalid as error:
            for problem in error.problems:
                shortcut = first if problem.field == "first" else last
                shortcut.errors = [*shortcut.errors, problem.message]
            return
    if toml_changed(form):
        # What was typed in the TOML stays, and still counts as changed.
        page.toml_open = True
        load_rows(form, rows)
    else:
        show_rows(form, rows)
