from __future__ import annotations

import contextlib
import datetime as dt
import io
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from foitrack.domain import edit_merge
from foitrack.domain.clock import Regime
from foitrack.domain.limits import MAX_NOTE
from foitrack.domain.timeline import REMINDER_WORKING_DAYS, EventKind, Lateness, likely_next
from foitrack.errors import Conflict, Invalid, NotFound
from foitrack.exporters.chase import write_csv
from foitrack.services import (
    audit,
    data_version,
    follow_ups,
    inbound,
    jobs,
    mail,
    membership,
    reply_reading,
)
from foitrack.services import campaigns as campaign_service
from foitrack.services import requests as service
from foitrack.web import campaign_rows, page_cache
from foitrack.web.context import (
    actor,
    clock_settings,
    db_session,
    keep_what_showing_read,
    today,
    visible_campaigns,
)
from foitrack.web.formatting import long_date
from foitrack.web.forms import show_problems
from foitrack.web.forms.campaigns import EventForm, ReferenceForm, RemoveEventForm
from foitrack.web.forms.follow_ups import FollowUpForm, SourceForm
from foitrack.web.forms.mail import ChaseListForm
from foitrack.web.views.lookups import file_store, request_or_404
from foitrack.web.views.mail import chase_summary
from foitrack.web.views.paging import BadPage, paginate
from foitrack.web.views.request_list import list_args, next_page, place_of

blueprint = Blueprint("requests", __name__)



def _shown() -> str:
    """The campaign page's filter the researcher came from, followed by previous and next."""
    return request.args.get("status", "")


def _new_event_form() -> EventForm:
    """An empty event form dated today; _render picks the kind most likely recorded next."""
    form = EventForm(formdata=None)
    form.occurred_on.data = today()
    return form


def _proposed_event_form() -> EventForm:
    """The empty form or, from a reply's "Use this proposal" link, the proposal filled in for a
    person to check and save (nothing is recorded until they do)."""
    form = _new_event_form()
    args = request.args
    if args.get("kind") in set(EventKind):
        form.kind.data = args["kind"]
        form.outcome.data = args.get("outcome", "")[:40] or None
        form.exemptions.data = args.get("exemptions", "")[:500]
        form.note.data = args.get("note", "")[:MAX_NOTE]
        with contextlib.suppress(ValueError):  # a date it cannot read: dated today
            form.occurred_on.data = dt.date.fromisoformat(args.get("occurred_on", ""))
    return form


def _render(found: Any, event_form: EventForm, reference_form: ReferenceForm, status: int = 200,
            follow_up_form: FollowUpForm | None = None) -> Any:
    session = db_session()
    state = service.state_of(found, today(), clock_settings())
    version = found.version or found.campaign.current_version
    text = campaign_service.shown_text(version.request_text, found.authority)
    # The chain: the first request and its narrowed follow-ups, each with its own clock.
    first = follow_ups.first_of(found)
    chain = [(r, service.state_of(r, today(), clock_settings())) for r in [first, *first.follow_ups]]
    if follow_up_form is None:
        follow_up_form = FollowUpForm(formdata=None, prefix=FOLLOW_UP)
        follow_up_form.follows.data = str(found.follow_up_number)
        follow_up_form.question.data = found.question or text
        follow_up_form.sent_on.data = today()
    events = sorted(found.events, key=lambda e: e.as_timeline().sort_key())
    sent_mail = mail.sent_to(session, found.id)
    received = inbound.filed_messages(session, found.id)
    proposals = reply_reading.proposals_for(received, file_store(),
                                            {e.id: e.occurred_on for e in found.events})
    if reference_form.base.data is None:
        reference_form.base.data = found.reference or ""
    if event_form.kind.data is None:
        # Not the first kind listed ("Request sent", wrong once it was sent): the likely next.
        event_form.kind.data = likely_next(found.timeline(), state.status).value
    return render_template(
        "requests/detail.html", req=found, campaign=found.campaign, state=state, events=events,
        event_form=event_form, reference_form=reference_form, here=_here(found),
        chain=chain, first=first, source=follow_ups.source_of(first),
        follow_up_form=follow_up_form, source_form=SourceForm(formdata=None),
        text=found.question or text, version=version,
        history=audit.history(session, "request", found.id), sent_mail=sent_mail,
        received=received, proposals=proposals, place=place_of(found, _shown()),
    ), status


