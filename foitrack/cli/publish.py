"""`foitrack publish`: freeze a campaign's dataset as its next release and write its files."""

from __future__ import annotations

import click

from foitrack.cli.context import (
    clock_settings,
    config,
    needs_current_schema,
    refused_naming,
    today,
    unit_of_work,
    with_appcontext,
)

# The service's field names as this command's options, so a refusal names what to fix.
OPTIONS = {"title": "--title", "note": "--note", "authorities": "--authorities",
           "embargo_until": "--embargo-until", "documents": "--document"}


@click.command("publish")
@click.argument("campaign")
@click.option("--title", required=True, help="The release's title.")
@click.option("--authorities", help="A set name, or comma-separated authority codes "
                                    "(default: every authority asked).")
@click.option("--checked-only", is_flag=True, help="Only figures a second researcher has checked.")
@click.option("--embargo-until", help='Not to be reported before this time, e.g. '
                                      '"2019-09-20 00:01" (UK time unless an offset is given).')
@click.option("--note", help="What changed since the last version and why (required from "
                             "version 2).")
@click.option("--document", "documents", type=int, multiple=True,
              help="The id of a figure whose reply document the release may name; repeat for "
                   "each. No other document is named.")
@click.option("--organisation", default="foitrack", show_default=True,
              help="Who publishes it, as the citation names them.")
@with_appcontext
@needs_current_schema
def publish_command(campaign: str, title: str, authorities: str | None, checked_only: bool,
                    embargo_until: str | None, note: str | None, documents: tuple[int, ...],
                    organisation: str) -> None:
    """Publish CAMPAIGN's next release: freeze its figures, aggregate, changes, release lines,
    methods note, wording and response status, then write the release's files and print each
    path with its SHA-256. A release never changes; a correction is a new version."""
    from pathlib import Path

    from flask import current_app

    from foitrack.cli.context import system_actor
    from foitrack.services import campaigns, publishing
    from foitrack.storage import FileStore

    root = Path(current_app.instance_path) / "releases"
    with unit_of_work(refused_naming(OPTIONS, "nothing was published")) as session:
        found = campaigns.get_campaign(session, campaign)
        release = publishing.publish(
            session, system_actor(), found, title=title, today=today(),
            settings=clock_settings(), authorities=authorities, checked_only=checked_only,
            embargo_until=publishing.parse_embargo(embargo_until), note=note,
            documents=documents, organisation=organisation, base_url=config().get("BASE_URL"))
        folder = publishing.release_folder(root, release)
        # Inside the unit of work: if a file cannot be written, nothing is published.
        written = publishing.write_files(release, folder,
                                           FileStore(Path(config()["STORAGE_PATH"])))
        version = release.version
    click.echo(f"Published {campaign} version {version} in {folder}")
    for item in written:
        click.echo(f"{item.sha256}  {item.path}")
