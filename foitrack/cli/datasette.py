"""`foitrack datasette`: Datasette over the public releases' databases, read only.

Datasette is given no database itself: a plugin registered in this process
(foitrack.cli.datasette_plugin) adds each release's database once it is public, so an embargo
lifts by itself at its time with nothing restarted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from foitrack.cli.context import config, database, needs_current_schema, with_appcontext


def _fixed_now(_ctx: Any, _param: click.Parameter, value: str | None) -> dt.datetime | None:
    """FOITRACK_NOW (tests only) as a time in UTC, the way app.config["NOW"] fixes the web's."""
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time such as 2019-09-20T00:01:00+00:00",
                                 param_hint="FOITRACK_NOW") from None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


@click.command("datasette")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--title", default="Published FOI figures", show_default=True,
              help="The site's title on Datasette's pages.")
@click.option("--setting", "settings", type=(str, str), multiple=True, metavar="NAME VALUE",
              help="One of Datasette's settings, e.g. --setting base_url /datasette/ behind a "
                   "proxy, or --setting sql_time_limit_ms 500; repeat for each.")
@click.option("--now", envvar="FOITRACK_NOW", hidden=True, callback=_fixed_now,
              help="Tests only: take this time (UTC unless an offset is given) as now.")
@with_appcontext
@needs_current_schema
def datasette_command(host: str, port: int, title: str, settings: tuple[tuple[str, str], ...],
                      now: dt.datetime | None) -> None:
    """Serve every public release's database with Datasette, read only: one database per
    version (e.g. /grooming-2019-v1), with its tables' descriptions and canned queries. A
    release under embargo appears by itself when the embargo lifts; one never published, or
    under embargo, is never reachable."""
    from pathlib import Path

    import uvicorn
    from datasette.app import Datasette
    from datasette.cli import Setting
    from datasette.plugins import pm
    from flask import current_app

    from foitrack.cli.datasette_plugin import ReleasesPlugin
    from foitrack.services.datasette_site import Catalogue

    # Checked and typed as `datasette serve --setting` does: an unknown name or a bad value
    # is the option's error.
    chosen = dict(Setting().convert(pair, None, None) for pair in settings)
    fixed = now or config().get("NOW")
    catalogue = Catalogue(database().sessionmaker, Path(current_app.instance_path) / "releases",
                          (lambda: fixed) if fixed else (lambda: dt.datetime.now(dt.UTC)))
    plugin = ReleasesPlugin(catalogue, title)
    pm.register(plugin, name="foitrack-releases")
    try:
        # Given no files, Datasette adds an in-memory database of its own: no release, so it goes.
        datasette = Datasette([], settings=chosen)
        datasette.remove_database("_memory")
        added, gone = catalogue.refresh()
        plugin.apply(datasette, added, gone)
        names = ", ".join(catalogue.databases) or "none yet"
        click.echo(f"Public release databases: {names}")
        click.echo(f"Datasette is serving on http://{host}:{port}/ (Ctrl+C to stop)")
        uvicorn.run(datasette.app(), host=host, port=port, log_level="warning",
                    lifespan="on", workers=1)
    finally:
        pm.unregister(plugin)
