"""Test data built through the services, committed as a view or command would.

Every module that needs a user, the police forces, a campaign, replies or figures takes them
from here, so no test module imports another.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import itertools
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.workbook import Workbook
from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from foitrack.db import Base
from foitrack.models import Authority, Campaign, Request, User
from foitrack.services import requests, templates, users
from foitrack.services.audit import Actor
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.services.registry import LoadReport, load_registry

TEST_ACTOR = Actor.system("tests")
PASSWORD = "correct horse battery staple"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIGURES_HEADER = "authority,measure,period,dimension,category,value,caveat,source\n"
REQUEST_TEXT = "{{ salutation }},\n\nHow many offences did {{ authority.name }} record?"

# Exactly the example in issue 4 and the README: scripts rely on it.
EXAMPLE_DESIGN = '''
slug = "grooming-2019"
title = "Sexual communication with a child, 2017/18 and 2018/19"
authorities = "england-wales"      # a set name, or a list of authority codes
request_text = """Dear {{ authority.name }}, ..."""
[[measures]]
key = "offences"
label = "Offences of sexual communication with a child recorded"
[[periods]]
key = "2018-19"
label = "2018/19"
start = 2018-04-01
end = 2019-03-31
[[dimensions]]
key = "platform"
label = "Communication method"
categories = ["Instagram", "Facebook", "Messenger", "WhatsApp", "Snapchat", "Other"]
not_recorded = "Not recorded"      # the category left out of shares where recorded
[[groups]]
key = "facebook-owned"
label = "Facebook-owned apps"
dimension = "platform"
categories = ["Facebook", "Messenger", "Instagram", "WhatsApp"]
'''

# Two forces, three periods (one a quarter), an exclusive and an overlapping breakdown: the
# shapes the consistency checks look at.
CHECKS_DESIGN = '''
slug = "checks"
title = "Offences, two years and a quarter"
authorities = ["E23000016", "E23000033"]
request_text = """Dear {{ authority.name }}, ..."""
[[measures]]
key = "offences"
label = "Offences recorded"
[[periods]]
key = "2017-18"
label = "2017/18"
start = 2017-04-01
end = 2018-03-31
[[periods]]
key = "2018-19"
label = "2018/19"
start = 2018-04-01
end = 2019-03-31
[[periods]]
key = "q1-2019"
label = "April to June 2019"
start = 2019-04-01
end = 2019-06-30
[[dimensions]]
key = "age"
label = "Victim age"
categories = ["Under 13", "13 and over"]
not_recorded = "Not recorded"
[[dimensions]]
key = "platform"
label = "Communication method"
overlapping = true
categories = ["Instagram", "Snapchat"]
not_recorded = "Not recorded"
'''
CHECKS_TODAY = dt.date(2019, 7, 1)
MERCIA = "E23000016"  # West Mercia Police

# One force, one measure, two periods: the smallest grid two people can both edit.
TWO_DESKS_DESIGN = """
slug = "two-desks"
title = "Two desks"
authorities = ["west-mercia"]
request_text = "Please."

[[measures]]
key = "offences"
label = "Offences"

[[periods]]
key = "2023"
label = "2023"
start = 2023-01-01
end = 2023-12-31

