"""Response templates: making one per request, and reading filled ones back.

Reading is two steps: a preview (what would be new, changed, unchanged, and which changes would
overwrite a figure already checked), then the import, on confirmation. Every problem names the
file, sheet and cell; any problem in any file and nothing is imported. The imported file is kept
(content-addressed) as the figures' source.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from foitrack.domain.design import CampaignDesign
from foitrack.domain.figure_values import NotAFigure, parse
from foitrack.errors import Invalid, Problem
from foitrack.exporters import response_template as layout
from foitrack.models import Campaign, Request, StoredFile, User
from foitrack.services import audit
from foitrack.services.figures import DesignIndex, Entry, SaveReport, figures_of, save_figures
from foitrack.services.locks import hold_requests
from foitrack.services.requests import campaign_requests
from foitrack.storage import FileStore, safe_filename

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 20 * 1024 * 1024
# What an XLSX may expand to once unzipped: far above any real template or tracker, far below
# what a zip bomb (a few hundred KB that unzip to gigabytes) would make openpyxl hold in memory.
MAX_EXPANDED_BYTES = 200 * 1024 * 1024


# The start of a document type declaration, where XML defines entities, as UTF-8 and as UTF-16
# text. No part of a workbook saved by Excel, LibreOffice or openpyxl has one (Office Open XML
# packages may not declare DTDs), and nested entity definitions are the "billion laughs" that
# expand a few KB into gigabytes; an external entity would read a file on the server.
_DTD_MARKS = tuple(mark.encode(codec) for mark in ("<!DOCTYPE", "<!ENTITY")
                   for codec in ("utf-8", "utf-16-le", "utf-16-be"))
_LONGEST_MARK = max(len(mark) for mark in _DTD_MARKS)
ENTITIES_REFUSED = ("declares XML entities (a DOCTYPE in {part}), which no spreadsheet program "
                    "writes; it is not a workbook foitrack will open")


def unsafe_workbook(data: bytes) -> str | None:
    """Why a workbook may not be opened (it unzips to too much, or one of its parts declares
    XML entities), or None; read from the zip before openpyxl parses anything, the parts
    streamed a piece at a time. A file that is not a zip is left to openpyxl."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(item.file_size for item in archive.infolist())
            if expanded > MAX_EXPANDED_BYTES:
                return (f"expands to more than {MAX_EXPANDED_BYTES // 2**20} MB when unzipped "
                        f"({expanded // 2**20} MB); it is not a workbook foitrack will open")
            for item in archive.infolist():
                if not item.is_dir() and _declares_entities(archive, item):
                    return ENTITIES_REFUSED.format(part=item.filename)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            OSError, ValueError, EOFError):
        return None  # openpyxl says it is not a workbook
    return None


def _declares_entities(archive: zipfile.ZipFile, item: zipfile.ZipInfo) -> bool:
    """Whether a zip member holds a document type or entity declaration anywhere (not only
    first: whitespace and comments may come before one)."""
    tail = b""
    with archive.open(item) as member:
        while piece := member.read(1 << 20):
            window = tail + piece
            if any(mark in window for mark in _DTD_MARKS):
                return True
            tail = window[-_LONGEST_MARK:]
    return False


NOT_A_WORKBOOK = "is not an XLSX workbook (save it from Excel as .xlsx)"
DAMAGED = "could not be read as a workbook: it may be damaged; save it again from Excel as .xlsx"


def unreadable_workbook(error: BaseException, otherwise: str = NOT_A_WORKBOOK) -> str:
    """What to say of a workbook openpyxl could not open or read: entities refused by
    defusedxml (the second guard, should one get past the scan above), or ``otherwise``."""
    from defusedxml import DefusedXmlException

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return ENTITIES_REFUSED.format(part="one of its parts")
        seen = seen.__cause__ or seen.__context__
    return otherwise


def template_info(campaign: Campaign, request: Request,
                  design: CampaignDesign | None = None) -> layout.TemplateInfo:
    """What a request's response template holds: a row per cell, in the design's order."""
    design = design if design is not None else CampaignDesign.of(campaign)
    rows = [layout.TemplateRow(cell.measure.key, cell.measure.label, cell.period.key,
                               cell.period.label,
                               cell.breakdown.key if cell.breakdown else None,
                               cell.breakdown.label if cell.breakdown else None,
                               cell.category.label if cell.category else None)
            for cell in design.cells()]
    return layout.TemplateInfo(campaign.slug, campaign.title, request.authority.slug,
                               request.authority.name, request.reference, rows)


def template_bytes(campaign: Campaign, request: Request) -> bytes:
    out = io.BytesIO()
    layout.write_template(template_info(campaign, request), out)
    return out.getvalue()


def template_filename(campaign: Campaign, request: Request) -> str:
    return f"{campaign.slug}-{request.authority.slug}.xlsx"


@dataclass
class PlannedFigure:
    authority: str
    cell: str
    measure: str
    period: str
    category: str | None
    old: str | None
    new: str
    status: str  # "new", "changed", "unchanged", "conflict" (changes a checked figure)
    checked_by: str | None = None


