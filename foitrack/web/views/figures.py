from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import (
    Blueprint,
    Response,
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

from foitrack.domain import edit_merge
from foitrack.domain.design import CampaignDesign, Design, DesignCell
from foitrack.domain.phrasing import rates_table_note
from foitrack.errors import Conflict, Forbidden, Invalid, NotFound
from foitrack.exporters import charts
from foitrack.services import (
    aggregate,
    audit,
    data_version,
    design_form,
    inbound,
    page_data,
    proposals,
    withdrawals,
)
from foitrack.services import design as design_service
from foitrack.services import figures as service
from foitrack.services import reference_figures as references
from foitrack.services import requests as request_service
from foitrack.services.authorities import list_sets
from foitrack.services.campaigns import get_campaign
from foitrack.services.locks import hold_request
from foitrack.storage import safe_filename
from foitrack.web import page_cache
from foitrack.web.context import actor, clock_settings, db_session, sees, today, visible_campaigns
from foitrack.web.downloads import snapshot_download, write_text
from foitrack.web.formatting import thousands
from foitrack.web.forms import form_status
from foitrack.web.forms.design import (
    ADD_LABELS,
    EXAMPLE_NAME,
    ROW_NOUNS,
    DataDesignForm,
    DesignPage,
    change_rows,
    label_rows,
    read_design,
    show_rows,
)
from foitrack.web.forms.figures import FigureGridForm, FiguresImportForm
from foitrack.web.render_budget import refused_render
from foitrack.web.views.checks import flash_warnings
from foitrack.web.views.lookups import campaign_or_404, request_or_404
from foitrack.web.views.mail import VIEWABLE
from foitrack.web.views.request_list import Place, list_args, next_page, place_of
from foitrack.web.views.tilemaps import aggregate_map, map_key

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from foitrack.models import Campaign

blueprint = Blueprint("figures", __name__, url_prefix="/campaigns/<slug>")



def _user() -> Any:
    return current_user._get_current_object()


# ---- the data design ----------------------------------------------------------------------

@blueprint.route("/design", methods=["GET", "POST"])
def design(slug: str) -> Any:
    """The data design: a form of rows, and the same design as TOML ("advanced"); either saves
    through the one check and save the campaign file's design goes through."""
    session = db_session()
    campaign = campaign_or_404(slug)
    form = DataDesignForm()
    page = DesignPage()
    if not form.is_submitted():
        if campaign.measures:
            data = design_service.design_dict(campaign)
        else:
            # Never a blank box: the last campaign's design, or the example. Nothing is saved.
            data, source = design_form.starting_design(session, campaign, visible_campaigns())
            page.started_from = f"the design of {source}" if source else EXAMPLE_NAME
            page.toml_open = True  # a researcher with a campaign file pastes it here
        show_rows(form, design_form.rows_of(data))
        form.version.data = str(campaign.design_version)
        form.base.data = design_service.design_toml(campaign).lstrip("\n")
    else:
        label_rows(form)
        action = request.form.get("action", "save")  # "save" too when Enter was pressed
        if not form.validate_on_submit():
            pass  # the CSRF token expired: shown as typed, with the summary saying so
        elif action != "save":
            change_rows(form, action, page)
        elif (spec := read_design(form, page)) and _save_design(session, campaign, form, spec,
                                                                page):
            flash("Saved the data design.", "success")
            return redirect(url_for("figures.design", slug=slug))
    their_change: list[str] = []
    if page.changed is not None:
        # Theirs: from the design this user loaded to the one saved meanwhile. What this user
        # typed stays in the form; it is re-based, so saving again means "keep mine".
        current = design_service.design_toml(campaign).lstrip("\n")
        their_change = list(difflib.unified_diff(
            (form.base.data or "").replace("\r\n", "\n").splitlines(), current.splitlines(),
            "as you opened it", "as saved meanwhile", lineterm=""))
        form.version.data, form.base.data = str(page.changed.current), current
    return render_template("figures/design.html", campaign=campaign, form=form,
                           problems=page.problems, links=page.links, changed=page.changed,
                           their_change=their_change, started_from=page.started_from,
                           toml_open=page.toml_open, sections=ROW_NOUNS, add_labels=ADD_LABELS), (
        409 if page.changed is not None
        else form_status(form, page.problems + [text for _, text in page.links]))


def _save_design(session: Session, campaign: Campaign, form: DataDesignForm, spec: Design,
                 page: DesignPage) -> bool:
    """Save ``spec`` over the version the form was loaded at; False, with why on ``page``."""
    if not (form.version.data or "").isdigit():
        # Without the version it was loaded at, a save cannot tell whether it would undo a
        # colleague's change: refused, not taken as "nothing changed meanwhile".
        page.problems = ["Nothing was saved: the form did not say which version of the design "
                         "it was loaded at. Copy your design, reload the page and save again."]
        return False
    try:
        design_service.save_design(session, actor(), campaign, spec, int(form.version.data or 0))
    except design_service.DesignChanged as error:
        session.rollback()
        page.changed = error
        return False
    except Conflict as error:
        session.rollback()
        page.problems = [str(error)]
        return False
    session.commit()
    return True


@blueprint.get("/campaign.toml")
def campaign_file(slug: str) -> Any:
    found = campaign_or_404(slug)
    text = design_service.campaign_file(db_session(), found, sees(found.repeat_of))
    return Response(text, mimetype="application/toml", headers={
        "Content-Disposition": f'attachment; filename="{slug}.toml"'})


# ---- entering figures ---------------------------------------------------------------------


def _cell_name(measure_id: int, period_id: int, category_id: int | None) -> str:
    return f"cell-{measure_id}-{period_id}-{category_id or 0}"


@dataclass(frozen=True)
class _GridCell:
    """One cell of the grid: its form field, the key of its figure and the page's label."""

    name: str
    key: tuple[int, int, int | None]  # (measure id, period id, category id or None)
    label: str
    design: DesignCell


def _grid_cells(campaign: Any) -> list[_GridCell]:
    """The request's cells in the design's one order (the response template's too)."""
    cells = []
    for cell in CampaignDesign.of(campaign).cells():
        # Read from stored rows, so every part has its id.
        key = (int(cell.measure.id or 0), int(cell.period.id or 0),
               cell.category.id if cell.category else None)
        cells.append(_GridCell(_cell_name(*key), key, cell.label, cell))
    return cells


@dataclass
class _GridSubmission:
    """What a grid save came to: the values to show, and why nothing was saved, if it was not."""

    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    conflicts: list[edit_merge.CellConflict] = field(default_factory=list)
    done: bool = False  # saved and committed: redirect


@blueprint.route("/requests/<authority>/figures", methods=["GET", "POST"])
def grid(slug: str, authority: str) -> Any:
    """The request's figures as a grid to type them in; "Save and go to the next force"
    (``then=next``) saves as "Save figures" does, then opens the next request's grid in the
    campaign's list (filtered as ``?status=`` says, when it came from a filtered list)."""
    session = db_session()
    shown = request.args.get("status", "")
    found = request_or_404(slug, authority)
    if request.method == "POST":
        hold_request(session, found)  # before the figures the save is merged with
    existing = service.figures_of(session, found)
    form = FigureGridForm()
    cells = _grid_cells(found.campaign)
    saved = {_cell_name(*key): f.figure_value.text for key, f in existing.items()}
    if form.validate_on_submit():
        outcome = _submit_grid(session, found, form, cells, existing, saved)
        if outcome.done:
            if request.form.get("then") == "next":
                return redirect(next_page("figures.grid", found, shown))
            return redirect(url_for("figures.grid", slug=slug, authority=authority,
                                    **list_args(shown)))
    else:
        outcome = _GridSubmission(values=dict(saved))
    # What each cell held when the form was shown: re-based to now after a conflict, so that
    # saving again means "keep mine" knowingly.
    return _draw_grid(session, found, form, cells, existing, outcome, bases=dict(saved),
                      place=place_of(found, shown))


def _submit_grid(session: Any, found: Any, form: FigureGridForm, cells: list[_GridCell],
                 existing: dict[tuple[int, int, int | None], Any],
                 saved: dict[str, str]) -> _GridSubmission:
    """Merge the form's cells with what was saved meanwhile, then save them if nothing clashed.

    The form carries each cell with what it held when shown (``base-<cell>``). A cell carried
    without that would be merged as if nobody had changed it meanwhile, overwriting a
    colleague's figure unseen: such a save is refused (issue 23, point 13). A cell it does not
    carry at all (added to the design since the page was drawn) keeps its figure.
    """
    carried = [c.name for c in cells if c.name in request.form]
    based = [name for name in carried if f"base-{name}" in request.form]
    unbased = [name for name in carried if f"base-{name}" not in request.form]
    if unbased or not based:
        form.form_errors.append(
            f"Nothing was saved: the form did not carry what {len(unbased) or 'its'} "
            f"{'cell' if len(unbased) == 1 else 'cells'} held when the page was drawn (the "
            "base-… fields), so a colleague's change made meanwhile would have been overwritten "
            "unseen. The cells below show the figures saved now; enter your changes again.")
        return _GridSubmission(values=dict(saved))
    bases = {n: request.form.get(f"base-{n}") for n in based}
    merged = edit_merge.merge(bases, {n: _as_typed(request.form.get(n, ""), bases[n])
                                      for n in based}, saved)
    outcome = _GridSubmission(values={**{c.name: saved.get(c.name, "") for c in cells},
                                      **merged.values}, conflicts=merged.conflicts)
    if outcome.conflicts:
        form.form_errors.append(
            f"Nothing was saved: someone else changed {len(outcome.conflicts)} of the cells you "
            "changed while you were editing. Each is shown below with both values; "
            "save again to keep yours.")
        return outcome
    try:
        report = service.save_figures(
            session, actor(), found, _grid_entries(found.campaign, form, cells, outcome.values,
                                                   existing),
            remove_blank=True, user=_user(), existing=existing)
    except Invalid as error:
        session.rollback()
        for problem in error.problems:
            outcome.errors.setdefault(problem.field or "", []).append(problem.message)
        form.form_errors.append(
            f"Nothing was saved: {len(error.problems)} "
            f"{'cell needs' if len(error.problems) == 1 else 'cells need'} correcting.")
        return outcome
    session.commit()
    kept = (f" Kept {len(merged.kept_theirs)} figures someone else changed meanwhile, "
            "which you had left as they were." if merged.kept_theirs else "")
    flash(f"Saved figures for {found.authority.name}: {report.summary()}.{kept}", "success")
    flash_warnings(found.campaign, [found.id])
    outcome.done = True
    return outcome


def _as_typed(shown: str, base: str | None) -> str:
    """A cell posted as the grid showed it ("1,234", thousands added to the saved "1234") is
    the base, left alone: not a change of the user's to merge with a colleague's."""
    return base if base is not None and shown != base and thousands(base) == shown else shown


def _grid_entries(campaign: Any, form: FigureGridForm, cells: list[_GridCell],
                  values: dict[str, str],
                  existing: dict[tuple[int, int, int | None], Any]) -> list[service.Entry]:
    """Every cell as an entry to save, blank ones included (they remove a figure)."""
    # grid_entry takes the design's rows as models; by id from the cells of the design.
    measures = {m.id: m for m in campaign.measures}
    periods = {p.id: p for p in campaign.periods}
    categories = {c.id: c for d in campaign.dimensions for c in d.categories}
    return [service.grid_entry(measures[m], periods[p], categories[c] if c else None,
                               values[cell.name], existing.get(cell.key), form.caveat.data,
                               form.source.data, campaign.suppression_threshold, cell.name)
            for cell in cells for m, p, c in [cell.key]]


def _draw_grid(session: Any, found: Any, form: FigureGridForm, cells: list[_GridCell],
               existing: dict[tuple[int, int, int | None], Any], outcome: _GridSubmission,
               bases: dict[str, str], place: Place) -> Any:
    """The grid page, with the reply beside it: the messages filed against the request and
    their files, and any other file the figures came from (an imported template)."""
    replies = inbound.filed_messages(session, found.id)
    shown = {a.stored_file_id for m in replies for a in m.attachments}
    source_files = {f.source_file.id: f.source_file for f in existing.values()
                    if f.source_file is not None and f.source_file.id not in shown}
    conflicts = outcome.conflicts
    status = 409 if conflicts else 400 if outcome.errors or form.form_errors else 200
    return render_template(
        "figures/grid.html", req=found, campaign=found.campaign, form=form,
        values=outcome.values, errors=outcome.errors, cell_name=_cell_name, existing=existing,
        checkable=[f for f in existing.values() if not f.checked_by], replies=replies,
        source_files=list(source_files.values()), viewable=VIEWABLE,
        cell_problems=_cell_problems(cells, outcome), bases=bases,
        conflicts={c.name: c for c in conflicts}, place=place,
        withdrawn=withdrawals.withdrawn_figure_ids(session, found.id),
    ), status


def _cell_problems(cells: list[_GridCell], outcome: _GridSubmission) -> list[tuple[str, str]]:
    """Each bad or clashing cell, named for the error summary that links to it (GOV.UK's
    pattern)."""
    labels = {cell.name: cell.label for cell in cells}
    named = [(name, f"{labels.get(name, name)}: {message}")
             for name, messages in outcome.errors.items() for message in messages]
    return named + [(c.name, f"{labels.get(c.name, c.name)}: you typed {c.mine or '(empty)'}; "
                     f"saved meanwhile: {c.theirs or '(empty)'}") for c in outcome.conflicts]


@blueprint.get("/requests/<authority>/figures/<int:figure_id>")
def figure(slug: str, authority: str, figure_id: int) -> Any:
    """One figure: as given, where it came from, who entered and checked it, and its history."""
    session = db_session()
    found = request_or_404(slug, authority)
    shown = service.get_figure(session, figure_id)
    if shown.request_id != found.id:
        abort(404)
    return render_template("figures/figure.html", req=found, campaign=found.campaign, figure=shown,
                           history=audit.history(session, "figure", shown.id),
                           read_from=proposals.read_from(session, [shown.id]).get(shown.id))


@blueprint.post("/requests/<authority>/figures/check")
def check(slug: str, authority: str) -> Any:
    session = db_session()
    found = request_or_404(slug, authority)
    form = FigureGridForm()
    if form.validate_on_submit():
        # A grid save or import of this request meanwhile waits: the figures marked are those
        # saved now, not ones changed or removed between this read and the write.
        hold_request(session, found)
        # The values the checker's page showed: a number changed since is not checked unseen.
        seen = {int(name[5:]): value for name, value in request.form.items()
                if name.startswith("seen-") and name[5:].isdigit()}
        try:
            count = service.check_figures(session, actor(), service.figures_of(session, found).values(),
                                          _user(), seen)
        except (Forbidden, Conflict) as error:
            session.rollback()
            flash(f"Not checked: {error}.", "error")
        else:
            session.commit()
            flash(f"Marked {count} figures checked.", "success")
    return redirect(url_for("figures.grid", slug=slug, authority=authority))


@blueprint.route("/figures/import", methods=["GET", "POST"])
def import_figures(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    form = FiguresImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            report = service.import_csv(session, actor(), campaign, form.file.data.stream, _user())
        except Invalid as error:
            session.rollback()
            problems = [str(p) for p in error.problems]
        else:
            session.commit()
            flash(f"Imported {form.file.data.filename}: {report.summary()}.", "success")
            flash_warnings(campaign, report.request_ids)
            return redirect(url_for("figures.aggregate_page", slug=slug))
    return render_template("figures/import.html", campaign=campaign, form=form, problems=problems,
                           columns=service.CSV_COLUMNS), form_status(form, problems)


@blueprint.get("/figures.csv")
def export_figures(slug: str) -> Any:
    """Read from the cursor into a temporary file (memory stays bounded for a million figures)
    inside one snapshot, then sent: a slow client no longer holds SQLite's read lock, which
    made every save fail while it downloaded (foitrack.web.downloads)."""
    campaign_or_404(slug)

    def build(session: Any, out: Any) -> None:
        # A session of its own (the snapshot's), closed before the first byte is sent.
        write_text(["\ufeff"], out)
        write_text(service.iter_csv(service.export_tuples(session, get_campaign(session, slug))),
                   out)

    return snapshot_download(build, f"{slug}-figures.csv", "text/csv")


# ---- the aggregate, the release and the fact sheets -----------------------------------------

def _built(campaign: Any, subset: str | None = None, checked: bool = False) -> page_data.Built:
    """The aggregate and charts for a choice of authorities and figures (foitrack.services
    .page_data), kept in this process and, where there is one, the shared cache."""
    return page_data.built(db_session(), page_cache.of(current_app.extensions), campaign, subset,
                           checked)


def _chosen() -> tuple[str | None, bool]:
    return _canonical_subset(_typed_choice() or None), request.args.get("checked") == "1"


def _typed_choice() -> str:
    """The choice of authorities as the form sent it: the typed box and the ticked boxes are
    all ``authorities``, joined into one list (as a single ``?authorities=a,b`` is)."""
    return ",".join(value.strip() for value in request.args.getlist("authorities")
                    if value.strip())


def _one_choice_url() -> str | None:
    """Where a choice sent as several ``authorities`` (the form's boxes) is spelt as one, for
    the links, the map and the charts to read; None if it already is."""
    if len(request.args.getlist("authorities")) < 2:
        return None
    args: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict(flat=False)}
    args["authorities"] = _typed_choice() or None
    return url_for(request.endpoint or "", **args)


@dataclass(frozen=True)
class _ChoiceForm:
    """The aggregate page's choice of authorities: the campaign's asked authorities and the
    sets to tick by name, and the typed box for whatever has no box."""

    authorities: list[tuple[str, str, bool]]  # (slug, name, ticked), by name
    sets: list[tuple[str, str, int, bool]]  # (slug, title, members, ticked)
    typed: str

    @property
    def ticked(self) -> int:
        return sum(on for *_rest, on in self.authorities) + sum(on for *_rest, on in self.sets)


def _choice_form(campaign: Any, typed: str, problem: str | None) -> _ChoiceForm:
    """The boxes ticked for what ``typed`` names; the terms naming an authority not asked (so
    with no box), or the whole choice when it cannot be read, stay in the typed box."""
    session = db_session()
    named: tuple[tuple[str, str, str], ...] = ()
    if typed and problem is None:
        try:
            chosen = aggregate.choose_subset(session, typed)
        except NotFound:  # changed since the aggregate was read: nothing to tick
            chosen = None
        named = chosen.named if chosen is not None else ()
    asked = [(slug, name) for slug, name, _code in aggregate.asked_authorities(session, campaign)]
    boxes = {slug for slug, _name in asked}
    ticked = {(kind, slug) for _term, kind, slug in named}
    left = [term for term, kind, slug in named if kind == "authority" and slug not in boxes]
    return _ChoiceForm(
        [(slug, name, ("authority", slug) in ticked) for slug, name in asked],
        [(s.slug, s.title, count, ("set", s.slug) in ticked) for s, count in list_sets(session)],
        typed if problem else ", ".join(left))


@dataclass(frozen=True)
class _Tables:
    """The aggregate page's long tables as HTML, rendered once per data version."""

    numbers: Markup
    by_authority: Markup



@blueprint.get("/aggregate")
def aggregate_page(slug: str) -> Any:
    campaign = campaign_or_404(slug)
    one_choice = _one_choice_url()
    if one_choice is not None:
        return redirect(one_choice)
    subset, checked = _chosen()
    built = _built(campaign, subset, checked)
    result, problem = built.result, built.problem
    cache = page_cache.of(current_app.extensions)
    key = page_data.aggregate_key(campaign.id, subset, checked)
    # Shared: HTML, built once for every process (a map holds objects, and is cheap).
    tables = cache.get(built.version, (*key, "tables"), lambda: _Tables(
        Markup(render_template("figures/_aggregate_table.html", campaign=campaign, result=result,
                               rate_note=rates_table_note(result.rows))),
        Markup(render_template("figures/_by_authority.html", campaign=campaign, totals=[
            r for r in result.authorities if r.cell.level == "total"]))), shared=True)

    def draw_map() -> tuple[Any, Any, Markup]:
        tile_map, choice = aggregate_map(campaign, result, request.args)
        drawn = Markup("")
        if tile_map is not None and choice is not None and tile_map.any_asked:
            drawn = Markup(get_template_attribute("_tilemap.html", "tile_map")(
                tile_map, choice.caption, id="figure-map", about="figure"))
        return tile_map, choice, drawn

    tile_map, map_choice, map_html = cache.get(
        built.version, (*key, "map", *map_key(campaign, request.args)), draw_map)
    links = _chart_links(built.charts, "figures.aggregate_chart",
                         lambda chart: {"chart": chart.name}, slug=slug, **_selection())
    return render_template("figures/aggregate.html", campaign=campaign, result=result,
                           problem=problem, choice=_choice_form(campaign, _typed_choice(), problem),
                           chosen=_typed_choice(), checked=checked,
                           charts=links, tile_map=tile_map, map_choice=map_choice,
                           map_html=map_html, tables=tables,
                           context=_context_figures(campaign, result)), (400 if problem else 200)


@dataclass(frozen=True)
class _Context:
    """A reference figure as the aggregate page shows it: beside the FOI total of the cell
    whose measure and period it names, when there is one."""

    figure: references.Beside
    foi: aggregate.AggregateRow | None


def _context_figures(campaign: Any, result: aggregate.Aggregate) -> list[_Context]:
    """The campaign's official figures for context; read afresh (a short list), never added
    into the aggregate."""
    shown = references.beside(campaign, references.reference_figures(db_session(), campaign))
    found = []
    for figure in shown:
        row = None
        if figure.matches:
            try:
                row = result.row(figure.measure, figure.period)
            except KeyError:
                row = None
        found.append(_Context(figure, row))
    return found


@blueprint.route("/reference-figures", methods=["GET", "POST"])
def reference_figures(slug: str) -> Any:
    """Import official figures to set beside the campaign's own (researchers)."""
    session = db_session()
    campaign = campaign_or_404(slug)
    form = FiguresImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            report = references.import_csv(session, actor(), campaign,
                                           form.file.data.stream.read(),
                                           replace=request.form.get("replace") == "1")
        except Invalid as error:
            session.rollback()
            problems = [str(p) for p in error.problems]
        else:
            session.commit()
            flash(f"Imported {form.file.data.filename}: {report.summary()}.", "success")
            return redirect(url_for("figures.aggregate_page", slug=slug, _anchor="context"))
    shown = references.beside(campaign, references.reference_figures(session, campaign))
    return render_template("figures/reference_figures.html", campaign=campaign, form=form,
                           problems=problems, columns=references.CSV_COLUMNS, figures=shown,
                           rule=references.NUMBER_RULE), form_status(form, problems)


@blueprint.post("/reference-figures/delete")
def delete_reference_figure(slug: str) -> Any:
    """Delete the reference figure the form names (``id``)."""
    session = db_session()
    campaign = campaign_or_404(slug)
    chosen = request.form.get("id", "")
    if not chosen.isdigit():
        flash("Choose a reference figure to delete.", "error")
        return redirect(url_for("figures.reference_figures", slug=slug))
    removed = references.delete_reference_figure(session, actor(), campaign, int(chosen))
    session.commit()
    flash(f"Deleted the reference figure {removed.measure}, {removed.period}, {removed.area}.",
          "success")
    return redirect(url_for("figures.reference_figures", slug=slug))


@blueprint.get("/aggregate/cell")
def cell(slug: str) -> Any:
    """The figures behind one number: every authority's value, caveat and source."""
    session = db_session()
    campaign = campaign_or_404(slug)
    args = request.args
    rows = service.cell_figures(session, campaign, args.get("measure", ""), args.get("period", ""),
                                args.get("dimension") or None, args.get("category") or None,
                                args.get("authority") or None)
    total = sum(int(row.value) for row in rows if row.kind == "exact")
    return render_template("figures/cell.html", campaign=campaign, rows=rows, args=args,
                           total=total,
                           read_from=proposals.read_from(session, [r.figure_id for r in rows]))


@blueprint.get("/release")
def release(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    one_choice = _one_choice_url()
    if one_choice is not None:
        return redirect(one_choice)
    # The aggregate page's, kept until the data change (the release is worded from it anew).
    subset, checked = _chosen()
    built = _built(campaign, subset, checked)
    problem = built.problem
    if problem is not None:
        # No lines for a choice that cannot be read: worded from its empty aggregate they
        # would pass for the national figures.
        return render_template("figures/release.html", campaign=campaign, release=None,
                               problem=problem, chosen=_typed_choice()), 400

    # Kept with the aggregate it is worded from (services.page_data.release_built).
    result = page_data.release_built(session, page_cache.of(current_app.extensions), campaign,
                                     built, subset, checked, today(), clock_settings())
    return render_template("figures/release.html", campaign=campaign, release=result,
                           problem=None, chosen=_typed_choice())


@blueprint.get("/fact-sheets/")
def fact_sheets(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    requests = request_service.campaign_requests(session, campaign)
    return render_template("figures/fact_sheets.html", campaign=campaign, requests=requests)


@blueprint.get("/fact-sheets/<authority>")
def fact_sheet(slug: str, authority: str) -> Any:
    campaign = campaign_or_404(slug)
    found = request_or_404(slug, authority).authority
    built = page_data.fact_sheet_built(db_session(), page_cache.of(current_app.extensions),
                                       campaign, found, today(), clock_settings())
    links = _chart_links(
        built.charts,
        "figures.fact_sheet_chart", lambda chart: {"measure": chart.name}, slug=slug,
        authority=found.slug)
    return render_template("figures/release.html", campaign=campaign, release=built.sheet,
                           problem=None, chosen="", authority=authority, charts=links)


# ---- charts ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChartLink:
    """A chart as a page shows it: the image, its words, and the two downloads."""

    chart: charts.Chart
    src: str
    png: str
    svg: str
    narrow: str | None = None  # the picture drawn for a phone (charts.narrow)


def _canonical_subset(subset: str | None) -> str | None:
    """One spelling for each choice of authorities, so that the caches key on what is chosen,
    not on how it was typed: a set's slug, or the authorities' slugs, sorted, each once
    ("kent,E23000016, kent", "Kent Police,West Mercia" and "west-mercia,kent" are the same;
    aggregate.choose_subset). A choice naming something unknown is left as typed, for the page
    to say what is wrong."""
    try:
        chosen = aggregate.choose_subset(db_session(), subset)
    except NotFound:
        return subset
    return None if chosen is None else chosen.canonical


def _within_render_budget(key: tuple[Any, ...], image_format: str) -> Response | None:
    """None when the image may be sent (cached, or within this person's render budget); else
    the 429 (render_budget). An unknown format is a 404 before anything is spent."""
    if image_format not in charts.FORMATS:
        abort(404)
    campaign_id = key[1]  # ("aggregate" or "fact sheet", campaign id, ...)
    return refused_render(data_version.of_campaigns(db_session(), [campaign_id]),
                          page_data.image_key(key, image_format))


def _selection() -> dict[str, str]:
    """The aggregate page's choice of authorities and figures, for the charts' URLs."""
    args = {"authorities": request.args.get("authorities", "").strip()}
    if request.args.get("checked") == "1":
        args["checked"] = "1"
    return {k: v for k, v in args.items() if v}


def _chart_links(found: list[charts.Chart], endpoint: str,
                 name_args: Callable[[charts.Chart], dict[str, str]], **url_args: str) -> list[ChartLink]:
    def url(chart: charts.Chart, image_format: str, **extra: str) -> str:
        values: dict[str, Any] = {**url_args, **name_args(chart), "image_format": image_format,
                                  **extra}
        return url_for(endpoint, **values)
    return [ChartLink(chart, url(chart, "svg"), url(chart, "png", download="1"),
                      url(chart, "svg", download="1"), url(chart, "svg", layout="narrow"))
            for chart in found]


def shown_narrow(image_format: str) -> bool:
    """The page's phone picture was asked for (``?layout=narrow``): an SVG in place, never a
    download, which keeps the full drawing."""
    return (image_format == "svg" and request.args.get("layout") == "narrow"
            and request.args.get("download") != "1")


def _chart_response(chart: charts.Chart | None, image_format: str, filename: str,
                    key: tuple[Any, ...] | None = None, version: data_version.Version | None = None
                    ) -> Response:
    """The image, shown in place or (``?download=1``) saved under ``filename``; rendered once
    per data version when ``key`` and ``version`` are given."""
    if chart is None or image_format not in charts.FORMATS:
        abort(404)
    disposition = "attachment" if request.args.get("download") == "1" else "inline"
    name = safe_filename(f"{filename}.{image_format}", f"chart.{image_format}")
    image = (page_data.image(page_cache.of(current_app.extensions), version, key, chart,
                             image_format)
             if key is not None and version is not None else charts.render(chart.spec, image_format))
    return Response(image, mimetype=charts.FORMATS[image_format],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"',
                             # Figures change as replies come in: never show a stale chart.
                             "Cache-Control": "no-cache"})


@blueprint.get("/charts/<chart>.<image_format>")
def aggregate_chart(slug: str, chart: str, image_format: str) -> Any:
    """One of the aggregate page's charts, for the same authorities and figures as the page."""
    campaign = campaign_or_404(slug)
    subset, checked = _chosen()
    key = page_data.chart_key(campaign.id, subset, checked, chart)
    narrow = shown_narrow(image_format)
    key = (*key, "narrow") if narrow else key
    refused = _within_render_budget(key, image_format)
    if refused is not None:
        return refused
    built = _built(campaign, subset, checked)
    if built.problem:
        abort(404)
    found = next((c for c in built.charts if c.name == chart), None)
    found = charts.for_phone(found) if narrow and found is not None else found
    chosen = _selection()
    # A download says which authorities and figures it shows, so two can sit in one folder.
    suffix = "".join([f"-{chosen['authorities'].replace(',', '-')}" if "authorities" in chosen
                      else "", "-checked" if "checked" in chosen else ""])
    return _chart_response(found, image_format, f"{slug}-{chart}{suffix}", key, built.version)


@blueprint.get("/fact-sheets/<authority>/charts/<measure>.<image_format>")
def fact_sheet_chart(slug: str, authority: str, measure: str, image_format: str) -> Any:
    """A fact sheet's chart: the authority's figure for a measure beside the national total."""
    campaign = campaign_or_404(slug)
    found = request_or_404(slug, authority).authority
    key = page_data.fact_sheet_key(campaign.id, found.slug, measure)
    narrow = shown_narrow(image_format)
    key = (*key, "narrow") if narrow else key
    refused = _within_render_budget(key, image_format)
    if refused is not None:
        return refused
    version, drawn = page_data.fact_sheet_chart(
        db_session(), page_cache.of(current_app.extensions), campaign, found, measure)
    drawn = charts.for_phone(drawn) if narrow and drawn is not None else drawn
    return _chart_response(drawn, image_format, f"{slug}-{found.slug}-{measure}", key, version)
