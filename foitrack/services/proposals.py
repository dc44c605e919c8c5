"""Stored figure proposals (issue 19): the cells read from a request's reply files, kept until a
person accepts or rejects them on the review page.

Making proposals replaces a file's pending ones and never touches decided ones; accepting goes
through extraction.accept, i.e. the grid's save (its checks and audit trail), and a proposal that
would change a checked figure is accepted only when the person says so. Nothing here commits.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from foitrack import broker
from foitrack.db import utcnow
from foitrack.domain.design import CampaignDesign
from foitrack.domain.extraction import Extraction, Proposal, extract
from foitrack.domain.extraction.cells import Location
from foitrack.domain.extraction.neighbourhood import neighbourhoods
from foitrack.domain.extraction.proposals import read_document
from foitrack.domain.figure_values import NotAFigure, parse
from foitrack.errors import Invalid, Problem
from foitrack.models import Figure, FigureProposal, InboundMessage, ProposalState, Request
from foitrack.services import audit
from foitrack.services.extraction import (
    Planned,
    ReplyFile,
    entry,
    is_readable,
    preview,
    read_attachments,
    stored_files,
)
from foitrack.services.extraction import accept as accept_proposals
from foitrack.services.figures import DesignIndex, SaveReport, figures_of
from foitrack.services.follow_ups import first_of
from foitrack.storage import FileStore

log = logging.getLogger(__name__)


def make(session: Session, store: FileStore, request: Request,
         files: Sequence[ReplyFile] | None = None) -> Extraction:
    """Read ``files`` (default: all the stored attachments of the request and of its narrowed
    follow-ups) and store what they propose, for ``request``: a first request, where the
    authority's figures live (services.follow_ups).

    Each file's pending proposals are replaced; decided ones stay, and a cell already decided with
    the same value from the same file is not proposed again (a rejection is not undone by reading
    the file a second time)."""
    if files is None:
        files = [item for asked in [request, *request.follow_ups]
                 for item in stored_files(session, store, asked)]
    design = CampaignDesign.of(request.campaign)
    code = request.authority.code or request.authority.slug
    result = Extraction()
    for item in files:
        if item.stored is None:
            continue
        read = extract(item.filename, item.data, design, code)
        result.skipped.extend(read.skipped)
        result.problems.extend(read.problems)
        session.execute(delete(FigureProposal).where(
            FigureProposal.request_id == request.id,
            FigureProposal.stored_file_id == item.stored.id,
            FigureProposal.state == ProposalState.PENDING))
        decided = {(p.measure, p.period, p.dimension, p.category, p.value) for p in session.scalars(
            select(FigureProposal).where(FigureProposal.request_id == request.id,
                                         FigureProposal.sha256 == item.stored.sha256))}
        around = (neighbourhoods(read_document(item.filename, item.data))
                  if any(p.location.page is None for p in read.proposals) else {})
        for proposal in read.proposals:
            if (*proposal.key, proposal.value) in decided:
                continue
            result.proposals.append(proposal)
            row = _row(request, item, proposal)
            row.neighbourhood = around.get(proposal.location.text)
            session.add(row)
    session.flush()
    return result


def _row(request: Request, item: ReplyFile, proposal: Proposal) -> FigureProposal:
    assert item.stored is not None
    bbox = proposal.location.bbox
    return FigureProposal(
        request=request, stored_file=item.stored, sha256=proposal.sha256, filename=proposal.file,
        measure=proposal.measure, period=proposal.period, dimension=proposal.dimension,
        category=proposal.category, value=proposal.value, parsed_kind=proposal.parsed_kind,
        parsed_text=proposal.parsed.text, caveat=proposal.caveat,
        location=proposal.location.text, page=proposal.location.page,
        bbox=list(bbox) if bbox is not None else None, layout=proposal.layout,
        extractor=proposal.extractor, extractor_version=proposal.extractor_version,
        confidence=proposal.confidence, state=ProposalState.PENDING)


def as_proposal(row: FigureProposal, threshold: int | None, value: str | None = None) -> Proposal:
    """The stored row as the extractor's proposal; ``value`` an edited value (parsed afresh,
    without the file's footnote)."""
    bbox = tuple(row.bbox) if row.bbox else None
    parsed = parse(value if value is not None else row.parsed_text, threshold)
    return Proposal(row.measure, row.period, row.dimension, row.category,
                    value if value is not None else row.value, parsed, row.filename, row.sha256,
                    Location(row.location, row.page, bbox),  # type: ignore[arg-type]
                    row.confidence, row.layout, row.caveat if value is None else None)