@dataclass
class TemplateFile:
    filename: str
    data: bytes
    request: Request
    entries: list[Entry]


@dataclass
class Plan:
    files: list[TemplateFile] = field(default_factory=list)
    figures: list[PlannedFigure] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for figure in self.figures if figure.status == status)

    def summary(self) -> str:
        return (f"{len(self.files)} {'file' if len(self.files) == 1 else 'files'}: "
                f"{self.count('new')} new, {self.count('changed')} changed, "
                f"{self.count('unchanged')} unchanged, {self.count('conflict')} changing a "
                "checked figure")


def _cell_value(value: Any, where: str, threshold: int | None) -> tuple[str | None, Problem | None]:
    """A cell as figure text, or a problem naming the cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool):
        return None, Problem(f"{str(value).upper()} is not a figure", where)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        # A date typed where a count belongs (Excel turns "1-4" into 1 April, for one).
        return None, Problem(f"a date or time ({value.isoformat()}) is not a figure; if it "
                             "was a range such as 1-4, format the cell as text", where)
    if isinstance(value, float):
        if not value.is_integer():
            return None, Problem(f"{value:g} is not a whole number", where)
        value = int(value)
    text = str(value)
    try:
        parse(text, threshold)
    except NotAFigure as error:
        return None, Problem(str(error), where)
    return text, None


def read_template(campaign: Campaign, requests: Sequence[Request], filename: str,
                  data: bytes) -> tuple[TemplateFile | None, list[Problem]]:
    """Read one filled template: the request it answers and its entries, or the problems."""
    name = safe_filename(filename, "upload.xlsx")
    if refused := _refused_file(name, data):
        return None, [refused]
    opened = _read_sheet(campaign, requests, name, data)
    if isinstance(opened, Problem):
        return None, [opened]
    request, rows, count = opened
    if moved := _moved_header(name, rows):
        return None, [moved]
    entries, problems = _entries(campaign, name, rows, count)
    if problems:
        return None, problems
    return TemplateFile(name, data, request, entries), []


def _refused_file(name: str, data: bytes) -> Problem | None:
    """Why a file is not even opened: empty, too large, or unsafe to unzip."""
    if not data:
        return Problem("the file is empty", name)
    if len(data) > MAX_BYTES:
        return Problem(f"the file is larger than {MAX_BYTES // 2**20} MB", name)
    if reason := unsafe_workbook(data):
        return Problem(reason, name)
    return None


def _read_sheet(campaign: Campaign, requests: Sequence[Request], name: str, data: bytes
                ) -> tuple[Request, list[tuple[Any, ...]], int] | Problem:
    """The request a template answers, its sheet's rows from the header on and how many rows
    the template has; or why it is not this campaign's template."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl, zipfile and the XML parser raise many kinds
        return Problem(unreadable_workbook(error), name)
    try:
        if layout.META_SHEET not in book.sheetnames or layout.SHEET not in book.sheetnames:
            return Problem(
                f"is not a foitrack response template: it needs the sheets "
                f"'{layout.SHEET}' and '{layout.META_SHEET}' (it has {', '.join(book.sheetnames)})",
                name)
        meta = {str(row[0]): row[1] for row in book[layout.META_SHEET].iter_rows(
            min_row=1, max_row=10, max_col=2, values_only=True) if row and row[0]}
        found = _answered_request(campaign, requests, name, meta)
        if isinstance(found, Problem):
            return found
        sheet = book[layout.SHEET]
        # The layout is the template's own, not whatever the file now claims.
        header_row = layout.HEADER_ROW
        count = len(template_info(campaign, found).rows)
        rows = list(sheet.iter_rows(min_row=header_row, max_row=header_row + count + 50,
                                    max_col=len(layout.COLUMNS), values_only=True))
    except Exception as error:  # noqa: BLE001 - a damaged workbook fails in many ways in openpyxl
        return Problem(unreadable_workbook(error, DAMAGED), name)
    finally:
        book.close()
    return found, rows, count


def _answered_request(campaign: Campaign, requests: Sequence[Request], name: str,
                      meta: dict[str, Any]) -> Request | Problem:
    """The request the template's meta sheet names, if it is this campaign's, of this layout."""
    if meta.get("layout") != layout.LAYOUT:
        return Problem("was made by another version of the template; download a fresh one",
                       f"{name} {layout.META_SHEET}!B1")
    if meta.get("campaign") != campaign.slug:
        return Problem(f"is the template of campaign {meta.get('campaign')!r}, not "
                       f"{campaign.slug!r}", f"{name} {layout.META_SHEET}!B2")
    request = next((r for r in requests if r.authority.slug == meta.get("authority")), None)
    if request is None:
        return Problem(f"names the authority {meta.get('authority')!r}, which is not "
                       "in this campaign", f"{name} {layout.META_SHEET}!B3")
    return request


