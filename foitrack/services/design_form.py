"""The data design page's form: a design as rows of plain text, to and from the tables of a
campaign file.

The form holds what was typed, as typed ("rows"); ``data_of`` turns rows into the tables a
campaign file would hold, leaving what does not convert as text, so that parse_design (the one
check the TOML goes through too) names the problem and its row. ``rows_of`` is the way back,
so form -> tables -> form and tables -> form -> tables give the same design.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from typing import Any

import tomli_w
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from foitrack.domain.design import Design, PeriodSpec
from foitrack.errors import Invalid, Problem
from foitrack.models import Campaign, Measure
from foitrack.paths import DATA_DIR
from foitrack.services.data_design import design_dict, parse_design

EXAMPLE_DESIGN_FILE = DATA_DIR / "example-design.toml"

# Each table of the design and the settings of one row, in the order the form shows them.
SECTIONS: dict[str, tuple[str, ...]] = {
    "measures": ("key", "label", "unit", "rate_per", "rate_base"),
    "periods": ("key", "label", "start", "end"),
    "period_groups": ("key", "label", "periods"),
    "dimensions": ("key", "label", "categories", "not_recorded", "overlapping", "unit"),
    "groups": ("key", "label", "dimension", "categories"),
}
LISTS = {"periods", "categories"}  # settings that are lists, one item a line in the form
WHOLE_NUMBERS = {"rate_per", "suppression_threshold", "min_base"}
SETTINGS = ("suppression_threshold", "min_coverage", "min_base")  # min_*: the [release] table
PLACE = re.compile(r"(?P<section>[a-z_]+)\[(?P<row>\d+)\]\.(?P<name>[a-z_]+)")


def blank_row(section: str) -> dict[str, Any]:
    """A new, empty row of ``section``."""
    return {name: False if name == "overlapping" else "" for name in SECTIONS[section]}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_text(item) for item in value)
    if isinstance(value, dict) and "label" in value:
        # A category with aliases: the form shows its label; the aliases are kept as stored
        # (they are set in the campaign file; saving the form does not clear them).
        return _text(value["label"])
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def rows_of(data: dict[str, Any]) -> dict[str, Any]:
    """A design's tables (a parsed campaign file, or design_dict) as the form's rows."""
    found = data.get("release")
    release: dict[str, Any] = found if isinstance(found, dict) else {}
    rows: dict[str, Any] = {
        "suppression_threshold": _text(data.get("suppression_threshold")),
        "min_coverage": _text(release.get("min_coverage")),
        "min_base": _text(release.get("min_base")),
    }
    for section, names in SECTIONS.items():
        tables = data.get(section)
        rows[section] = [
            {name: (table.get(name) is True) if name == "overlapping" else _text(table.get(name))
             for name in names}
            for table in (tables if isinstance(tables, list) else []) if isinstance(table, dict)]
    return rows


def is_blank(row: dict[str, Any]) -> bool:
    """A row nothing was typed in: left out of the design, not an error."""
    return not any(value.strip() if isinstance(value, str) else value for value in row.values())


def _value(name: str, text: str) -> Any:
    """A setting typed in the form as the campaign file holds it; text it cannot be is left as
    text, for parse_design to say what is wrong with it."""
    text = text.strip()
    if name in LISTS:
        return [line.strip() for line in text.splitlines() if line.strip()]
    plain = text.replace(",", "").replace("_", "")
    if name in WHOLE_NUMBERS and re.fullmatch(r"-?\d+", plain):
        return int(plain)
    if name == "min_coverage":
        try:
            return float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            return text
    if name in ("start", "end"):
        # ISO, as the file writes dates, or day/month/year as people in the UK type them.
        for read in (dt.date.fromisoformat,
                     lambda t: dt.datetime.strptime(t, "%d/%m/%Y").date()):
            try:
                return read(text)
            except ValueError:
                pass
        return text
    return text


def data_of(rows: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The campaign file's tables for the form's rows, and for each table the form's row (from
    0) each of its tables came from: blank rows are left out, so the numbers can differ."""
    data: dict[str, Any] = {}
    if rows.get("suppression_threshold", "").strip():
        data["suppression_threshold"] = _value("suppression_threshold",
                                               rows["suppression_threshold"])
    origin: dict[str, list[int]] = {}
    for section, names in SECTIONS.items():
        tables, origin[section] = [], []
        for index, row in enumerate(rows.get(section, [])):
            if is_blank(row):
                continue
            table: dict[str, Any] = {}
            for name in names:
                value = row.get(name, "")
                if name == "overlapping":
                    if value:
                        table[name] = True
                elif name in LISTS or value.strip():
                    table[name] = _value(name, value)
            tables.append(table)
            origin[section].append(index)
        if tables or section in ("measures", "periods", "dimensions"):
            data[section] = tables
    release = {name: _value(name, rows[name]) for name in ("min_coverage", "min_base")
               if rows.get(name, "").strip()}
    if release:
        data["release"] = release
    return data, origin


