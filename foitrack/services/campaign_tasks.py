"""A campaign's stages as a task list: design the data, pilot, send, chase, enter and check the
figures, release; each with its state, and the one stage whose action comes next.

Worked out from the campaign's request rows (foitrack.services.requests.request_rows, which
the pages keep) and one query of its figures per request, so the campaign page can show what
to do next at the cost of a single aggregate query.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foitrack.domain.clock import ClockSettings
from foitrack.domain.timeline import Lateness, RequestState, Status
from foitrack.models import Campaign, CampaignStatus, Figure, Request
from foitrack.services.checks import open_findings
from foitrack.services.requests import RequestRow

# Outcomes that come with figures: a refusal or "not held" gives none to enter.
_WITH_FIGURES = ("provided", "part_provided")
_CHASEABLE = (Lateness.overdue, Lateness.very_overdue)


class TaskStatus(enum.StrEnum):
    """Where a stage is, in the GOV.UK task list's words."""

    done = "Done"
    in_progress = "In progress"
    not_started = "Not started"
    cannot_start = "Cannot start yet"
    skipped = "Skipped"

    @property
    def open(self) -> bool:
        """A stage that may still be worked on now."""
        return self in (TaskStatus.not_started, TaskStatus.in_progress)


@dataclass(frozen=True)
class TaskAction:
    """What a stage's button does: the page it opens (a Flask endpoint and its arguments,
    kept as names so this module knows nothing of the web) and who may open it."""

    label: str
    endpoint: str
    args: tuple[tuple[str, str], ...] = ()
    # The endpoint whose permission the action needs, when not its own (the pilot's action
    # opens the campaign page, but is done through its bulk form).
    needs: str | None = None

    @property
    def url_args(self) -> dict[str, str]:
        return dict(self.args)

    @property
    def permission(self) -> str:
        return self.needs or self.endpoint


@dataclass(frozen=True)
class Task:
    key: str  # stable, for ids and tests: design, pilot, send, chase, figures, release
    name: str
    status: TaskStatus
    hint: str  # its state in a few words: "3 of 43 answered"
    action: TaskAction | None = None  # None: nothing to do on it now


@dataclass(frozen=True)
class CampaignTasks:
    """The stages in order and the one the campaign is at (None: nothing to do but wait)."""

    tasks: tuple[Task, ...]
    current: str | None

    @property
    def current_task(self) -> Task | None:
        return next((task for task in self.tasks if task.key == self.current), None)

    @property
    def primary(self) -> TaskAction | None:
        """The action of the stage the campaign is at: the page's one main button."""
        task = self.current_task
        return task.action if task else None

    def task(self, key: str) -> Task:
        return next(task for task in self.tasks if task.key == key)

    @property
    def done(self) -> int:
        return sum(1 for task in self.tasks if task.status in (TaskStatus.done, TaskStatus.skipped))


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def figures_by_request(session: Session, campaign: Campaign) -> dict[int, int]:
    """How many figures each request of the campaign has, in one query."""
    return dict(session.execute(
        select(Figure.request_id, func.count()).join(Request, Figure.request_id == Request.id)
        .where(Request.campaign_id == campaign.id).group_by(Figure.request_id)).all())


def campaign_tasks(session: Session, campaign: Campaign, rows: Sequence[RequestRow], *,
                   findings: int | None = None, today: dt.date | None = None,
                   settings: ClockSettings | None = None) -> CampaignTasks:
    """The campaign's task list, from its request rows (worked out on the day the caller
    shows). ``findings`` is the number of open consistency findings when the caller has it
    (worked out here otherwise, on ``today``)."""
    if findings is None:
        findings = len(open_findings(session, campaign, today=today, settings=settings))
    counted = figures_by_request(session, campaign)
    return build_tasks(campaign, rows, counted, findings)


def build_tasks(campaign: Campaign, rows: Sequence[RequestRow], figures: dict[int, int],
                findings: int) -> CampaignTasks:
    """The task list from what campaign_tasks reads: the rows, each request's figure count
    and the open findings. No query but the campaign's measures (loaded with it on its page)."""
    slug = (("slug", campaign.slug),)
    total = len(rows)
    states = [row.state for row in rows]
    sent_days = sorted(state.sent_on for state in states if state.sent_on is not None)
    sent = len(sent_days)
    not_sent = sum(1 for state in states if state.status is Status.not_sent)
    answered = sum(1 for state in states if state.first_response_on is not None)
    awaiting = [state for state in states if state.status.awaiting_authority]
    late = sum(1 for state in states if state.lateness in _CHASEABLE)
    entered = sum(figures.values())
    unchecked = sum(count for row in rows for _, count in row.unchecked_figures)
    to_enter = [row for row in rows if row.state.outcome in _WITH_FIGURES
                and not figures.get(row.request_id)]
    to_check = [row for row in rows if row.unchecked_figures]
    designed = len(campaign.measures)
    closed = campaign.status is CampaignStatus.closed

    tasks = [
        _design(designed, slug),
        _pilot(total, sent, sent_days, not_sent, slug),
        _send(campaign, total, sent, not_sent, slug),
        _chase(total, sent, answered, awaiting, late, slug),
        _figures(designed, answered, entered, unchecked, to_enter, to_check, findings, bool(awaiting),
                 slug),
        _release(closed, entered, unchecked, slug),
    ]
    return CampaignTasks(tuple(tasks), None if closed else _current(tasks, sent))


