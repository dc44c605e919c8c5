"""`foitrack figures`: the figures authorities returned, their templates and checks."""

from __future__ import annotations

import io
import sys
from typing import Any

import click

from foitrack.cli.context import (
    clock_settings,
    config,
    needs_current_schema,
    plainly,
    system_actor,
    today,
    unit_of_work,
    with_appcontext,
)


@click.group("figures")
def figures_group() -> None:
    """The figures authorities returned."""


@figures_group.command("import")
@click.argument("campaign")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Import filled templates after the preview, without asking.")
@click.option("--dry-run", is_flag=True, help="Check and report, but change nothing.")
@with_appcontext
@needs_current_schema
def figures_import(campaign: str, files: tuple[str, ...], yes: bool, dry_run: bool) -> None:
    """Import figures into CAMPAIGN from FILES: tidy CSVs or filled response templates (.xlsx).

    A CSV has the columns authority,measure,period,dimension,category,value,caveat,source.
    Templates are previewed first (new, changed, unchanged, and changes to checked figures)
    and imported with --yes. Any bad row or cell in any file and nothing is imported; every
    problem is listed by line and column, or by file, sheet and cell.
    """
    from pathlib import Path

    from foitrack.services import campaigns, checks, figures, templates
    from foitrack.storage import FileStore

    paths = [Path(f) for f in files]
    sheets = [p for p in paths if p.suffix.lower() in (".xlsx", ".xlsm")]
    with unit_of_work() as session:
        found = campaigns.get_campaign(session, campaign)
        if not sheets:
            total = figures.SaveReport()
            with click.progressbar(paths, label="Importing", show_pos=True,
                                   file=sys.stderr) as bar:
                for path in bar:
                    with path.open("rb") as handle:
                        part = figures.import_csv(session, system_actor(), found, handle)
                    total.add(part)
            summary = total.summary()
            _warn_findings(checks.warnings_for(session, found, total.request_ids,
                                               today=today()), campaign)
        else:
            if len(sheets) != len(paths):
                raise click.ClickException("give either CSV files or .xlsx templates, not both")
            with click.progressbar(paths, label="Reading templates", show_pos=True,
                                   file=sys.stderr) as bar:
                loaded = [(p.name, p.read_bytes()) for p in bar]
            plan = templates.preview(session, found, loaded)
            click.echo(f"Preview: {plan.summary()}.")
            for item in plan.figures:
                if item.status in ("changed", "conflict"):
                    note = f" (checked by {item.checked_by})" if item.status == "conflict" else ""
                    click.echo(f"  {item.status}: {item.authority} {item.cell}: "
                               f"{item.old} -> {item.new}{note}")
            _warn_findings(checks.warnings_for(
                session, found, [item.request.id for item in plan.files],
                entries={item.request.id: item.entries for item in plan.files},
                today=today()), campaign)
            if dry_run or not (yes or click.confirm("Import these figures?", default=False)):
                click.echo("Nothing was imported.")
                session.rollback()
                return
            store = FileStore(Path(config()["STORAGE_PATH"]))
            summary = templates.apply(session, system_actor(), plan, store).summary()
        if dry_run:
            session.rollback()
            click.echo(f"Dry run, nothing changed. Would be: {summary}.")
            return
    click.echo(f"Imported figures: {summary}.")


@figures_group.command("template")
@click.argument("campaign")
@click.option("--authority", help="Only this authority (code or slug); default: every one.")
@click.option("-o", "--output", type=click.Path(file_okay=True), required=True,
              help="A folder for one template per authority, or a file with --authority.")
