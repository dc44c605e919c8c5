from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

# types-WTForms describes WTForms 3.2; SelectChoice came in 3.3.
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]

from foitrack.domain.email_addresses import email_key
from foitrack.domain.roll_forward import wording_diff
from foitrack.domain.tilemap import TileMap
from foitrack.domain.timeline import Status
from foitrack.errors import Conflict, Invalid, NotFound
from foitrack.models import MessageKind
from foitrack.services import audit, data_version, mail, membership
from foitrack.services import authorities as authority_service
from foitrack.services import campaigns as service
from foitrack.services import requests as request_service
from foitrack.services.campaign_tasks import CampaignTasks, campaign_tasks
from foitrack.web import campaign_rows, page_cache
from foitrack.web.context import actor, clock_settings, db_session, today, visible_campaigns
from foitrack.web.formatting import long_date
from foitrack.web.forms import form_status, show_problems
from foitrack.web.forms.campaigns import (
    AddAuthoritiesForm,
    BulkEventForm,
    CampaignEditForm,
    CampaignForm,
    MemberForm,
    RemoveMemberForm,
    RepeatForm,
)
from foitrack.web.views import requests_table
from foitrack.web.views.lookups import campaign_or_404
from foitrack.web.views.paging import BadPage, Page, paginate
from foitrack.web.views.request_list import list_args
from foitrack.web.views.tilemaps import campaign_map

blueprint = Blueprint("campaigns", __name__, url_prefix="/campaigns")



def _authority_choices(exclude: set[int] | None = None) -> list[SelectChoice]:
    return [
        SelectChoice(a.slug, f"{a.name}{'' if a.active else ' (inactive)'}")
        for a in authority_service.find_authorities(db_session())
        if not exclude or a.id not in exclude
    ]


@blueprint.get("/")
def index() -> Any:
    session = db_session()
    found = service.list_campaigns(session, visible_campaigns())
    # Each campaign's progress kept with its rows: a write to one works out that one again.
    progress = campaign_rows.derived_of(
        session, found, "progress",
        lambda _campaign, rows: request_service.progress(request_service.counted_states(rows)))
    return render_template("campaigns/index.html", campaigns=found, progress=progress)


@blueprint.route("/new", methods=["GET", "POST"])
def new() -> Any:
    session = db_session()
    form = CampaignForm()
    form.target_set.choices = [SelectChoice("", "(pick authorities below)")] + [
        SelectChoice(s.slug, f"{s.slug}: {s.title} ({count})")
        for s, count in authority_service.list_sets(session)
    ]
    form.authorities.choices = _authority_choices()
    if form.validate_on_submit():
        try:
            campaign = service.create_campaign(
                session, actor(), title=form.title.data or "", slug=form.slug.data,
                subject=form.subject.data, request_text=form.request_text.data or "",
                set_slug=form.target_set.data or None, authority_keys=form.authorities.data or [],
                owner=current_user._get_current_object(),
                embargo_until=form.embargo_until.data, notes=form.notes.data,
            )
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            flash(f"Campaign created with {len(campaign.requests)} requests, none sent yet. "
                  "Pilot it by marking a few as sent, then send the rest.", "success")
            return redirect(url_for("campaigns.detail", slug=campaign.slug))
    return render_template("campaigns/new.html", form=form), form_status(form)


@dataclass(frozen=True)
class _CampaignRows:
    """What the campaign page derives from every request, kept until the data change."""

    version: data_version.Version
    rows: list[request_service.RequestRow]
    progress: request_service.Progress
    tile_map: TileMap
    # The map drawn: it lists every authority off the map too, 400 lines in a large campaign.
    map_html: Markup


def _campaign_rows(campaign: Any) -> _CampaignRows:
    session = db_session()
    version = data_version.of_campaigns(session, [campaign.id])  # before the data: no older

    def build() -> _CampaignRows:
        # The rows on their own are kept apart (the chase list and the dashboard read them too).
        rows = campaign_rows.rows_of(session, [campaign.id])[campaign.id]
        tile_map = campaign_map(campaign.slug, rows)
        draw = get_template_attribute("_tilemap.html", "tile_map")
        return _CampaignRows(version, rows, request_service.progress(
                             request_service.counted_states(rows)), tile_map,
                             Markup(draw(tile_map, MAP_CAPTION, id="status-map")))

    return page_cache.of(current_app.extensions).get(
        version, ("campaign", campaign.id, today(), clock_settings()), build)


def _open_findings_by_authority(campaign: Any, version: Any) -> Mapping[str, int]:
    return campaign_rows.open_findings_by_authority(campaign, version)


