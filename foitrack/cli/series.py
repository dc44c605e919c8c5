"""`foitrack series`: the campaigns that ask the same question year after year, compared.

The command line runs as the server's operator (membership.OPERATOR), who sees every campaign,
embargoed ones included, as an admin does.
"""

from __future__ import annotations

import io

import click

from foitrack.cli.context import (
    needs_current_schema,
    plainly,
    system_actor,
    today,
    unit_of_work,
    with_appcontext,
)

FORMATS = click.Choice(["table", "csv", "json"])


@click.group("series")
def series_group() -> None:
    """Series: each authority's figures across the campaigns of a repeated question."""


@series_group.command("list")
@with_appcontext
@needs_current_schema
def series_list() -> None:
    """List the series and their campaigns."""
    from foitrack.services import membership
    from foitrack.services import series as service

    with unit_of_work(plainly) as session:
        found = service.list_series(session, membership.OPERATOR, today())
    if not found:
        click.echo("No series yet: repeat a campaign, or `foitrack series create`.")
    for summary in found:
        campaigns = ", ".join(slug for slug, _title in summary.campaigns) or "no campaigns"
        click.echo(f"{summary.slug}\t{summary.name}\t{campaigns}")


@series_group.command("show")
@click.argument("series")
@click.option("--measure", help="The measure's key (default: the latest campaign's first).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="Output format. csv: authority_code, authority, a column per period, then "
                   "the national row.")
@with_appcontext
@needs_current_schema
def series_show(series: str, measure: str | None, fmt: str) -> None:
    """Each authority's figure for every period asked in SERIES, the national total per period
    and the changes on matched panels."""
    from foitrack.exporters.series import WRITERS
    from foitrack.services import membership
    from foitrack.services import series as service

    with unit_of_work(plainly) as session:
        found = service.get_series(session, series)
        table = service.series_table(session, found, membership.OPERATOR, today(), measure)
    out = io.StringIO()
    WRITERS[fmt](table, out)
    click.echo(out.getvalue(), nl=False)


@series_group.command("revisions")
@click.argument("series")
@click.option("--measure", help="Only this measure's (default: every measure's).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="Output format.")
@with_appcontext
@needs_current_schema
def series_revisions(series: str, measure: str | None, fmt: str) -> None:
    """The answers in SERIES that a later campaign asked again and got differently."""
    from foitrack.exporters.series import REVISION_WRITERS
    from foitrack.services import membership
    from foitrack.services import series as service

    with unit_of_work(plainly) as session:
        found = service.get_series(session, series)
        revisions = service.series_revisions(session, found, membership.OPERATOR, today(),
                                             measure)
    out = io.StringIO()
    REVISION_WRITERS[fmt](revisions, out)
    click.echo(out.getvalue(), nl=False)


@series_group.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The series' name, e.g. 'Online grooming'.")
@click.option("--description", help="A line about what it follows.")
@with_appcontext
@needs_current_schema
def series_create(slug: str, name: str, description: str | None) -> None:
    """Create an empty series SLUG; link campaigns to it with `foitrack series link`."""
    from foitrack.services import series as service

    with unit_of_work() as session:
        created = service.create_series(session, system_actor(), slug=slug, name=name,
                                        description=description)
        text = f"Created series {created.slug}: {created.name}."
    click.echo(text)


@series_group.command("link")
@click.argument("series")
@click.argument("campaign")
@with_appcontext
@needs_current_schema
def series_link(series: str, campaign: str) -> None:
    """Add CAMPAIGN to SERIES (a campaign is in one series at most)."""
    from foitrack.services import campaigns
    from foitrack.services import series as service

    with unit_of_work() as session:
        found = service.get_series(session, series)
        service.link(session, system_actor(), found, campaigns.get_campaign(session, campaign))
    click.echo(f"Campaign {campaign} is in the series {series}.")


@series_group.command("unlink")
@click.argument("campaign")
@with_appcontext
@needs_current_schema
def series_unlink(campaign: str) -> None:
    """Take CAMPAIGN out of its series."""
    from foitrack.services import campaigns
    from foitrack.services import series as service

    with unit_of_work() as session:
        left = service.unlink(session, system_actor(), campaigns.get_campaign(session, campaign))
        slug = left.slug
    click.echo(f"Campaign {campaign} is no longer in the series {slug}.")
