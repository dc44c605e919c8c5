"""Proposals: the figures read from one file, each with where it was written and how sure the
reading is; and the cells not read, each with why. Nothing here writes a figure.

:func:`extract` picks the reader by the file's name, reads the tables and the running text
against the design, and keeps one proposal per cell: when a file gives one cell two different
values (a table and a sentence that disagree), neither is proposed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import PurePath

from foitrack.domain.design import CampaignDesign
from foitrack.domain.extraction.cells import Document, Location, Table
from foitrack.domain.extraction.matching import Key, Labels
from foitrack.domain.extraction.sentences import SENTENCE_CONFIDENCE, read_passage
from foitrack.domain.extraction.tables import Carried, read_table
from foitrack.domain.figure_values import FigureValue

EXTRACTOR = "foitrack.extraction"
EXTRACTOR_VERSION = "1"
READABLE = (".xlsx", ".xlsm", ".xls", ".csv", ".docx", ".pdf")


@dataclass(frozen=True)
class Proposal:
    measure: str
    period: str
    dimension: str | None  # None with category None: the total
    category: str | None
    value: str  # as written in the file
    parsed: FigureValue
    file: str
    sha256: str
    location: Location
    confidence: float
    layout: str  # "table" or "sentence"
    caveat: str | None = None  # a footnote marker the value carried
    authority: str | None = None
    extractor: str = EXTRACTOR
    extractor_version: str = EXTRACTOR_VERSION

    @property
    def parsed_kind(self) -> str:
        return self.parsed.kind.value

    @property
    def key(self) -> tuple[str, str, str | None, str | None]:
        """As DesignCell.key: (measure, period, dimension, category)."""
        return (self.measure, self.period, self.dimension, self.category)


@dataclass(frozen=True)
class Skipped:
    file: str
    location: str
    text: str
    reason: str


@dataclass
class Extraction:
    proposals: list[Proposal] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files that could not be read, and why


def read_document(filename: str, data: bytes) -> Document:
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xls" and not data.startswith(b"PK"):
        return Document(problem="is an old Excel (.xls) file; save it as .xlsx to read it")
    if suffix in (".xlsx", ".xlsm", ".xls"):  # an .xls that is a zip is an XLSX misnamed
        from foitrack.domain.extraction.sheets import read_xlsx
        return read_xlsx(data)
    if suffix == ".csv":
        from foitrack.domain.extraction.sheets import read_csv
        return read_csv(data)
    if suffix == ".docx":
        from foitrack.domain.extraction.word import read_docx
        return read_docx(data)
    if suffix == ".pdf":
        from foitrack.domain.extraction.pdf import read_pdf
        return read_pdf(data)
    return Document(problem=f"is not a kind of file figures are read from ({', '.join(READABLE)})")


def extract(filename: str, data: bytes, design: CampaignDesign, authority: str | None = None,
            into: Extraction | None = None) -> Extraction:
    """The figures ``data`` (the file called ``filename``) proposes for ``design``'s cells."""
    result = into if into is not None else Extraction()
    name = PurePath(filename).name
    sha256 = hashlib.sha256(data).hexdigest()
    document = read_document(name, data)
    if document.problem:
        result.problems.append(f"{name} {document.problem}")
        return result
    labels = Labels(design)
    threshold = design.suppression_threshold
    candidates: list[Proposal] = []

    def propose(key: Key, value: object, location: Location, confidence: float, layout: str) -> None:
        from foitrack.domain.extraction.matching import Value
        assert isinstance(value, Value)
        candidates.append(Proposal(
            key.measure or "", key.period or "", None if key.total else key.dimension,
            None if key.total else key.category, value.written, value.figure, name, sha256,
            location, confidence, layout, value.caveat, authority))

    carried: Carried | None = None
    previous: Table | None = None
    for table in document.tables:
        # A PDF table that runs onto the next page goes on there without its header.
        continues = (previous is not None and table.kind == "pdf" and table.number == 1
                     and previous.page is not None and table.page == previous.page + 1)
        found, skips, carried = read_table(table, labels, threshold,
                                           carried if continues else None)
        previous = table
        for item in found:
            propose(item.key, item.value, item.location, item.confidence, "table")
        result.skipped += [Skipped(name, s.location.text, s.text, s.reason) for s in skips]
    for passage in document.passages:
        figures, unread = read_passage(passage, labels, threshold)
        for figure in figures:
            propose(figure.key, figure.value, figure.location, SENTENCE_CONFIDENCE, "sentence")
        result.skipped += [Skipped(name, loc.text, text, reason) for loc, text, reason in unread]
    result.proposals += _one_per_cell(candidates, result.skipped)
    return result


def _one_per_cell(candidates: list[Proposal], skipped: list[Skipped]) -> list[Proposal]:
    by_key: dict[tuple[str, str, str | None, str | None], list[Proposal]] = {}
    for proposal in candidates:
        by_key.setdefault(proposal.key, []).append(proposal)
    kept = []  # in the order the cells were first read (dicts keep insertion order)
    for group in by_key.values():
        if len({p.parsed for p in group}) == 1:
            kept.append(max(group, key=lambda p: p.confidence))
            continue
        said = "; ".join(f"{p.value!r} at {p.location.text}" for p in group)
        skipped += [Skipped(p.file, p.location.text, p.value,
                            f"the file gives this cell different values: {said}") for p in group]
    return kept