# Each request page and action is also a narrowed follow-up's (services.follow_ups), named by
# ``?follow_up=<number>`` (none: the first request): the addresses of the first requests, which
# scripts and bookmarks hold, stay as they were.
FOLLOW_UP_ARG = "follow_up"
# The follow-up form's fields are named follow_up-note...: the event form has a note too.
FOLLOW_UP = "follow_up"


def _found(slug: str, authority: str, number: int | None = None) -> Any:
    """The request the address names: the first, or the follow-up ``number`` (by default the
    one ``?follow_up=`` names). :raises NotFound: also for a number that is not one."""
    if number is None:
        given = request.args.get(FOLLOW_UP_ARG, "")
        if given and not given.isdigit():
            raise NotFound(f"{given!r} is not a follow-up number")
        number = int(given or 0)
    if number:
        return follow_ups.get_follow_up(db_session(), slug, authority, number)
    return request_or_404(slug, authority)


def _here(found: Any) -> dict[str, Any]:
    """url_for's arguments naming ``found``'s page (a follow-up's too)."""
    return {"slug": found.campaign.slug, "authority": found.authority.slug,
            FOLLOW_UP_ARG: found.follow_up_number or None}


@blueprint.get("/campaigns/<slug>/requests/<authority>")
def detail(slug: str, authority: str) -> Any:
    found = _found(slug, authority)
    page = _render(found, _proposed_event_form(), ReferenceForm(formdata=None, obj=found))
    # A reply filed before readings were kept was read for this page: keep its reading (nothing
    # else is written by showing the page).
    keep_what_showing_read()
    return page


@blueprint.post("/campaigns/<slug>/requests/<authority>/events")
def add_event(slug: str, authority: str) -> Any:
    """Records an event; "Save and go to the next force" (``then=next``) then opens the next
    request of the list instead of this one again."""
    session = db_session()
    found = _found(slug, authority)
    form = EventForm()
    if form.validate_on_submit():
        occurred_on = form.occurred_on.data
        assert occurred_on is not None  # DataRequired: the form refused a missing date
        try:
            event = service.add_event(
                session, actor(), found, form.kind.data or "", occurred_on,
                today=today(), at=form.occurred_at.data, note=form.note.data,
                outcome=form.outcome.data or None, exemptions=form.exemptions.data or (),
                due_on=form.due_on.data, received_on=form.received_on.data,
                case_reference=form.case_reference.data, steps_ordered=form.steps_ordered.data,
                comply_by=form.comply_by.data,
            )
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            recorded = f"Recorded: {event.kind.label.lower()} on {long_date(event.occurred_on)}"
            if request.form.get("then") == "next":
                # Named, as the page it is shown on is the next force's.
                flash(f"{recorded}, for {found.authority.name}.", "success")
                return redirect(next_page("requests.detail", found, _shown()))
            flash(f"{recorded}.", "success")
            return redirect(url_for("requests.detail", **_here(found), **list_args(_shown())))
    return _render(found, form, ReferenceForm(formdata=None, obj=found), 400)


@blueprint.route("/campaigns/<slug>/requests/<authority>/events/<int:event_id>/remove",
                 methods=["GET", "POST"])