@with_appcontext
@needs_current_schema
def figures_template(campaign: str, authority: str | None, output: str) -> None:
    """Write the response templates (XLSX) of CAMPAIGN: one per authority."""
    from pathlib import Path

    from foitrack.services import campaigns, requests, templates

    target = Path(output)
    with unit_of_work(plainly) as session:
        found = campaigns.get_campaign(session, campaign)
        chosen = ([requests.get_request(session, campaign, authority)] if authority
                  else requests.campaign_requests(session, found))
        if not found.measures:
            raise click.ClickException("the campaign has no data design yet")
        if authority and target.suffix.lower() == ".xlsx":
            target.write_bytes(templates.template_bytes(found, chosen[0]))
            click.echo(f"Wrote {target}.")
            return
        target.mkdir(parents=True, exist_ok=True)
        with click.progressbar(chosen, label="Writing templates", file=sys.stderr) as bar:
            for request in bar:
                (target / templates.template_filename(found, request)).write_bytes(
                    templates.template_bytes(found, request))
    click.echo(f"Wrote {len(chosen)} templates to {target}.")


@figures_group.command("export")
@click.argument("campaign")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="Where to write the CSV (default: standard output).")
@with_appcontext
@needs_current_schema
def figures_export(campaign: str, output: Any) -> None:
    """Write CAMPAIGN's figures as a tidy CSV (the columns `figures import` reads)."""
    from foitrack.services import campaigns, figures

    with unit_of_work(plainly) as session:
        rows = figures.export_rows(session, campaigns.get_campaign(session, campaign))
    out = io.StringIO()
    figures.write_csv(rows, out)
    output.write(out.getvalue())


def _warn_findings(found: list[Any], campaign: str) -> None:
    """Findings the figures just given trip, on standard error: a warning, never a refusal."""
    from foitrack.services.checks import warning_lines

    if found:
        click.echo(f"Warning: {len(found)} consistency "
                   f"{'finding' if len(found) == 1 else 'findings'} to look at before publishing "
                   f"(`foitrack figures check {campaign}` lists them all):", err=True)
        for line in warning_lines(found):
            click.echo(f"  {line}", err=True)


@figures_group.command("check")
@click.argument("campaign")
@click.option("--authorities", "subset", help="Only a set, or comma-separated authority codes.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--strict", is_flag=True,
              help="Exit with code 1 when any finding is open (not explained).")
@with_appcontext
@needs_current_schema
def figures_check(campaign: str, subset: str | None, fmt: str, strict: bool) -> None:
    """Consistency checks on CAMPAIGN's figures, to look at before anything is published.

    A breakdown (not an overlapping one) whose categories add up to more than the total, or to
    a different total when every figure is exact; a change beyond a factor of 3 either way
    from the period before, on a base of 10 or more; figures for a request with no response,
    or with no source; figures from a request refused in full or answered "not held".
    Explained findings are listed too, but are not open.
    """
    from foitrack.exporters import findings as writers
    from foitrack.services import aggregate, campaigns, checks

    with unit_of_work(plainly) as session:
        found = campaigns.get_campaign(session, campaign)
        ids, _label = aggregate.subset_ids(session, subset)
        result = checks.findings(session, found, ids, today=today(), settings=clock_settings())
    out = io.StringIO()
    writers.WRITERS[fmt](result, out)
    click.echo(out.getvalue(), nl=False)
    still = sum(1 for finding in result if finding.is_open)
    if strict and still:
        click.echo(f"{still} open {'finding' if still == 1 else 'findings'}.", err=True)
        click.get_current_context().exit(1)


@figures_group.command("explain")
@click.argument("campaign")
@click.argument("key")
@click.option("--note", help="What explains it, e.g. 'the force confirmed 31 in its letter of 2 May'.")
@click.option("--remove", is_flag=True, help="Take the explanation back: the finding is open again.")
@with_appcontext
@needs_current_schema
def figures_explain(campaign: str, key: str, note: str | None, remove: bool) -> None:
    """Mark a finding of CAMPAIGN explained, or with --remove open again.

    KEY is check|authority|measure|period|dimension|category: a row of `figures check
    --format csv` joined with '|' (the authority by code or slug), or `key` in its JSON.
    """
    from foitrack.services import campaigns, checks

    if remove and note is not None:
        raise click.ClickException("give --note TEXT or --remove, not both")
    with unit_of_work() as session:
        found = campaigns.get_campaign(session, campaign)
        if remove:
            checks.unexplain(session, system_actor(), found, key)
            done = "The finding is open again."
        else:
            explained = checks.explain(session, system_actor(), found, key, note or "",
                                       today=today())
            done = f"Explained {explained.key}: {explained.note}"
    click.echo(done)