def _open_findings(campaign: Any, version: Any) -> int:
    """How many consistency findings are open."""
    return sum(_open_findings_by_authority(campaign, version).values())


def _tasks(campaign: Any, derived: _CampaignRows, findings: int) -> CampaignTasks:
    """The campaign's stages and the one it is at, kept like the rows: one query of its
    figures when built, none after."""
    return page_cache.of(current_app.extensions).get(
        derived.version, ("campaign tasks", campaign.id, today(), clock_settings()),
        lambda: campaign_tasks(db_session(), campaign, derived.rows, findings=findings))


@dataclass(frozen=True)
class _Letter:
    """The request message as one authority of the campaign would receive it."""

    authority_slug: str | None  # None for the placeholder authority
    authority_name: str
    subject: str | None  # None when the wording cannot be written out
    body: str  # or why it cannot be written out


def _letter(campaign: Any, row: request_service.RequestRow | None) -> _Letter:
    """What ``row``'s authority receives: the message the send composes for its request
    (subject with its reference token, body in the campaign's request wording), so the page
    shows what will be sent. With no request yet, the request text written out for the
    placeholder authority, as the campaign form checks it."""
    session = db_session()
    if row is None:
        version = campaign.current_version
        name = service.template_context(None)["authority"].name
        return _Letter(None, name, version.subject, service.shown_text(version.request_text, None))
    found = request_service.get_request(session, campaign.slug, row.authority_slug)
    try:
        subject, body = mail.compose(session, found, MessageKind.request, today(), clock_settings())
    except Invalid as error:  # a wording saved before the template limits: say why
        return _Letter(row.authority_slug, row.authority_name, None, service.cannot_write_out(error))
    return _Letter(row.authority_slug, row.authority_name, subject, body)


def _first_letter(campaign: Any, derived: _CampaignRows) -> _Letter:
    """The first authority's letter, which every load of the page shows, kept like the rows:
    the wording, the campaign's mail templates and its requests change the campaign's data
    version, the authorities the registry's. Another authority's is written out when asked
    for, so previewing many cannot push the page's heavier values out of the cache."""
    return page_cache.of(current_app.extensions).get(
        derived.version, ("campaign letter", campaign.id, today(), clock_settings()),
        lambda: _letter(campaign, derived.rows[0] if derived.rows else None))


MAP_CAPTION = "Each force's request, by status. The table below lists every request, a page at a time."


@dataclass(frozen=True)
class _Listing:
    """The requests table as the query string asks for it: a page of the rows its filter,
    search and order show, what is wrong with what was asked, and each filter's count."""

    choices: requests_table.TableChoices
    page: Page[request_service.RequestRow]
    problem: str | None
    filters: list[requests_table.FilterOption]

    @property
    def offered_filters(self) -> list[requests_table.FilterOption]:
        """The filters the menu offers: those that show something, and the one chosen."""
        return [option for option in self.filters
                if option.count or option.value == self.choices.shown]


def _requests_listing(campaign: Any, derived: _CampaignRows, values: Mapping[str, str]) -> _Listing:
    """The requests table's rows, filtered, searched and sorted in Python over the kept rows
    (and the kept open findings): no query however the table is asked for."""
    findings = _open_findings_by_authority(campaign, derived.version)
    choices, problems = requests_table.read_choices(values)
    rows = [] if problems else requests_table.listed(derived.rows, choices, findings)
    try:
        page = paginate(rows, None if problems else values.get("page"))
    except BadPage as error:
        problems, page = [str(error)], paginate([], None)
    return _Listing(choices, page, "; ".join(problems) or None,
                    requests_table.filter_options(derived.rows, findings))


def _requests_table(campaign: Any, derived: _CampaignRows,
                    listing: _Listing) -> Callable[[bool], Markup]:
    """The template's ``requests_table(can_bulk)``: the page of rows as HTML."""
    choices, page = listing.choices, listing.page

    def table(can_bulk: bool) -> Markup:
        def draw() -> Markup:
            # The filter goes with each request's link, where that page follows it: its next
            # and previous force follow the same list (web/views/request_list.py).
            return Markup(render_template(
                "campaigns/_requests_table.html", campaign=campaign, page=page,
                can_bulk=can_bulk, choices=choices, sorts=requests_table.SORTS,
                row_args=list_args(choices.shown)))
        # An empty page is not the one its key would name. A search or another order is drawn
        # each time (from the kept rows): kept, the endless searches one can type, and every
        # order of every filter, would push the page's heavier values out of the cache.
        if listing.problem or choices.search or choices.sort != requests_table.DEFAULT_SORT \
                or choices.order != requests_table.ASCENDING:
            return draw()
        # The rows as HTML, kept like the rows themselves: most loads are of the same pages.
        return page_cache.of(current_app.extensions).get(
            derived.version, ("campaign table", campaign.id, today(), clock_settings(),
                              choices.shown, page.number, can_bulk), draw)

    return table


