"""Figures emptied from the grid: kept in the audit trail, listed per request, put back by an admin.

Removing a figure deletes its row (the cell must be free for a new value), but nothing a user
entered is lost: the removal is written twice, on the figure's own trail (its history page) and
on its request's, where the request's removed figures are found through the audit index rather
than by scanning every figure's trail. A restore puts the value, caveat and source back in the
same cell, unchecked, since a second person must check a figure that comes back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foitrack.domain.figure_values import NotAFigure, parse
from foitrack.errors import Conflict, NotFound
from foitrack.models import AuditEntry, Category, Figure, Measure, Period, Request
from foitrack.services import audit
from foitrack.services.locks import hold_request

REMOVED = "remove figure"
RESTORED = "restore figure"


def removal_snapshot(figure: Figure) -> dict[str, Any]:
    """All a restore needs: the figure as shown, and its cell and provenance by id."""
    return {**figure.snapshot(), "figure_id": figure.id, "request_id": figure.request_id,
            "measure_id": figure.measure_id, "period_id": figure.period_id,
            "category_id": figure.category_id, "source_file_id": figure.source_file_id,
            "source_event_id": figure.source_event_id, "entered_by": figure.entered_by,
            "entered_by_user_id": figure.entered_by_user_id}


def record_removal(session: Session, actor: audit.Actor, figure: Figure) -> None:
    """Write a figure's removal on its own trail and on its request's (call before deleting)."""
    snapshot = removal_snapshot(figure)
    audit.record(session, actor, "figure", figure.id, "delete", snapshot, None)
    audit.record(session, actor, "request", figure.request_id, REMOVED, snapshot, None)


@dataclass(frozen=True)
class RemovedFigure:
    """A figure removed from a request, as its removal recorded it."""

    figure_id: int
    removed_at: dt.datetime
    removed_by: str
    cell: str
    value: str
    caveat: str | None
    source: str | None
    # Why it cannot be put back now (its cell holds another value, or left the design).
    blocked: str | None


def _cell_parts(session: Session, before: dict[str, Any]) -> tuple[Measure | None, Period | None,
                                                                   Category | None, bool]:
    measure = session.get(Measure, before["measure_id"])
    period = session.get(Period, before["period_id"])
    category = session.get(Category, before["category_id"]) if before["category_id"] else None
    complete = measure is not None and period is not None and (
        before["category_id"] is None or category is not None)
    return measure, period, category, complete


def _occupant(session: Session, request: Request, before: dict[str, Any]) -> Figure | None:
    return session.scalar(select(Figure).where(
        Figure.request_id == request.id, Figure.measure_id == before["measure_id"],
        Figure.period_id == before["period_id"],
        Figure.category_id.is_(None) if before["category_id"] is None
        else Figure.category_id == before["category_id"]))


def _why_blocked(complete: bool, occupant: Figure | None) -> str | None:
    """Why a removed figure cannot go back: its cell left the design, or holds a value now."""
    if not complete:
        return "its cell is no longer in the campaign's data design"
    if occupant is not None:
        return f"its cell now holds {occupant.figure_value.text}"
    return None


def _blocked(session: Session, request: Request, before: dict[str, Any]) -> str | None:
    return _why_blocked(_cell_parts(session, before)[3], _occupant(session, request, before))


def _removals(session: Session, request: Request) -> list[AuditEntry]:
    """The request's figure removals, newest first; of each figure only its latest."""
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "request", AuditEntry.entity_id == str(request.id),
        AuditEntry.action == REMOVED).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))
    latest: dict[int, AuditEntry] = {}
    for entry in entries:
        if entry.before:
            latest.setdefault(int(entry.before["figure_id"]), entry)
    return list(latest.values())


def removed_figures(session: Session, request: Request) -> list[RemovedFigure]:
    """Figures removed from the request whose cell has not been given one back since."""
    found = []
    for entry in _removals(session, request):
        before = entry.before or {}
        occupant = _occupant(session, request, before)
        if occupant is not None and occupant.id == before["figure_id"]:
            continue  # restored already
        measure, period, category, complete = _cell_parts(session, before)
        cell = " · ".join(part.label for part in (measure, period, category) if part is not None)
        found.append(RemovedFigure(
            figure_id=int(before["figure_id"]), removed_at=entry.at, removed_by=entry.actor,
            cell=cell or "a cell no longer in the design", value=before["value"],
            caveat=before.get("caveat"), source=before.get("source"),
            blocked=_why_blocked(complete, occupant)))
    return found


def restore_figure(session: Session, actor: audit.Actor, request: Request, figure_id: int) -> Figure:
    """Put a removed figure back in its cell, unchecked, under its old id where that is free.

    :raises NotFound: if no such figure was removed from this request.
    :raises Conflict: if its cell holds a value now or has left the data design.
    """
    # A colleague's grid save (or a second restore) of this request waits for this one, so the
    # cell checked empty below is still empty when the figure goes back in.
    hold_request(session, request)
    entry = next((e for e in _removals(session, request)
                  if e.before and int(e.before["figure_id"]) == figure_id), None)
    if entry is None or entry.before is None:
        raise NotFound(f"no figure {figure_id} was removed from this request")
    before = entry.before
    blocked = _blocked(session, request, before)
    if blocked:
        raise Conflict(f"the figure cannot be put back: {blocked}")
    try:
        value = parse(before["value"], request.campaign.suppression_threshold)
    except NotAFigure as error:  # the threshold changed since: say so rather than guess
        raise Conflict(f"the figure {before['value']!r} no longer reads as a figure: {error}") from None
    # The old id keeps the figure's history on one page, unless SQLite has given it to another.
    figure_id_free = session.get(Figure, figure_id) is None
    figure = Figure(id=figure_id if figure_id_free else None, request_id=request.id,
                    measure_id=before["measure_id"], period_id=before["period_id"],
                    category_id=before["category_id"], caveat=before.get("caveat"),
                    source=before.get("source"), source_file_id=before.get("source_file_id"),
                    source_event_id=before.get("source_event_id"),
                    entered_by=before.get("entered_by") or actor.label,
                    entered_by_user_id=before.get("entered_by_user_id"))
    figure.set_value(value)
    session.add(figure)
    try:
        session.flush()
    except IntegrityError:  # a writer that does not take the lock filled the cell meanwhile
        raise Conflict("the figure cannot be put back: its cell was given a value meanwhile") from None
    audit.record(session, actor, "figure", figure.id, "restore", None, figure.snapshot())
    audit.record(session, actor, "request", request.id, RESTORED, None,
                 {**removal_snapshot(figure), "restored_from": figure_id})
    return figure
