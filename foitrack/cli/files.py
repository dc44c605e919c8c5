"""`foitrack files`: the kept files (replies, attachments, imported templates)."""

from __future__ import annotations

import click

from foitrack.cli.context import config, needs_current_schema, plainly, unit_of_work, with_appcontext


@click.group("files")
def files_group() -> None:
    """The kept files (replies, attachments, imported templates)."""


@files_group.command("prune")
@click.option("--older-than-hours", default=24, show_default=True, type=click.IntRange(min=1),
              help="Only files last written at least this long ago (an import may be running).")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@with_appcontext
@needs_current_schema
def files_prune(older_than_hours: int, dry_run: bool) -> None:
    """Remove kept files nothing refers to: left by an import that failed, timed out or was
    never confirmed (a template preview). Safe to run daily from cron."""
    import datetime as dt

    from sqlalchemy import select

    from foitrack.models import StoredFile
    from foitrack.storage import FileStore

    store = FileStore(config()["STORAGE_PATH"])
    with unit_of_work(plainly) as session:
        keep = set(session.scalars(select(StoredFile.sha256)))
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(hours=older_than_hours)
    # Files recorded after the list of those kept was read are younger than the cutoff.
    removed = store.prune(keep, cutoff, remove=not dry_run)
    if dry_run:
        click.echo(f"{len(removed)} unreferenced files would be removed.")
    else:
        click.echo(f"Removed {len(removed)} unreferenced files.")