def remove_event(slug: str, authority: str, event_id: int) -> Any:
    """Asks first (GET), then removes (POST): a removal changes the request's status and dates."""
    session = db_session()
    found = _found(slug, authority)
    form = RemoveEventForm()
    if not form.is_submitted():
        event = next((e for e in found.events if e.id == event_id and e.removed_at is None), None)
        if event is None:
            abort(404)
        return render_template("requests/remove_event.html", req=found, campaign=found.campaign,
                               event=event, form=form)
    if form.validate_on_submit():
        try:
            event = service.remove_event(session, actor(), found, event_id)
        except Invalid as error:
            session.rollback()
            flash(f"Not removed: {'; '.join(p.message for p in error.problems)}", "error")
        else:
            session.commit()
            flash(f"Removed: {event.kind.label.lower()} on {long_date(event.occurred_on)}. "
                  "It stays on the record, struck through.", "success")
    return redirect(url_for("requests.detail", **_here(found)))


@blueprint.route("/campaigns/<slug>/requests/<authority>/events/<int:event_id>/restore",
                 methods=["GET", "POST"])
def restore_event(slug: str, authority: str, event_id: int) -> Any:
    """An admin's undo of a removal: asks first (GET), then restores (POST)."""
    session = db_session()
    found = _found(slug, authority)
    form = RemoveEventForm()
    event = next((e for e in found.events if e.id == event_id and e.removed_at is not None), None)
    if event is None:
        abort(404)
    if not form.is_submitted():
        return render_template("requests/remove_event.html", req=found, campaign=found.campaign,
                               event=event, form=form, restoring=True)
    if form.validate_on_submit():
        try:
            service.restore_event(session, actor(), found, event_id, today())
        except Invalid as error:
            session.rollback()
            flash(f"Not restored: {'; '.join(p.message for p in error.problems)}", "error")
        else:
            session.commit()
            flash(f"Restored: {event.kind.label.lower()} on {long_date(event.occurred_on)}.",
                  "success")
    return redirect(url_for("requests.detail", **_here(found)))


@blueprint.post("/campaigns/<slug>/requests/<authority>/reference")
def reference(slug: str, authority: str) -> Any:
    session = db_session()
    found = _found(slug, authority)
    form = ReferenceForm()
    if form.validate_on_submit():
        current = found.reference or ""
        merged = edit_merge.merge({"reference": form.base.data if "base" in request.form else None},
                                  {"reference": form.reference.data or ""}, {"reference": current})
        if merged.conflicts:
            form.reference.errors = [f"Someone else saved {current or 'an empty reference'!r} while "
                                     f"you were editing. Save again to keep yours."]
            form.base.data = current
            return _render(found, _new_event_form(), form, 409)
        try:
            service.set_reference(session, actor(), found, merged.values["reference"] or None)
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            flash("Saved the reference.", "success")
            return redirect(url_for("requests.detail", **_here(found), **list_args(_shown())))
    return _render(found, _new_event_form(), form, 400)


@blueprint.post("/campaigns/<slug>/requests/<authority>/follow-ups")
def follow_up(slug: str, authority: str) -> Any:
    """Sends (records) a narrowed follow-up of the request the form names, then opens it."""
    session = db_session()
    form = FollowUpForm(prefix=FOLLOW_UP)
    follows = form.follows.data or "0"
    found = _found(slug, authority, int(follows) if follows.isdigit() else -1)
    if form.validate_on_submit():
        sent_on = form.sent_on.data
        assert sent_on is not None  # DataRequired
        try:
            new = follow_ups.open_follow_up(session, actor(), found, form.question.data or "",
                                            sent_on, today=today(), note=form.note.data)
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            flash(f"Recorded: narrowed follow-up {new.follow_up_number} to "
                  f"{found.authority.name}, sent on {long_date(sent_on)}.", "success")
            return redirect(url_for("requests.detail", **_here(new)))
    return _render(found, _new_event_form(), ReferenceForm(formdata=None, obj=found), 400, form)


