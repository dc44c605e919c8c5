"""`foitrack aggregate`, `release` and `export`: what a campaign's figures add up to, in words
and as a dataset."""

from __future__ import annotations

import io
import sys
from typing import Any

import click

from foitrack.cli.context import (
    clock_settings,
    needs_current_schema,
    plainly,
    today,
    unit_of_work,
    with_appcontext,
)


@click.command("aggregate")
@click.argument("campaign")
@click.option("--authorities", "subset", help="A set name, or comma-separated authority codes.")
@click.option("--checked-only", is_flag=True, help="Only figures a second researcher has checked.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--by-authority", is_flag=True,
              help="Each authority's figures instead, with its rank, population, rate per "
                   "100,000 and rank by rate.")
@with_appcontext
@needs_current_schema
def aggregate_command(campaign: str, subset: str | None, checked_only: bool, fmt: str,
                      by_authority: bool) -> None:
    """The aggregate of CAMPAIGN: totals, bounds, coverage, shares and rates per 100,000
    people, with changes (json); or, with --by-authority, each authority's figures."""
    from foitrack.exporters import aggregate as writers
    from foitrack.services import aggregate, campaigns

    with unit_of_work(plainly) as session:
        found = campaigns.get_campaign(session, campaign)
        ids, label = aggregate.subset_ids(session, subset)
        result = aggregate.build(session, found, ids, checked_only=checked_only, subset=label,
                                 with_authorities=by_authority or fmt == "json")
    out = io.StringIO()
    (writers.AUTHORITY_WRITERS if by_authority else writers.WRITERS)[fmt](result, out)
    click.echo(out.getvalue(), nl=False)


@click.command("release")
@click.argument("campaign")
@click.option("--authority", help="One authority's fact sheet (code or slug).")
@click.option("--authorities", "subset", help="Lines for a set or comma-separated codes together.")
@click.option("--checked-only", is_flag=True, help="Only figures a second researcher has checked.")
@with_appcontext
@needs_current_schema
def release_command(campaign: str, authority: str | None, subset: str | None,
                    checked_only: bool) -> None:
    """Print CAMPAIGN's release lines and methods note, or one authority's fact sheet."""
    from foitrack.services import aggregate, campaigns, release

    settings = clock_settings()
    with unit_of_work(plainly) as session:
        found = campaigns.get_campaign(session, campaign)
        if subset:
            ids, label = aggregate.subset_ids(session, subset)
            # With each authority's row: the rate line names those left out of it, as the
            # page does (release.subset_release).
            result = aggregate.build(session, found, ids, checked_only=checked_only)
            text = release.national_release(
                session, found, result, today(), settings, authority_ids=ids,
                subject=release.describe_subset(session, ids or [], label)).text()
        else:
            national = aggregate.build(session, found, checked_only=checked_only)
            if authority:
                text = release.fact_sheet(session, found, national, authority, today(),
                                          settings).text()
            else:
                text = release.national_release(session, found, national, today(),
                                                settings).text()
    click.echo(text, nl=False)


@click.command("export")
@click.argument("campaign")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json", "datapackage"]),
              required=True, help="csv: one table; xlsx, json and datapackage: every table.")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="The file to write (for datapackage: a folder, or a .zip file).")
@click.option("--table", type=click.Choice(["figures", "aggregate", "tracker", "coverage",
                                            "changes", "reference", "reference_figures"]),
              default="figures", show_default=True,
              help="For csv: which table (changes: each period against each earlier one, "
                   "with the matched panel; reference: the official figures set beside them).")
@click.option("--checked-only", is_flag=True, help="Only figures a second researcher has checked.")
@with_appcontext
@needs_current_schema
def export_command(campaign: str, fmt: str, output: str, table: str, checked_only: bool) -> None:
    """Export CAMPAIGN's dataset: the aggregate and its changes, every figure, the request
    tracker and the release lines (each number with its cell), with the methods note (the
    README sheet in xlsx, the description of a data package)."""
    from pathlib import Path

    from foitrack.exporters import dataset as writers
    from foitrack.services import campaigns
    from foitrack.services.datasets import campaign_dataset, write_export

    target = Path(output)
    table = "reference_figures" if table == "reference" else table
    with unit_of_work(plainly) as session:
        found = campaigns.get_campaign(session, campaign)
        data = campaign_dataset(session, found, today(), clock_settings(), checked_only)
        count = campaigns.figure_count(session, found, checked_only=checked_only)
        figures = data.table("figures")
        rows = figures.rows
        with click.progressbar(length=count, label="Exporting figures", file=sys.stderr) as bar:
            def counted() -> Any:
                for row in rows():
                    bar.update(1)
                    yield row

            figures.rows = counted
            if fmt == "datapackage" and target.suffix.lower() != ".zip":
                writers.write_datapackage(data, target)  # a folder: the one form a page cannot give
            else:
                # The page's and the API's dispatch (services.datasets), so the bytes are theirs.
                with target.open("wb") as handle:
                    write_export(data, "zip" if fmt == "datapackage" else fmt, handle, table)
    click.echo(f"Wrote {target}.")