def _moved_header(name: str, rows: list[tuple[Any, ...]]) -> Problem | None:
    """The first header cell that is not the template's: rows or columns were moved."""
    header = list(rows[0]) if rows else []
    for index, expected in enumerate(layout.COLUMNS):
        found = header[index] if index < len(header) else None
        if found != expected:
            column = "ABCDEFGHI"[index]
            return Problem(
                f"should read {expected!r} but reads {found!r}: the rows or columns were moved; "
                "please use a fresh template", f"{name} {layout.SHEET}!{column}{layout.HEADER_ROW}")
    return None


def _entries(campaign: Campaign, name: str, rows: list[tuple[Any, ...]], count: int
             ) -> tuple[list[Entry], list[Problem]]:
    """The template's filled cells as entries, each checked against the design; the problems
    name the cell (and rows found below the template's)."""
    index = DesignIndex.of(campaign)
    entries: list[Entry] = []
    problems: list[Problem] = []
    for offset, row in enumerate(rows[1:], start=1):
        number = layout.HEADER_ROW + offset
        where = f"{name} {layout.SHEET}!{layout.VALUE_COLUMN}{number}"
        if offset > count:
            if any(cell not in (None, "") for cell in row):
                problems.append(Problem("is below the template's rows: rows were added or moved",
                                        f"{name} {layout.SHEET}!A{number}"))
            continue
        text, problem = _cell_value(row[4], where, campaign.suppression_threshold)
        if problem:
            problems.append(problem)
            continue
        if text is None:
            continue
        entry = _entry(row, text, where)
        target, found = index.resolve(entry)
        problems += [Problem(p.message, where) for p in found]
        if target is not None:
            entries.append(entry)
    return entries, problems


def _entry(row: tuple[Any, ...], text: str, where: str) -> Entry:
    """A filled template row as an entry: the keys from the hidden columns, "Total" as no
    category."""
    category = None if row[3] == "Total" else (str(row[3]) if row[3] is not None else None)
    return Entry(str(row[6] or ""), str(row[7] or ""), str(row[8]) if row[8] else None,
                 category, text, caveat=str(row[5]).strip() if row[5] else None,
                 source=where, cell=where)


def preview(session: Session, campaign: Campaign, files: Sequence[tuple[str, bytes]]) -> Plan:
    """What importing these filled templates would do. :raises Invalid: naming file and cell."""
    requests = campaign_requests(session, campaign)
    plan, problems = Plan(), []
    seen: dict[int, str] = {}
    for filename, data in files:
        found, file_problems = read_template(campaign, requests, filename, data)
        problems += file_problems
        if found is None:
            continue
        if found.request.id in seen:
            problems.append(Problem(f"answers for {found.request.authority.name} as "
                                    f"{seen[found.request.id]} does", found.filename))
            continue
        seen[found.request.id] = found.filename
        plan.files.append(found)
    if problems:
        raise Invalid(problems)
    index = DesignIndex.of(campaign)
    for item in plan.files:
        existing = figures_of(session, item.request)
        for entry in item.entries:
            target, _ = index.resolve(entry)
            assert target is not None
            measure, period, category = target
            figure = existing.get((measure.id, period.id, category.id if category else None))
            new = parse(entry.value, campaign.suppression_threshold)
            if figure is None:
                status, old = "new", None
            elif figure.figure_value == new and figure.caveat == entry.caveat:
                status, old = "unchanged", figure.figure_value.text
            else:
                status = "conflict" if figure.checked_by else "changed"
                old = figure.figure_value.text
            plan.figures.append(PlannedFigure(
                item.request.authority.name, entry.cell or "", measure.key, period.key,
                category.label if category else None, old, new.text, status,
                figure.checked_by if figure is not None else None))
    return plan


def apply(session: Session, actor: audit.Actor, plan: Plan, store: FileStore,
          user: User | None = None) -> SaveReport:
    """Import a previewed plan: keep each file, then save its figures (in the caller's
    transaction, so all files go in or none)."""
    # Its requests held by id before save_figures reads their figures (locks): a grid save of
    # one of them meanwhile waits, and is then merged with what the import wrote.
    hold_requests(session, [item.request for item in plan.files])
    session.flush()
    session.expire_all()  # the figures as they are now, not as the preview read them
    report = SaveReport()
    for item in plan.files:
        digest = store.put(item.data)
        stored = session.scalar(select(StoredFile).where(StoredFile.sha256 == digest,
                                                         StoredFile.filename == item.filename))
        if stored is None:  # the same file imported again is kept once
            stored = StoredFile(sha256=digest, filename=item.filename, content_type=XLSX_TYPE,
                                size=len(item.data), created_by=actor.label)
            session.add(stored)
            session.flush()
            audit.record(session, actor, "stored_file", stored.id, "create", None,
                         {"filename": item.filename, "sha256": digest,
                          "request_id": item.request.id})
        part = save_figures(session, actor, item.request, item.entries, user=user,
                            source_file=stored)
        report.add(part)
    return report
