"""The methods note: how a campaign's figures were gathered, written for the authorities a
release covers (dates sent, replies and timeliness, refusals, suppression, caveats)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from foitrack.clock import ClockSettings
from foitrack.figure_values import ValueKind
from foitrack.models import Campaign, Figure, Request
from foitrack.services.requests import state_of


def bodies_word(campaign: Campaign) -> str:
    """"forces" for a campaign to police forces only, else "authorities"."""
    kinds = {r.authority.kind for r in campaign.requests}
    return "forces" if kinds <= {"territorial-police", "special-police"} else "authorities"


def methods_note(session: Session, campaign: Campaign, today: dt.date,
                 settings: ClockSettings | None = None) -> list[str]:
    """How the figures were gathered: dates, replies, timeliness, refusals, suppression, caveats."""
    requests = list(session.scalars(
        select(Request).where(Request.campaign_id == campaign.id)
        .options(selectinload(Request.events), selectinload(Request.authority))
    ))
    states = [(r, state_of(r, today, settings)) for r in requests]
    bodies = bodies_word(campaign)
    lines = []
    sent = sorted(s.sent_on for _, s in states if s.sent_on)
    if sent:
        span = sent[0].isoformat() if sent[0] == sent[-1] else \
            f"between {sent[0].isoformat()} and {sent[-1].isoformat()}"
        lines.append(f"Freedom of Information requests were sent to {len(sent)} {bodies} {span}.")
        answered = [s for _, s in states if s.first_response_on]
        on_time = [s for s in answered if s.answered_on_time]
        extended = sum(1 for s in on_time if s.response_deadline and s.response_deadline.count
                       and s.response_deadline.due != s.response_deadline.count.due)
        days = (settings or ClockSettings()).response_days
        lines.append(f"{len(answered)} replied, {len(on_time)} of them by the due date (the "
                     f"{days}th working day after receipt"
                     + (f", or a public interest extension for {extended}" if extended else "")
                     + ").")
    else:
        lines.append(f"{len(requests)} {bodies} were asked; no sending dates are recorded.")
    refusals: Counter[str] = Counter()
    for _, state in states:
        if state.outcome in ("refused", "part_provided", "ncnd"):
            for section in state.exemptions or ("no section cited",):
                refusals[section] += 1
    if refusals:
        lines.append("Refusals, in full or in part: " + ", ".join(
            f"{section} ({count})" for section, count in sorted(refusals.items())) + ".")
    figures = list(session.scalars(
        select(Figure).join(Request).where(Request.campaign_id == campaign.id)
        .options(selectinload(Figure.request).selectinload(Request.authority))
    ))
    kinds = Counter(f.kind for f in figures)
    given = sorted({f.request.authority.name for f in figures if f.figure_value.is_usable})
    lines.append(f"{len(given)} of the {len(requests)} {bodies} gave usable figures.")
    if kinds[ValueKind.suppressed]:
        lines.append(f"{kinds[ValueKind.suppressed]} "
                     f"{'figure was' if kinds[ValueKind.suppressed] == 1 else 'figures were'} "
                     "suppressed (small numbers): "
                     "totals leave them out, and the bounds give the range they could add.")
    for kind in (ValueKind.withheld, ValueKind.not_recorded, ValueKind.not_held,
                 ValueKind.not_provided):
        if kinds[kind]:
            lines.append(f"{kinds[kind]} {'figure was' if kinds[kind] == 1 else 'figures were'} "
                         f"{kind.label}.")
    lines.append("Shares 'where recorded' leave out the cases in which the authority did not "
                 "record the detail.")
    caveats: dict[str, set[str]] = {}
    for figure in figures:
        if figure.caveat:
            caveats.setdefault(figure.request.authority.name, set()).add(figure.caveat)
    for name in sorted(caveats):
        lines.append(f"{name}: " + " ".join(sorted(caveats[name])))
    return lines