def parse_rows(rows: dict[str, Any]) -> Design:
    """The design the form's rows say, checked as a campaign file's design is.

    :raises Invalid: every problem, each named by its place among the rows as typed
        ("measures[2].key" is the form's second measure, blank rows counted).
    """
    data, origin = data_of(rows)
    problems: list[Problem] = []
    design = parse_design(data, problems)
    if problems:
        raise Invalid([_renumbered(problem, origin) for problem in problems])
    return design


def _renumbered(problem: Problem, origin: dict[str, list[int]]) -> Problem:
    found = PLACE.fullmatch(problem.field or "")
    if not found or found["section"] not in origin:
        return problem
    row = origin[found["section"]][int(found["row"]) - 1] + 1
    return Problem(problem.message, f"{found['section']}[{row}].{found['name']}", problem.line)


def design_text(data: dict[str, Any]) -> str:
    """A design's tables as the TOML the design page shows, laid out as services.design's
    design_toml lays out a stored design (the threshold, each [[table]], then [release])."""
    text = ""
    if "suppression_threshold" in data:
        text += tomli_w.dumps({"suppression_threshold": data["suppression_threshold"]})
    # Each item its own [[table]], as in the README (tomli_w would inline short ones).
    for section in SECTIONS:
        for table in data.get(section, []):
            text += f"\n[[{section}]]\n" + tomli_w.dumps(table)
    if data.get("release"):
        text += "\n[release]\n" + tomli_w.dumps(data["release"])
    return text.lstrip("\n")


def rows_of_text(text: str) -> dict[str, Any]:
    """The form's rows for a design written as TOML. :raises Invalid: if it is not TOML."""
    try:
        return rows_of(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise Invalid(f"The design is not valid TOML: {error}") from None


def period_rows(periods: list[PeriodSpec]) -> list[dict[str, Any]]:
    """Periods (from domain.period_shortcuts) as the form's period rows."""
    return [{"key": p.key, "label": p.label, "start": p.start.isoformat(),
             "end": p.end.isoformat()} for p in periods]


def digest(value: Any) -> str:
    """A short fingerprint of rows or text, to tell whether the form or the TOML was changed
    since the page showed them (newlines as browsers send them do not count)."""
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return hashlib.sha256(text.replace("\r\n", "\n").strip().encode()).hexdigest()[:32]


def starting_design(session: Session, campaign: Campaign,
                    visible: Any = None) -> tuple[dict[str, Any], str | None]:
    """What a campaign without a design starts from: the design of the newest other campaign
    that has one (among those ``visible``, a membership.visible_clause), with its title; else
    the shipped example, with None. Nothing is saved."""
    query = (select(Campaign)
             .where(Campaign.id != campaign.id,
                    exists().where(Measure.campaign_id == Campaign.id))
             .order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(1))
    if visible is not None:
        query = query.where(visible)
    source = session.scalar(query)
    if source is not None:
        return design_dict(source), source.title
    return tomllib.loads(EXAMPLE_DESIGN_FILE.read_text(encoding="utf-8")), None
