"""What to look at before publishing a campaign's next version: the figures entered and not yet
checked, the consistency findings open, and the forces that have not answered.

Read from the same services as the campaign's task list (foitrack.services.campaign_tasks): the
request rows, each request's figure count and the open findings. Nothing here stops a release:
a researcher may publish with forces still to answer, and the page says so first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from foitrack.domain.clock import ClockSettings
from foitrack.domain.timeline import Status
from foitrack.models import Campaign
from foitrack.services.campaign_tasks import figures_by_request
from foitrack.services.checks import open_findings
from foitrack.services.requests import request_rows


@dataclass(frozen=True)
class ChecklistItem:
    key: str  # stable, for ids and tests
    name: str
    ready: bool  # nothing to look at (False: worth a look before publishing)
    detail: str
    # The names behind the count, where the page lists them (the forces not answered).
    names: tuple[str, ...] = ()


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def checklist(session: Session, campaign: Campaign, *, today: dt.date,
              settings: ClockSettings | None = None) -> list[ChecklistItem]:
    """The items to look at before publishing ``campaign``, worked out on ``today``."""
    rows = [row for row in request_rows(session, [campaign.id], today, settings)
            .get(campaign.id, []) if row.counts]
    entered = sum(figures_by_request(session, campaign).values())
    unchecked = sum(count for row in rows for _, count in row.unchecked_figures)
    findings = len(open_findings(session, campaign, today=today, settings=settings))
    silent = tuple(row.authority_name for row in rows
                   if row.state.first_response_on is None
                   and row.state.status is not Status.withdrawn)
    items = [
        ChecklistItem("figures", "Figures entered", entered > 0,
                      _plural(entered, "figure") + " entered" if entered else "No figures yet"),
        ChecklistItem("unchecked", "Figures checked", entered > 0 and not unchecked,
                      f"{_plural(unchecked, 'figure')} not yet checked by a second researcher"
                      if unchecked else "Every figure entered is checked"),
        ChecklistItem("findings", "Consistency checks", not findings,
                      f"{_plural(findings, 'consistency finding')} open" if findings
                      else "No consistency finding open"),
        ChecklistItem("answers", "Forces answered", not silent,
                      f"{_plural(len(silent), 'force')} of {len(rows)} not answered"
                      if silent else f"All {len(rows)} answered", silent),
    ]
    # RIGHT OF REPLY: the lead adds the 'Right of reply' item here, from the right-of-reply
    # service (another helper's), as one more ChecklistItem("right_of_reply", ...).
    return items