def _current(tasks: list[Task], sent: int) -> str | None:
    """The first stage that can be worked on now. Once requests have gone out, a design not
    yet written waits behind the chase and the figures (it shows as not started all the same):
    the replies' clock runs, the design's does not."""
    ready = [task for task in tasks if task.status.open and task.action is not None]
    if sent:
        ready = [task for task in ready if task.key != "design"] or ready
    return ready[0].key if ready else None


def _design(designed: int, slug: tuple[tuple[str, str], ...]) -> Task:
    action = TaskAction("Data design", "figures.design", slug)
    if designed:
        return Task("design", "Design the data", TaskStatus.done,
                    f"{_plural(designed, 'measure')} to ask for", action)
    return Task("design", "Design the data", TaskStatus.not_started,
                "Say which figures to ask for: measures, periods and breakdowns", action)


def _pilot(total: int, sent: int, sent_days: list[dt.date], not_sent: int,
           slug: tuple[tuple[str, str], ...]) -> Task:
    name = "Pilot with a few authorities"
    if not total:
        return Task("pilot", name, TaskStatus.cannot_start, "No authorities to ask yet")
    if not sent:
        # Recorded as sent by hand (the bulk form under the table): the email send goes to
        # every authority not yet sent to.
        return Task("pilot", name, TaskStatus.not_started,
                    "Optional: record two or three as sent, read their replies, then send the rest",
                    TaskAction("Pilot: tick a few requests below", "campaigns.detail",
                               (*slug, ("_anchor", "requests")), needs="campaigns.bulk"))
    first = sum(1 for day in sent_days if day == sent_days[0])
    if first < total and (first < sent or not_sent):
        return Task("pilot", name, TaskStatus.done, f"Sent to {first} first")
    return Task("pilot", name, TaskStatus.skipped,
                f"Every request went on {sent_days[0].isoformat()}")


def _send(campaign: Campaign, total: int, sent: int, not_sent: int,
          slug: tuple[tuple[str, str], ...]) -> Task:
    name = "Send the requests"
    if not total:
        return Task("send", name, TaskStatus.not_started, "No authorities yet",
                    TaskAction("Add authorities", "campaigns.add_authorities", slug))
    action = TaskAction("Send by email", "mail.send", slug)
    scheduled = (f"; the scheduler sends the rest on {campaign.send_on.isoformat()}"
                 if campaign.send_on and not_sent else "")
    if not sent:
        return Task("send", name, TaskStatus.not_started, f"None of {total} sent{scheduled}", action)
    if not_sent:
        return Task("send", name, TaskStatus.in_progress, f"{sent} of {total} sent{scheduled}",
                    action)
    return Task("send", name, TaskStatus.done, f"All {total} sent" if sent == total
                else f"{sent} of {total} sent, the others withdrawn")


def _chase(total: int, sent: int, answered: int, awaiting: list[RequestState], late: int,
           slug: tuple[tuple[str, str], ...]) -> Task:
    name = "Chase the replies"
    if not sent:
        return Task("chase", name, TaskStatus.cannot_start, "Nothing sent yet")
    hint = f"{answered} of {total} answered"
    if late:
        return Task("chase", name, TaskStatus.in_progress, f"{hint}, {late} late",
                    TaskAction("Chase the late ones", "mail.chase", slug))
    if awaiting:
        due = [state.response_deadline.due for state in awaiting
               if state.response_deadline and state.response_deadline.due]
        more = f", the next due on {min(due).isoformat()}" if due else ""
        return Task("chase", name, TaskStatus.in_progress, f"{hint}; nobody is late{more}")
    return Task("chase", name, TaskStatus.done, hint)


def _figures(designed: int, answered: int, entered: int, unchecked: int,
             to_enter: list[RequestRow], to_check: list[RequestRow], findings: int,
             waiting: bool, slug: tuple[tuple[str, str], ...]) -> Task:
    name = "Enter and check the figures"
    if not designed:
        return Task("figures", name, TaskStatus.cannot_start, "Design the data first")
    if not entered and not answered:
        return Task("figures", name, TaskStatus.cannot_start, "No replies yet")
    parts = [f"{_plural(entered, 'figure')} entered"]
    if to_enter:
        parts.append(f"{_plural(len(to_enter), 'reply', 'replies')} with no figures yet")
    if unchecked:
        parts.append(f"{_plural(unchecked, 'figure')} to check")
    if findings:
        parts.append(_plural(findings, "consistency finding"))
    hint = ", ".join(parts)
    action = None
    # Entered before checked: the check is a second researcher's, so the figures come first.
    if to_enter:
        row = to_enter[0]
        action = TaskAction(f"Enter the figures from {row.authority_name}", "figures.grid",
                            (*slug, ("authority", row.authority_slug)))
    elif to_check:
        row = to_check[0]
        action = TaskAction(f"Check the figures from {row.authority_name}", "figures.grid",
                            (*slug, ("authority", row.authority_slug)))
    elif findings:
        action = TaskAction(f"Consistency checks ({findings} open)", "checks.index", slug)
    if not entered:
        return Task("figures", name, TaskStatus.not_started, hint, action)
    if action is not None or waiting:
        return Task("figures", name, TaskStatus.in_progress, hint, action)
    return Task("figures", name, TaskStatus.done, hint)


def _release(closed: bool, entered: int, unchecked: int,
             slug: tuple[tuple[str, str], ...]) -> Task:
    name = "Release the findings"
    action = TaskAction("Release lines", "figures.release", slug)
    if closed:
        return Task("release", name, TaskStatus.done, "The campaign is closed")
    if not entered:
        return Task("release", name, TaskStatus.cannot_start, "No figures yet")
    return Task("release", name, TaskStatus.not_started,
                f"{entered - unchecked} of {_plural(entered, 'figure')} checked", action)
