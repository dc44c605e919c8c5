"""Figures proposed from a request's reply files (issue 19), previewed against the figures it
has, and accepted through the same save as the grid (its checks and audit trail).

The reading itself is foitrack.domain.extraction; this module finds a request's stored
attachments, says what accepting the proposals would change, and saves them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from foitrack.domain.design import CampaignDesign
from foitrack.domain.extraction import Extraction, Proposal, extract
from foitrack.domain.extraction.proposals import READABLE
from foitrack.models import Attachment, InboundMessage, Request, StoredFile
from foitrack.services import audit
from foitrack.services.figures import DesignIndex, Entry, SaveReport, figures_of, save_figures
from foitrack.storage import FileStore


@dataclass(frozen=True)
class ReplyFile:
    filename: str
    data: bytes
    stored: StoredFile | None = None  # None: a file given on the command line


def stored_files(session: Session, store: FileStore, request: Request) -> list[ReplyFile]:
    """The request's kept attachments of the kinds figures are read from, oldest first."""
    return read_attachments(store, session.scalars(
        select(Attachment).join(InboundMessage)
        .where(InboundMessage.request_id == request.id, Attachment.stored_file_id.is_not(None))
        .order_by(Attachment.id)))


def is_readable(attachment: Attachment) -> bool:
    """Kept, and of a kind figures are read from."""
    return attachment.stored_file is not None and attachment.filename.lower().endswith(READABLE)


def read_attachments(store: FileStore, attachments: Iterable[Attachment]) -> list[ReplyFile]:
    """Those of ``attachments`` figures are read from, with their bytes from the file store."""
    return [ReplyFile(a.filename, store.read(a.stored_file.sha256), a.stored_file)
            for a in attachments if is_readable(a) and a.stored_file is not None]


def propose(design: CampaignDesign, files: Sequence[ReplyFile], authority: str) -> Extraction:
    result = Extraction()
    for item in files:
        extract(item.filename, item.data, design, authority, into=result)
    return result


def entry(proposal: Proposal) -> Entry:
    """A proposal as the grid's entry: the value in its canonical spelling ("12*" is 12, its
    footnote a caveat), the file and the place as its source."""
    return Entry(proposal.measure, proposal.period, proposal.dimension, proposal.category,
                 proposal.parsed.text, proposal.caveat,
                 f"{proposal.file}, {proposal.location.text}", cell=proposal.location.text)


@dataclass(frozen=True)
class Planned:
    proposal: Proposal
    status: str  # "new", "changed", "unchanged", or "conflict" (changes a checked figure)
    old: str | None = None
    checked_by: str | None = None


def preview(session: Session, request: Request, proposals: Sequence[Proposal]) -> list[Planned]:
    """What accepting would do to each cell: a checked figure changed is a conflict, said."""
    index = DesignIndex.of(request.campaign)
    figures = figures_of(session, request)
    planned = []
    for proposal in proposals:
        target, _ = index.resolve(entry(proposal))
        if target is None:
            continue
        measure, period, category = target
        figure = figures.get((measure.id, period.id, category.id if category else None))
        if figure is None:
            planned.append(Planned(proposal, "new"))
        elif figure.figure_value == proposal.parsed:
            planned.append(Planned(proposal, "unchanged", figure.figure_value.text))
        else:
            planned.append(Planned(proposal, "conflict" if figure.checked_by else "changed",
                                   figure.figure_value.text, figure.checked_by))
    return planned


def accept(session: Session, actor: audit.Actor, request: Request, proposals: Sequence[Proposal],
           files: Sequence[ReplyFile]) -> SaveReport:
    """Save the proposals as the request's figures, each file's with that file as its source.
    :raises Invalid: as the grid's save does; nothing is saved."""
    stored = {item.stored.sha256: item.stored for item in files if item.stored is not None}
    report = SaveReport()
    for digest in dict.fromkeys(p.sha256 for p in proposals):
        entries = [entry(p) for p in proposals if p.sha256 == digest]
        report.add(save_figures(session, actor, request, entries, source_file=stored.get(digest)))
    return report