@figures_group.command("reference")
@click.argument("campaign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True,
              help="Take away the campaign's reference figures first: the file replaces them.")
@click.option("--dry-run", is_flag=True, help="Check and report, but change nothing.")
@with_appcontext
@needs_current_schema
def figures_reference(campaign: str, file: str, replace: bool, dry_run: bool) -> None:
    """Import official figures to set beside CAMPAIGN's FOI figures, for context.

    FILE is a CSV with exactly the columns measure,period,area,value,source,url. measure and
    period are the campaign's keys when a figure sits beside one of its cells (it is shown
    there), or any words for another statistic. value is a plain number, with or without
    thousands commas (9,000 or 9000). They are never added into the FOI totals. Any bad row
    and nothing is imported; every problem is listed by line and column.
    """
    from pathlib import Path

    from foitrack.services import campaigns, reference_figures

    with unit_of_work() as session:
        found = campaigns.get_campaign(session, campaign)
        report = reference_figures.import_csv(session, system_actor(), found,
                                              Path(file).read_bytes(), replace=replace)
        if dry_run:
            session.rollback()
            click.echo(f"Dry run, nothing changed. Would be: {report.summary()}.")
            return
    click.echo(f"Imported {report.summary()}.")


@figures_group.command("references")
@click.argument("campaign")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table",
              show_default=True, help="csv: the columns `figures reference` reads, with id.")
@with_appcontext
@needs_current_schema
def figures_references(campaign: str, fmt: str) -> None:
    """List CAMPAIGN's reference figures (official statistics for context), with their ids."""
    import csv

    from foitrack.domain.csv_safety import protect
    from foitrack.services import campaigns, reference_figures

    with unit_of_work(plainly) as session:
        found = campaigns.get_campaign(session, campaign)
        shown = reference_figures.beside(found, reference_figures.reference_figures(session,
                                                                                    found))
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", *reference_figures.CSV_COLUMNS])
        for f in shown:
            writer.writerow([f.id, *(protect(text) for text in (
                f.measure, f.period, f.area, str(reference_figures.plain_value(f.value)),
                f.source, f.url or ""))])
        click.echo(out.getvalue(), nl=False)
        return
    if not shown:
        click.echo(f"{campaign} has no reference figures.")
        return
    for f in shown:
        where = "beside the campaign's figures" if f.matches else "other official figure"
        click.echo(f"{f.id}: {f.measure_label}, {f.period_label}, {f.area}: {f.value_text} "
                   f"(source: {f.source}{', ' + f.url if f.url else ''}) [{where}]")


@figures_group.command("reference-delete")
@click.argument("campaign")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Delete every reference figure.")
@with_appcontext
@needs_current_schema
def figures_reference_delete(campaign: str, ids: tuple[int, ...], everything: bool) -> None:
    """Delete reference figures of CAMPAIGN by id (`figures references` lists them)."""
    from foitrack.services import campaigns, reference_figures

    if bool(ids) == everything:
        raise click.ClickException("give the ids of the figures to delete, or --all")
    with unit_of_work() as session:
        found = campaigns.get_campaign(session, campaign)
        chosen = list(ids) or [f.id for f in reference_figures.reference_figures(session, found)]
        for figure_id in chosen:
            reference_figures.delete_reference_figure(session, system_actor(), found, figure_id)
    click.echo(f"Deleted {len(chosen)} reference {'figure' if len(chosen) == 1 else 'figures'}.")


@figures_group.command("extract")
@click.argument("campaign")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--authority", required=True, help="The authority (code or slug) whose reply it is.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--accept", is_flag=True,
              help="Preview what saving the proposals would change; save them with --yes.")