@dataclass(frozen=True)
class Reviewed:
    row: FigureProposal
    status: str  # "new", "changed", "unchanged", "conflict", or "unknown" (no longer in the design)
    old: str | None = None
    checked_by: str | None = None


def pending(session: Session, request: Request) -> list[FigureProposal]:
    return list(session.scalars(
        select(FigureProposal)
        .where(FigureProposal.request_id == request.id,
               FigureProposal.state == ProposalState.PENDING)
        .order_by(FigureProposal.stored_file_id, FigureProposal.id)))


def pending_count(session: Session, request: Request) -> int:
    return len(pending(session, request))


def _plan(session: Session, request: Request, rows: Sequence[FigureProposal],
          edits: Mapping[int, str]) -> list[tuple[FigureProposal, Proposal, Planned | None]]:
    threshold = request.campaign.suppression_threshold
    proposals = [(row, as_proposal(row, threshold, edits.get(row.id))) for row in rows]
    planned = {id(p.proposal): p for p in preview(session, request, [p for _, p in proposals])}
    return [(row, proposal, planned.get(id(proposal))) for row, proposal in proposals]


def review(session: Session, request: Request) -> list[Reviewed]:
    """The request's pending proposals, each with what accepting it would do."""
    return [Reviewed(row, plan.status if plan else "unknown", plan.old if plan else None,
                     plan.checked_by if plan else None)
            for row, _, plan in _plan(session, request, pending(session, request), {})]


def _chosen(session: Session, request: Request, ids: Collection[int]) -> list[FigureProposal]:
    rows = [row for row in pending(session, request) if row.id in ids]
    if len(rows) != len(set(ids)):
        raise Invalid("Some of the chosen proposals are no longer waiting for review; reload the page.")
    if not rows:
        raise Invalid("Choose at least one proposal.")
    return rows


def accept(session: Session, actor: audit.Actor, request: Request, ids: Collection[int],
           edits: Mapping[int, str] | None = None, *, confirm_conflicts: bool = False
           ) -> SaveReport:
    """Save the chosen proposals as the request's figures, ``edits`` giving a corrected value for
    some. All or nothing.
    :raises Invalid: a bad edited value (naming its cell), a checked figure that would change
        without ``confirm_conflicts``, or what the grid's save refuses."""
    edits = {key: value.strip() for key, value in (edits or {}).items()}
    rows = _chosen(session, request, ids)
    threshold = request.campaign.suppression_threshold
    problems = []
    for row in rows:
        if row.id in edits:
            try:
                parse(edits[row.id], threshold)
            except NotAFigure as error:
                problems.append(Problem(f"{row.filename}, {row.location}: {edits[row.id]!r}: {error}",
                                        field=f"value-{row.id}"))
    if problems:
        raise Invalid(problems)
    plan = _plan(session, request, rows, edits)
    unknown = [row for row, _, planned in plan if planned is None]
    if unknown:
        raise Invalid([Problem(f"{row.filename}, {row.location}: the cell is no longer in the "
                               "campaign's design", field=f"value-{row.id}") for row in unknown])
    conflicts = [(row, planned) for row, _, planned in plan
                 if planned is not None and planned.status == "conflict"]
    if conflicts and not confirm_conflicts:
        raise Invalid([Problem(
            f"{row.filename}, {row.location}: would change {planned.old} to "
            f"{planned.proposal.parsed.text}, a figure checked by {planned.checked_by}; confirm "
            "to change checked figures", field=f"value-{row.id}") for row, planned in conflicts])
    files = [ReplyFile(row.filename, b"", row.stored_file) for row in rows]
    report = accept_proposals(session, actor, request, [proposal for _, proposal, _ in plan], files)
    _decide(rows, actor, ProposalState.ACCEPTED)
    _link(session, request, [(row, proposal) for row, proposal, _ in plan])
    session.flush()
    return report


