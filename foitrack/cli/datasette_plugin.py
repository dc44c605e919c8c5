"""The plugin `foitrack datasette` registers in Datasette: the public releases' databases,
their metadata and canned queries, and nothing else.

On every request, before Datasette sees it, the catalogue is refreshed and any release that
has become public is added (immutable); until then Datasette has never heard of it, whatever
the address, query or ``?sql=`` asks.
"""

from __future__ import annotations

import asyncio
import sqlite3
from copy import deepcopy
from typing import Any

from datasette import hookimpl
from datasette.app import Datasette
from datasette.database import Database

from foitrack.services.datasette_site import Catalogue, ReleaseDatabase, site_metadata


class ReleasesPlugin:
    """Datasette's hooks for foitrack: the catalogue's databases and metadata, nothing else."""

    def __init__(self, catalogue: Catalogue, title: str) -> None:
        # Datasette lists its plugins by their module's name (/-/plugins.json).
        self.__name__ = __name__
        self.catalogue = catalogue
        self.title = title
        self._lock = asyncio.Lock()

    def apply(self, datasette: Datasette, added: list[ReleaseDatabase], gone: list[str]) -> None:
        """Datasette's databases as the catalogue's refresh found them."""
        for name in gone:
            if name in datasette.databases:
                datasette.remove_database(name)
        for release in added:
            datasette.add_database(
                Database(datasette, path=str(release.path), is_mutable=False), name=release.name)

    async def refresh(self, datasette: Datasette) -> None:
        # foitrack's database is read on a thread, not the event loop; one refresh at a time.
        async with self._lock:
            added, gone = await asyncio.to_thread(self.catalogue.refresh)
            self.apply(datasette, added, gone)

    @hookimpl
    def asgi_wrapper(self, datasette: Datasette) -> Any:
        def wrap(app: Any) -> Any:
            async def refreshed_first(scope: dict[str, Any], receive: Any, send: Any) -> None:
                if scope["type"] == "http":
                    await self.refresh(datasette)
                await app(scope, receive, send)
            return refreshed_first
        return wrap

    @hookimpl
    def get_metadata(self, datasette: Datasette, key: str | None, database: str | None,
                     table: str | None) -> dict[str, Any]:
        databases = self.catalogue.databases
        chosen = [databases[database]] if database in databases else (
            [] if database is not None else list(databases.values()))
        # A copy: Datasette fills in what it is given (a canned query's name).
        return deepcopy(site_metadata(self.title, chosen))

    @hookimpl
    def prepare_connection(self, conn: sqlite3.Connection, database: str,
                           datasette: Datasette) -> None:
        # Datasette refuses anything but a SELECT already; this makes SQLite itself refuse to
        # open another file (an embargoed release's) on any connection, whatever gets through.
        conn.set_authorizer(_no_attaching)


def _no_attaching(action: int, *_args: Any) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