@click.option("--yes", is_flag=True, help="With --accept: save the proposals as figures.")
@with_appcontext
@needs_current_schema
def figures_extract(campaign: str, files: tuple[str, ...], authority: str, fmt: str,
                    accept: bool, yes: bool) -> None:
    """Propose CAMPAIGN's figures for one authority from its reply FILES (.xlsx, .csv, .docx,
    .pdf with a text layer); without FILES, from the request's stored attachments.

    Each proposal keeps the value as written, where it is (Sheet!C5; table 2, row 3, column 4;
    page 2, table 1, row 3, column 4) and a confidence. Cells that could not be read for sure
    are listed with the reason on stderr. Nothing is saved unless --accept --yes: then through
    the grid's save, with its checks and audit trail; a checked figure changed is said.
    """
    import json
    from pathlib import Path

    from foitrack.domain.design import CampaignDesign
    from foitrack.services import campaigns, extraction
    from foitrack.services.requests import get_request
    from foitrack.storage import FileStore

    if yes and not accept:
        raise click.UsageError("--yes saves proposals: give it with --accept")
    with unit_of_work() as session:
        found = campaigns.get_campaign(session, campaign)
        request = get_request(session, found.slug, authority)
        code = request.authority.code or request.authority.slug
        if files:
            replies = [extraction.ReplyFile(Path(f).name, Path(f).read_bytes()) for f in files]
        else:
            replies = extraction.stored_files(session, FileStore(config()["STORAGE_PATH"]), request)
            if not replies:
                raise click.ClickException(
                    f"the request to {authority} has no stored attachment figures are read from "
                    "(.xlsx, .csv, .docx, .pdf); give the files on the command line")
        result = extraction.propose(CampaignDesign.of(found), replies, code)
        for problem in result.problems:
            click.echo(f"not read: {problem}", err=True)
        for skip in result.skipped:
            click.echo(f"skipped: {skip.file} {skip.location} {skip.text!r}: {skip.reason}",
                       err=True)
        rows = [{"authority": code, "measure": p.measure, "period": p.period,
                 "dimension": p.dimension or "", "category": p.category or "", "value": p.value,
                 "parsed_kind": p.parsed_kind, "parsed": p.parsed.text, "caveat": p.caveat or "",
                 "file": p.file, "sha256": p.sha256, "location": p.location.text,
                 "page": p.location.page, "bbox": list(p.location.bbox) if p.location.bbox else None,
                 "confidence": p.confidence, "extractor": f"{p.extractor} {p.extractor_version}"}
                for p in result.proposals]
        if fmt == "json":
            click.echo(json.dumps(rows, indent=2))
        else:
            for row in rows:
                category = row["category"] or "total"
                click.echo(f"{code}\t{row['measure']}\t{row['period']}\t{category}\t{row['value']}\t"
                           f"{row['file']}: {row['location']}\t{row['confidence']:.2f}")
            click.echo(f"{len(rows)} proposed, {len(result.skipped)} skipped.", err=True)
        if not accept:
            return
        planned = extraction.preview(session, request, result.proposals)
        counts = {status: sum(1 for p in planned if p.status == status)
                  for status in ("new", "changed", "unchanged", "conflict")}
        click.echo("Preview: " + ", ".join(f"{n} {status}" for status, n in counts.items()) + ".",
                   err=True)
        for item in planned:
            if item.status in ("changed", "conflict"):
                p = item.proposal
                note = (f" (checked by {item.checked_by}: its check is cleared)"
                        if item.status == "conflict" else "")
                click.echo(f"  {item.status}: {p.measure} {p.period} {p.category or 'total'}: "
                           f"{item.old} -> {p.parsed.text}{note}", err=True)
        if not yes:
            click.echo("Nothing was saved; add --yes to save these figures.", err=True)
            return
        report = extraction.accept(session, system_actor(), request, result.proposals, replies)
        click.echo(f"Saved: {report.summary()}.", err=True)