def _link(session: Session, request: Request,
          accepted: Sequence[tuple[FigureProposal, Proposal]]) -> None:
    """Keep the figure each accepted proposal saved, for the figure's pages to show its crop."""
    index = DesignIndex.of(request.campaign)
    figures = figures_of(session, request)
    for row, proposal in accepted:
        target, _ = index.resolve(entry(proposal))
        if target is not None:
            measure, period, category = target
            figure = figures.get((measure.id, period.id, category.id if category else None))
            row.figure_id = figure.id if figure is not None else None


def read_from(session: Session, figure_ids: Collection[int]) -> dict[int, FigureProposal]:
    """The accepted proposal each figure was saved from, by figure id: for the figures whose
    source still names that proposal's file and place (a figure since given another source by
    hand is no longer vouched for by that cell). One query for the lot."""
    if not figure_ids:
        return {}
    found: dict[int, FigureProposal] = {}
    for row, source, source_file_id in session.execute(
            select(FigureProposal, Figure.source, Figure.source_file_id)
            .join(Figure, Figure.id == FigureProposal.figure_id)
            .where(FigureProposal.figure_id.in_(list(figure_ids)),
                   FigureProposal.state == ProposalState.ACCEPTED)
            .order_by(FigureProposal.decided_at, FigureProposal.id)):
        if source_file_id == row.stored_file_id and source == f"{row.filename}, {row.location}":
            assert row.figure_id is not None
            found[row.figure_id] = row  # the latest accepted wins
    return found


def reject(session: Session, actor: audit.Actor, request: Request, ids: Collection[int]) -> int:
    rows = _chosen(session, request, ids)
    _decide(rows, actor, ProposalState.REJECTED)
    session.flush()
    return len(rows)


def _decide(rows: Sequence[FigureProposal], actor: audit.Actor, state: ProposalState) -> None:
    now = utcnow()
    for row in rows:
        row.state = state
        row.decided_by = actor.label
        row.decided_at = now


def on_filed(session: Session, store: FileStore, inbound: InboundMessage) -> int:
    """Propose figures from a reply just filed against its request: the one call made at filing.

    Where a broker is configured the reading is a worker's, asked for once the filing commits
    (a long PDF takes seconds: the import, the fetch or the upload does not wait for it), and
    this returns 0; otherwise (the embedded queue, a command on its own) it is done here.
    A follow-up's reply is proposed for the first request, where the authority's figures live
    (services.follow_ups). Returns how many were proposed here. A fault in the reading is logged
    and records nothing (its savepoint is rolled back): a reply is filed whatever its
    attachments hold."""
    if not _readable(inbound):
        return 0
    if broker.queued(session):
        broker.task_after_commit(session, broker.PROPOSE_FIGURES, [inbound.id])
        return 0
    return _propose_from(session, store, inbound)


def on_arrival(session: Session, store: FileStore, inbound_id: int) -> int:
    """The worker's half of ``on_filed``: propose figures from the filed reply ``inbound_id``.
    Safe to run twice (a file's pending proposals are made afresh, decided ones kept); a reply
    since moved to another request proposes for that one, and one moved to triage for none."""
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None or not _readable(inbound):
        return 0
    return _propose_from(session, store, inbound)


def _readable(inbound: InboundMessage) -> bool:
    return inbound.request is not None and not inbound.is_bounce \
        and any(is_readable(a) for a in inbound.attachments)


def _propose_from(session: Session, store: FileStore, inbound: InboundMessage) -> int:
    assert inbound.request is not None
    request = first_of(inbound.request)
    try:
        with session.begin_nested():
            read = read_attachments(store, inbound.attachments)
            return len(make(session, store, request, read).proposals)
    except Exception:  # noqa: BLE001 - extraction never stops a reply being filed
        log.exception("figures could not be proposed from reply %s", inbound.id)
        return 0