@blueprint.get("/<slug>")
def detail(slug: str) -> Any:
    """The campaign and a page of its requests; the counts and map cover every request."""
    session = db_session()
    campaign = campaign_or_404(slug)
    derived = _campaign_rows(campaign)
    listing = _requests_listing(campaign, derived, request.args)
    bulk = BulkEventForm(formdata=None)
    bulk.occurred_on.data = today()
    # The letter, for the first authority or the one picked (by slug or code) to preview.
    preview = request.args.get("preview", "")
    letter_problem = None
    picked = next((row for row in derived.rows
                   if preview in (row.authority_slug, row.authority_code)), None) if preview else None
    if preview and picked is None:
        letter_problem = (f"No request of this campaign goes to {preview!r}: choose an "
                          "authority from the list.")
    letter = _letter(campaign, picked) if picked else _first_letter(campaign, derived)

    findings = _open_findings(campaign, derived.version)
    return render_template(
        "campaigns/detail.html", campaign=campaign, page=listing.page, progress=derived.progress,
        requests_table=_requests_table(campaign, derived, listing), listing=listing,
        tasks=_tasks(campaign, derived, findings),
        shown=listing.choices.shown, statuses=list(Status),
        problem=listing.problem, bulk=bulk, history=audit.history(session, "campaign", campaign.id),
        letter=letter, letter_problem=letter_problem,
        letter_choices=derived.rows, tile_map=derived.tile_map,
        map_html=derived.map_html, open_findings=findings,
    ), (400 if listing.problem or letter_problem else 200)


def _back_to_table(campaign: Any, values: Mapping[str, str]) -> str:
    """The campaign page's requests table as the bulk form's hidden fields say it was shown:
    its filter, search, order and page (a choice that is not one is left out), on its last
    page if the action shortened the list below the page it was on."""
    choices, _ = requests_table.read_choices(values)
    asked = values.get("page", "").strip()
    number = int(asked) if asked.isdigit() and 1 < int(asked) < 100_000 else None
    if number is not None:
        session = db_session()
        rows = campaign_rows.rows_of(session, [campaign.id])[campaign.id]
        findings: Mapping[str, int] = {}
        if choices.shown == requests_table.FINDINGS:
            version = data_version.of_campaigns(session, [campaign.id])
            findings = _open_findings_by_authority(campaign, version)
        pages = paginate(requests_table.listed(rows, choices, findings), None).pages
        number = min(number, pages) if pages > 1 else None
    # Built by url_for from checked values: the redirect stays on this site, whatever was posted.
    return url_for("campaigns.detail", slug=campaign.slug, **choices.args(), page=number,
                   _anchor="requests")