@blueprint.post("/campaigns/<slug>/requests/<authority>/source")
def use_as_source(slug: str, authority: str) -> Any:
    """Marks this request as the one the authority's figures come from."""
    session = db_session()
    found = _found(slug, authority)
    if SourceForm().validate_on_submit():
        try:
            follow_ups.use_as_source(session, actor(), found, today())
        except Conflict as error:
            session.rollback()
            flash(f"Not changed: {error}", "error")
        else:
            session.commit()
            which = (f"follow-up {found.follow_up_number}" if found.follow_up_number
                     else "the first request")
            flash(f"The figures of {found.authority.name} now come from {which}.", "success")
    else:
        flash("Not changed: the form had expired; try again.", "error")
    return redirect(url_for("requests.detail", **_here(found)))


# The chase list's choices beyond the campaign: how late, how long since the last chase, and
# the order. Rows are always grouped by campaign; the order says how within and between them.
CHASE_TIERS = {tier.value: tier for tier in Lateness}
CHASE_SORTS = {"late": "most days late first", "authority": "by authority",
               "campaign": "by campaign"}


@dataclass(frozen=True)
class ChaseChoices:
    """What the chase list's filters ask for, as its links keep them."""

    campaign: str = ""
    due_soon: bool = False
    tier: str = ""
    quiet: int | None = None  # not chased for at least this many days
    sort: str = "late"

    def args(self) -> dict[str, Any]:
        """The query string's values: none for a choice left as it starts."""
        return {"campaign": self.campaign or None, "due_soon": "1" if self.due_soon else None,
                "lateness": self.tier or None,
                "quiet": self.quiet if self.quiet is not None else None,
                "sort": self.sort if self.sort != "late" else None}


@dataclass
class ChaseList:
    """The chase list as the page's choices ask for it: the rows, ordered and grouped, each
    authority's FOI address, what is wrong with the choices, the campaigns one may choose
    from, and the key the rows are kept under."""

    rows: list[service.ChaseRow]
    addresses: dict[str, str]
    problem: str | None
    campaigns: list[Any]
    choices: ChaseChoices
    kept: tuple[Any, ...] = ()
    # The researcher's own deadlines coming up (a review to ask for, the Commissioner, an
    # appeal), whatever the filters: they are not late requests but rights about to lapse.
    reminders: tuple[service.ReminderRow, ...] = ()


def _chase_choices() -> tuple[ChaseChoices, list[str]]:
    """The chase list's choices from the query string, and what is wrong with them."""
    problems = []
    tier = request.args.get("lateness", "")
    if tier and tier not in CHASE_TIERS:
        problems.append(f"lateness: {tier!r} is not a tier; choose {', '.join(CHASE_TIERS)}")
        tier = ""
    quiet_text = request.args.get("quiet", "").strip()
    quiet = None
    if quiet_text:
        if quiet_text.isdigit() and int(quiet_text) <= 3650:
            quiet = int(quiet_text)
        else:
            problems.append(f"quiet: {quiet_text!r} is not a number of days from 0 to 3650")
    sort = request.args.get("sort") or "late"
    if sort not in CHASE_SORTS:
        problems.append(f"sort: {sort!r} is not an order; choose {', '.join(CHASE_SORTS)}")
        sort = "late"
    return ChaseChoices(request.args.get("campaign", ""), request.args.get("due_soon") == "1",
                        tier, quiet, sort), problems


def ordered_chase_rows(rows: list[service.ChaseRow], sort: str) -> list[service.ChaseRow]:
    """``rows`` (most late first) grouped by campaign, in ``sort``'s order: by days late, the
    campaign with the latest request first and its requests most late first; by campaign, the
    campaigns by title, each most late first; by authority, the campaigns by title, each by
    authority name."""
    if sort == "late":
        first: dict[str, int] = {}
        for number, row in enumerate(rows):
            first.setdefault(row.campaign_slug, number)
        return sorted(rows, key=lambda row: first[row.campaign_slug])
    by_campaign = sorted(rows, key=lambda row: (row.campaign_title.casefold(), row.campaign_slug))
    if sort == "campaign":
        return by_campaign
    return sorted(by_campaign, key=lambda row: (row.campaign_title.casefold(), row.campaign_slug,
                                                row.authority_name.casefold()))


