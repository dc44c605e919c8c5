"""What to look at before publishing a campaign's next version: the figures entered and not yet
checked, the consistency findings open, the forces that have not answered, and the forces'
right of reply to their own figures.

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
from foitrack.services import right_of_reply
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
    reply = right_of_reply.checklist(session, campaign, today)
    if reply.sent == 0 and reply.sending == 0:
        detail = ("Not sent: each force may be sent its own figures and draft lines to answer "
                  "before they are published" if reply.with_figures else "No figures to send yet")
    else:
        detail = reply.summary()
    # Ready once every force with figures was asked and none is still to answer, and no figure
    # has changed since a force was shown it (what is published is what it saw).
    items.append(ChecklistItem("right_of_reply", "Right of reply",
                               reply.done and not reply.changed_since, detail))
    return items