[[periods]]
key = "2024"
label = "2024"
start = 2024-01-01
end = 2024-12-31
"""
TWO_DESKS_GRID = "/campaigns/two-desks/requests/west-mercia/figures"

_numbers = itertools.count(1)


def make_user(
    session: Session, role: str = "researcher", email: str | None = None, password: str = PASSWORD
) -> User:
    email = email or f"{role}{next(_numbers)}@example.org"
    user = users.create_user(
        session, TEST_ACTOR, email=email, name=f"Test {role}", role=role, password=password
    )
    session.commit()
    return user


# What the registry service wrote into an empty database, per dialect, and its report.
_loaded_forces: dict[str, tuple[LoadReport, list[tuple[Table, list[dict[str, Any]]]]]] = {}


def load_forces(session: Session) -> LoadReport:
    """The police forces and their sets, loaded by the registry service and committed.

    Into an empty database the service writes the same rows every time, so after its first run
    in a process those rows are copied straight in (a few milliseconds instead of 0.2-0.4 s,
    in most of the suite's tests). A database holding anything goes through the service.
    """
    dialect = session.get_bind().dialect.name
    empty = _is_empty(session)
    if empty and dialect in _loaded_forces:
        report, tables = _loaded_forces[dialect]
        for table, rows in tables:
            session.execute(table.insert(), rows)
        if dialect == "postgresql":
            for table, _rows in tables:
                if "id" in table.c and table.c.id.autoincrement is not False:
                    session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'(SELECT max(id) FROM "{table.name}"))'))
        session.commit()
        return copy.deepcopy(report)
    report = load_registry(session, TEST_ACTOR)
    session.commit()
    if empty:
        tables = [(table, [dict(row._mapping) for row in session.execute(select(table))])
                  for table in Base.metadata.sorted_tables]
        _loaded_forces[dialect] = (copy.deepcopy(report), [(t, rows) for t, rows in tables if rows])
    return report


def _is_empty(session: Session) -> bool:
    counts = [select(func.count()).select_from(table).scalar_subquery()
              for table in Base.metadata.sorted_tables]
    return not any(session.execute(select(*counts)).one())


def fixture_design(name: str) -> str:
    """The campaign file tests/fixtures/<name>.toml."""
    return (FIXTURES / f"{name}.toml").read_text()


def fixture_figures(name: str) -> bytes:
    """The figures CSV tests/fixtures/<name>.csv."""
    return (FIXTURES / f"{name}.csv").read_bytes()


def make_campaign(
    session: Session, design: str = EXAMPLE_DESIGN, figures: bytes | None = None
) -> Campaign:
    """A campaign from a campaign file, with the police forces loaded first if they are not.

    ``figures`` is a figures CSV to import into it, as `foitrack figures import` would.
    """
    if not session.scalar(select(func.count()).select_from(Authority)):
        load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, design)
    if figures is not None:
        import_csv(session, TEST_ACTOR, campaign, io.BytesIO(figures))
    session.commit()
    return campaign


def design_for(forces: list[str] | None = None, slug: str | None = None, settings: str = "") -> str:
    """EXAMPLE_DESIGN sent to ``forces`` (slugs or codes; default the 43 of England and Wales),
    under ``slug`` if given, with ``settings`` (TOML lines) among its top-level settings."""
    design = EXAMPLE_DESIGN
    listed = ('"england-wales"' if forces is None
              else "[" + ", ".join(f'"{force}"' for force in forces) + "]")
    design = design.replace('authorities = "england-wales"',
                            f"authorities = {listed}" + (f"\n{settings}" if settings else ""))
    if slug is not None:
        design = design.replace('slug = "grooming-2019"', f'slug = "{slug}"')
    return design


def make_fixture_campaign(session: Session, name: str) -> Campaign:
    """The campaign and figures in tests/fixtures/<name>.toml and .csv."""
    return make_campaign(session, fixture_design(name), fixture_figures(name))


def respond(
    session: Session, campaign_slug: str, authority: str, outcome: str = "provided",
    exemptions: str = "", today: dt.date = CHECKS_TODAY,
) -> Request:
    """A request sent on 1 April 2019 and answered on 20 April."""
    request = requests.get_request(session, campaign_slug, authority)
    requests.add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 4, 1), today=today)
    requests.add_event(session, TEST_ACTOR, request, "response", dt.date(2019, 4, 20),
                       today=today, outcome=outcome, exemptions=exemptions)
    session.commit()
    return request


def enter_figures(session: Session, campaign: Campaign, *rows, source: str = "Reply table 1"):
    """Offences figures, rows of (authority code, period, dimension, category, value)."""
    lines = "".join(f"{who},offences,{period},{dimension},{category},{value},,{source}\n"
                    for who, period, dimension, category, value in rows)
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO((FIGURES_HEADER + lines).encode()))
    session.commit()


def blank(session: Session, campaign: Campaign, authority: str = "west-mercia") -> Workbook:
    """The response template a force would be sent, opened."""
    request = requests.get_request(session, campaign.slug, authority)
    return load_workbook(io.BytesIO(templates.template_bytes(campaign, request)))


def saved(book: Workbook) -> bytes:
    """A workbook as the file a force sends back."""
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def cell_for(sheet, category: str) -> str:
    """The template's value cell for a category."""
    for row in range(13, sheet.max_row + 1):
        if sheet[f"D{row}"].value == category:
            return f"E{row}"
    raise KeyError(category)