def _chase_part(regimes: dict[str, Regime], campaign: Any, rows: list[service.RequestRow]
                ) -> tuple[list[service.ChaseRow], list[service.ReminderRow]]:
    """One campaign's late rows (due soon too) and the requester's deadlines coming up, from
    its rows and its authorities' Acts."""
    names = {campaign.id: (campaign.slug, campaign.title)}
    return (service.late_rows(rows, names, today(), include_due_soon=True),
            service.reminder_rows(rows, names, regimes, today()))


def _chase_rows() -> ChaseList:
    """Every late request of the campaigns asked for, as the page's choices say."""
    session = db_session()
    campaigns = campaign_service.list_campaigns(session, visible_campaigns())
    choices, problems = _chase_choices()
    try:
        targets = service.chase_campaigns(campaigns, choices.campaign or None)
    except NotFound as error:
        return ChaseList([], {}, str(error), campaigns, choices)
    if problems:
        return ChaseList([], {}, "; ".join(problems), campaigns, choices)
    names = {c.id: (c.slug, c.title) for c in targets}
    # Before the rows, so they are no older; a write to a campaign not listed leaves them.
    # (Authorities' addresses are in the registry scope, which every campaign's version has.)
    version = data_version.of_campaigns(session, names)

    def build() -> tuple[list[service.ChaseRow], dict[str, str], list[service.ReminderRow]]:
        # Each campaign's rows, and its late rows and reminders, are kept on their own: a write
        # to one works out its part alone, and the list is the parts merged.
        every = campaign_rows.rows_of(session, list(names))
        # One query for every campaign's authorities; their Acts are in the registry, whose
        # version each campaign's rows (and so its part) are kept under.
        regimes = service.authority_regimes(
            session, {row.authority_slug for rows in every.values() for row in rows})
        parts = campaign_rows.derived_of(session, targets, "chase",
                                         partial(_chase_part, regimes))
        rows = service.late_rows_merged([parts[c.id][0] for c in targets], today())
        reminders = service.reminder_rows_merged([parts[c.id][1] for c in targets])
        return (rows, service.foi_addresses(session, {row.authority_slug for row in rows}),
                reminders)

    # One entry for every choice of campaigns, due soon or not: the page only filters it.
    key = ("chase rows and addresses", tuple(sorted(names)), today(), clock_settings())
    rows, addresses, reminders = page_cache.of(current_app.extensions).get(version, key, build)
    if choices.tier:
        rows = [row for row in rows if row.lateness.value == choices.tier]
    elif not choices.due_soon:
        rows = [row for row in rows if row.lateness is not Lateness.due_soon]
    if choices.quiet is not None:
        since = today() - dt.timedelta(days=choices.quiet)
        rows = [row for row in rows if row.last_chased is None or row.last_chased <= since]
    return ChaseList(ordered_chase_rows(rows, choices.sort), addresses, None, campaigns, choices,
                     (version, (*key, *choices.args().items())), tuple(reminders))


@blueprint.get("/chase")
def chase() -> Any:
    """The late requests, grouped by campaign, a page at a time (the CSV has them all), with
    tick boxes for what to do about them."""
    found = _chase_rows()
    problem = found.problem
    try:
        page = paginate(found.rows, request.args.get("page"))
    except BadPage as error:
        problem, page = str(error), paginate([], None)

    def chase_table(can_tick: bool) -> Markup:
        def draw() -> Markup:
            return Markup(render_template("requests/_chase_table.html", page=page,
                                          addresses=found.addresses, can_tick=can_tick))
        if not found.kept or problem:
            return draw()
        # The rows as HTML, kept like the rows themselves.
        version, key = found.kept
        return page_cache.of(current_app.extensions).get(
            version, (*key, "table", page.number, can_tick), draw)

    actions = ChaseListForm(formdata=None)
    actions.occurred_on.data = today()
    # The list with its filters, to come back to after acting on it: from its first page, as
    # the rows acted on may have left it.
    query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "page"])
    actions.back.data = url_for("requests.chase") + (f"?{query}" if query else "")
    return render_template("requests/chase.html", page=page, problem=problem,
                           campaigns=found.campaigns, chase_table=chase_table,
                           choices=found.choices, tiers=list(Lateness), sorts=CHASE_SORTS,
                           today=today(), actions=actions, reminders=found.reminders,
                           reminder_days=REMINDER_WORKING_DAYS,
                           settings=mail.settings_from(current_app.config)), \
        (400 if problem else 200)


