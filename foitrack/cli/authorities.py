"""`foitrack authorities`: the public bodies requests go to, and sets of them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import click

from foitrack.cli.context import needs_current_schema, plainly, system_actor, unit_of_work, with_appcontext
from foitrack.exporters.authorities import WRITERS
from foitrack.exporters.population import WRITERS as POPULATION_WRITERS


@click.group("authorities")
def authorities_group() -> None:
    """The public bodies requests go to, and sets of them."""


@authorities_group.command("load")
@click.option(
    "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None, help="A registry CSV to load instead of the shipped police forces.",
)
@with_appcontext
@needs_current_schema
def authorities_load(path: Path | None) -> None:
    """Load or refresh the UK police forces, their sets and their ONS population estimates
    (safe to run again).

    Fields edited by hand in foitrack, and imported population estimates, are kept.
    """
    from foitrack.services.registry import REGISTRY_FILE, load_registry

    with unit_of_work() as session:
        report = load_registry(session, system_actor(), path or REGISTRY_FILE)
    click.echo(f"Police forces loaded: {report.summary()}.")
    for slug, fields in sorted(report.kept_local.items()):
        click.echo(f"  kept local edits of {slug}: {', '.join(fields)}")
    click.echo(f"Population estimates (ONS, Open Government Licence v3.0): "
               f"{report.populations.summary()}.")


@authorities_group.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check the file and report, but change nothing.")
@with_appcontext
@needs_current_schema
def authorities_import(file: Any, dry_run: bool) -> None:
    """Add or update authorities and sets from FILE (CSV; columns in the README).

    One bad cell and nothing is imported; every problem is listed by line and column.
    """
    from foitrack.services.authority_import import import_authorities

    with unit_of_work() as session:
        report = import_authorities(session, system_actor(), file)
        if dry_run:
            session.rollback()
            click.echo(f"Dry run, nothing changed. Would be: {report.summary()}.")
            return
    click.echo(f"Imported: {report.summary()}.")


@authorities_group.command("list")
@click.option("--set", "set_slug", help="Only this set, e.g. england-wales.")
@click.option("--region", help="Only this region, e.g. 'West Midlands'.")
@click.option("--search", help="Only names, former names or codes containing this.")
@click.option(
    "--format", "fmt", type=click.Choice(sorted(WRITERS)), default="table", show_default=True,
    help="Output format.",
)
@with_appcontext
@needs_current_schema
def authorities_list(set_slug: str | None, region: str | None, search: str | None, fmt: str) -> None:
    """List authorities, by name."""
    from foitrack.exporters.authorities import authority_row
    from foitrack.services.authorities import find_authorities

    with unit_of_work(plainly) as session:
        found = find_authorities(session, set_slug=set_slug, region=region, search=search)
        rows = [authority_row(authority) for authority in found]
    out = io.StringIO()
    WRITERS[fmt](rows, out)
    click.echo(out.getvalue(), nl=False)


@authorities_group.command("sets")
@with_appcontext
@needs_current_schema
def authorities_sets() -> None:
    """List the authority sets with their sizes."""
    from foitrack.services.authorities import list_sets

    with unit_of_work(plainly) as session:
        for found, count in list_sets(session):
            click.echo(f"{found.slug:<28} {count:>4}  {found.title}")


@authorities_group.group("population")
def population_group() -> None:
    """Population estimates per authority, the denominators of rates per 100,000 people."""


@population_group.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check the file and report, but change nothing.")
@click.option("--replace", is_flag=True,
              help="Also replace estimates held with another number (each is listed).")
@with_appcontext
@needs_current_schema
def population_import(file: Any, dry_run: bool, replace: bool) -> None:
    """Add or replace estimates from FILE (CSV: authority,year,population[,base,source]).

    authority is an ONS code or a slug; year the mid-year (30 June) of the estimate; base
    "population" (all residents) unless given, e.g. children-0-17. One bad cell and nothing
    is imported; every problem is listed by line and column. A different number for an
    estimate already held (a shipped ONS one included) is refused unless --replace is given;
    a replaced estimate is kept by `authorities load`.
    """
    from foitrack.services.population import MAX_FILE_BYTES, import_populations

    data = file.read(MAX_FILE_BYTES + 1)
    with unit_of_work() as session:
        report = import_populations(session, system_actor(), data, replace=replace)
        replaced = "".join(f"  replaced {change}\n" for change in report.replaced)
        if dry_run:
            session.rollback()
            click.echo(f"Dry run, nothing changed. Would be: {report.summary()}.\n{replaced}",
                       nl=False)
            return
    click.echo(f"Imported population estimates: {report.summary()}.\n{replaced}", nl=False)


@population_group.command("list")
@click.option("--authority", help="Only this authority (ONS code or slug).")
@click.option("--base", help="Only this base, e.g. population or children-0-17.")
@click.option(
    "--format", "fmt", type=click.Choice(sorted(POPULATION_WRITERS)), default="table",
    show_default=True, help="Output format.",
)
@with_appcontext
@needs_current_schema
def population_list(authority: str | None, base: str | None, fmt: str) -> None:
    """List the population estimates, by authority, base and year."""
    from foitrack.services.population import list_populations

    with unit_of_work(plainly) as session:
        rows = list_populations(session, authority=authority, base=base)
    out = io.StringIO()
    POPULATION_WRITERS[fmt](rows, out)
    click.echo(out.getvalue(), nl=False)
