"""`foitrack backup` and `foitrack restore`: the database and the stored files in one zip."""

from __future__ import annotations

from pathlib import Path

import click

from foitrack.cli.context import config, database, with_appcontext


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write the database and the stored files to one new file PATH (a zip). Safe while running."""
    from foitrack import backups
    from foitrack.storage import FileStore

    settings = config()
    try:
        manifest = backups.create_backup(database().engine, FileStore(settings["STORAGE_PATH"]),
                                         path, outbox=Path(settings["OUTBOX_PATH"]))
    except backups.BackupError as error:
        raise click.ClickException(f"{error}; no backup was written") from None
    click.echo(f"Backed up {sum(manifest.tables.values())} rows in {len(manifest.tables)} tables "
               f"and {len(manifest.files)} files, {len(manifest.outbox)} outbox messages "
               f"({manifest.database}, revision {manifest.alembic_revision}) to {path}.")
    if manifest.missing_files:
        click.echo(f"Warning: {len(manifest.missing_files)} stored files were missing from "
                   f"{settings['STORAGE_PATH']} and are not in the backup: "
                   + ", ".join(digest[:12] for digest in manifest.missing_files), err=True)


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Put back the database and stored files from the backup PATH (stop the app first)."""
    from foitrack import backups, migrate
    from foitrack.storage import FileStore

    settings = config()
    try:
        manifest = backups.restore_backup(database().engine,
                                          FileStore(settings["STORAGE_PATH"]), path,
                                          force=force, outbox=Path(settings["OUTBOX_PATH"]))
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {sum(manifest.tables.values())} rows in {len(manifest.tables)} tables "
               f"and {len(manifest.files)} files, {len(manifest.outbox)} outbox messages from "
               f"{path} (made {manifest.created_at}, revision "
               f"{manifest.alembic_revision}); database now at {migrate.head_revision()}.")