@blueprint.get("/chase.csv")
def chase_csv() -> Any:
    found = _chase_rows()
    if found.problem:
        abort(404)
    out = io.StringIO()
    out.write("\ufeff")
    write_csv(found.rows, out)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="chase-list-{today().isoformat()}.csv"'
    })


def _chase_back(asked: str | None) -> str:
    """The chase list's address the form came from (with its filters), or the list: never
    another site or page."""
    home = url_for("requests.chase")
    parts = urlsplit(asked or "")
    if parts.scheme or parts.netloc or parts.path != home:
        return home
    return f"{home}?{parts.query}" if parts.query else home


NOTHING_TICKED = "tick at least one request; nothing was done"


@blueprint.post("/chase/actions")
def chase_actions() -> Any:
    """The chase list's buttons, for the ticked requests: email each a chaser (as a campaign's
    chase page does), or record on each that a chaser went or a response came (all or none)."""
    session = db_session()
    form = ChaseListForm()
    back = _chase_back(form.back.data)
    picked = service.requests_of(session, form.requests.data or (),
                                 membership.visible_request_clause(current_user, today())) \
        if form.validate_on_submit() else []
    if not picked:
        # Ticked nothing, or only requests this user may not see (as if there were none).
        errors = form.errors or {"requests": [NOTHING_TICKED]}
        for name, messages in errors.items():
            label = form[name].label.text if name in form else name
            flash(f"Nothing was done. {label}: {'; '.join(messages)}", "error")
        return redirect(back)
    if form.action.data == "email":
        return _email_chasers(session, picked, back)
    occurred_on = form.occurred_on.data
    assert occurred_on is not None  # the form refuses an event without a date
    kind = form.action.data or ""
    try:
        events = service.bulk_add_event(session, actor(), picked, kind, occurred_on,
                                        today=today(), note=form.note.data,
                                        outcome=form.outcome.data or None)
    except Invalid as error:
        session.rollback()
        for problem in error.problems:
            # A per-request problem names its authority; one about a field, the field.
            field = problem.field or ""
            label = f"{form[field].label.text}: " if field in ("outcome", "occurred_on", "note") \
                else ""
            flash(f"Nothing was recorded. {label}{problem.message}", "error")
        return redirect(back)
    session.commit()
    flash(f"Recorded {events[0].kind.label.lower()} on {long_date(occurred_on)} for "
          f"{len(events)} {'request' if len(events) == 1 else 'requests'}: "
          f"{', '.join(f'{r.authority.name} ({r.campaign.slug})' for r in picked)}.", "success")
    return redirect(back)


def _email_chasers(session: Any, picked: list[Any], back: str) -> Any:
    """A chase job for the ticked requests alone, through the service a campaign's chase page
    uses; answered with its progress page."""
    campaigns = {r.campaign_id for r in picked}
    job, skipped = jobs.chase(session, actor(), mail.settings_from(current_app.config), today(),
                              clock_settings(), picked[0].campaign if len(campaigns) == 1 else None,
                              request_ids={r.id for r in picked})
    if job is None:
        session.rollback()
        flash(chase_summary([], skipped), "error")
        return redirect(back)
    chased = [f"{m.request.authority.name} ({m.request.campaign.slug})"
              for m in jobs.messages_of(session, job) if m.request is not None]
    session.commit()  # the job goes to the queue once this commits
    flash(chase_summary(chased, skipped), "success")
    return redirect(url_for("jobs.detail", job_id=job.id))