@blueprint.post("/<slug>/bulk")
def bulk(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    requests = request_service.campaign_requests(session, campaign)
    form = BulkEventForm()
    form.requests.choices = [SelectChoice(r.authority.slug, r.authority.name) for r in requests]
    problems: list[str] = []
    if form.validate_on_submit():
        chosen = set(form.requests.data or [])
        picked = [r for r in requests if r.authority.slug in chosen]
        occurred_on = form.occurred_on.data
        assert occurred_on is not None  # DataRequired: the form refused a missing date
        try:
            events = request_service.bulk_add_event(
                session, actor(), picked, form.kind.data or "", occurred_on,
                today=today(), note=form.note.data,
            )
        except Invalid as error:
            session.rollback()
            problems = [problem.message for problem in error.problems]
        else:
            session.commit()
            flash(f"Recorded {form.kind.data.replace('_', ' ')} on {long_date(occurred_on)} for "
                  f"{len(events)} {'request' if len(events) == 1 else 'requests'}.", "success")
            return redirect(_back_to_table(campaign, request.form))
    else:
        problems = [f"{form[name].label.text}: {'; '.join(errors)}"
                    for name, errors in form.errors.items()]
    for problem in problems:
        flash(f"Nothing was recorded. {problem}", "error")
    return redirect(_back_to_table(campaign, request.form))


@blueprint.route("/<slug>/edit", methods=["GET", "POST"])
def edit(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    form = CampaignEditForm()
    if not form.is_submitted():
        form.process(obj=campaign)
        form.status.data = campaign.status.value
        form.subject.data = campaign.current_version.subject
        form.request_text.data = campaign.current_version.request_text
    if form.validate_on_submit():
        try:
            before = campaign.current_version.number
            changes = {
                "title": form.title.data, "status": form.status.data,
                "embargo_until": form.embargo_until.data, "notes": form.notes.data,
                "send_on": form.send_on.data,
            }
            if form.cadence_months.data is not None:  # left empty: as it was
                changes["cadence_months"] = form.cadence_months.data
            service.update_campaign(session, actor(), campaign, changes, by=current_user)
            version = service.update_wording(
                session, actor(), campaign, subject=form.subject.data or "",
                request_text=form.request_text.data or "",
            )
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            note = f" The wording is now version {version.number}." if version.number != before else ""
            flash(f"Saved the campaign.{note}", "success")
            return redirect(url_for("campaigns.detail", slug=campaign.slug))
    return render_template("campaigns/edit.html", form=form, campaign=campaign), form_status(form)


@blueprint.route("/<slug>/repeat", methods=["GET", "POST"])
def repeat(slug: str) -> Any:
    """Next year's campaign: the periods and wording moved on, the wording shown as a diff
    for the researcher to accept or edit."""
    session = db_session()
    source = campaign_or_404(slug)
    proposal = service.propose_repeat(source)
    form = RepeatForm()
    if not form.is_submitted():
        form.title.data, form.slug.data = proposal.title, proposal.slug
        form.request_text.data = proposal.wording.text
    # A browser sends a textarea's lines ending in CR LF: compared and kept as typed, in LF.
    typed = (form.request_text.data or "").replace("\r\n", "\n").strip() or None
    if form.validate_on_submit():
        try:
            campaign = service.repeat_campaign(
                session, actor(), source, title=form.title.data or "", slug=form.slug.data,
                owner=current_user._get_current_object(), today=today(),
                request_text=typed, send_on=form.send_on.data,
            )
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            flash(f"Created {campaign.title}, a repeat of {source.title}.", "success")
            return redirect(url_for("campaigns.detail", slug=campaign.slug))
    return render_template(
        "campaigns/repeat.html", form=form, campaign=source, proposal=proposal,
        diff=wording_diff(source.current_version.request_text, typed or proposal.wording.text),
    ), form_status(form)


@blueprint.route("/<slug>/authorities", methods=["GET", "POST"])
def add_authorities(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    present = {r.authority_id for r in request_service.campaign_requests(session, campaign)}
    form = AddAuthoritiesForm()
    form.authorities.choices = _authority_choices(exclude=present)
    if form.validate_on_submit():
        try:
            added = service.add_authorities(session, actor(), campaign, form.authorities.data or [])
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            flash(f"Added {len(added)} authorities.", "success")
            return redirect(url_for("campaigns.detail", slug=campaign.slug))
    return render_template("campaigns/add_authorities.html", form=form, campaign=campaign), \
        form_status(form)


@blueprint.route("/<slug>/members", methods=["GET", "POST"])
def members(slug: str) -> Any:
    """Who may see the campaign while it is under embargo; its owner and admins choose."""
    session = db_session()
    campaign = campaign_or_404(slug)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            membership.add_member(session, actor(), current_user, campaign, form.email.data or "")
        except (Invalid, Conflict) as error:
            session.rollback()
            if isinstance(error, Invalid):
                show_problems(form, error)
            else:
                form.email.errors = [*form.email.errors, str(error)]
        else:
            session.commit()
            flash(f"{email_key(form.email.data)} may now see this campaign.", "success")
            return redirect(url_for("campaigns.members", slug=slug))
    return render_template(
        "campaigns/members.html", campaign=campaign, form=form, remove=RemoveMemberForm(formdata=None),
        members=membership.members(session, campaign), manage=membership.can_manage(current_user, campaign),
    ), form_status(form)


@blueprint.post("/<slug>/members/remove")
def remove_member(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    form = RemoveMemberForm()
    if not form.validate_on_submit() or not (form.user_id.data or "").isdigit():
        abort(400)
    try:
        gone = membership.remove_member(session, actor(), current_user, campaign, int(form.user_id.data or 0))
    except NotFound as error:
        session.rollback()
        flash(f"Nobody was removed: {error}.", "error")
    else:
        session.commit()
        flash(f"{gone.email} is no longer a member.", "success")
    return redirect(url_for("campaigns.members", slug=slug))
