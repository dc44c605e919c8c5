"""What `foitrack datasette` serves: each public release's SQLite database, named for its
campaign and version, with Datasette's metadata (title, description, licence, source, every
column's description) and its canned queries, worked out from the release's frozen content.

Only releases that are public (published and past their embargo, ``publishing.is_public``)
are ever listed, compared with the time on every refresh, so that a release opens by itself
when its embargo lifts. Nothing here knows about Datasette's objects or Flask: the command
(foitrack.cli.datasette) hands these plain values to Datasette.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from foitrack.models import PublishedRelease
from foitrack.services import publishing

# The canned queries every release database has, by the name in its address
# (/grooming-2019-v1/force_figures?authority=Kent Police).
FORCE_FIGURES = "force_figures"
NATIONAL_TOTALS = "national_totals"
# Either spelling a reader may have to hand: the code (E23000032) or the name (Kent Police).
FORCE_FIGURES_SQL = """\
select *
from figures
where upper(authority_code) = upper(trim(:authority))
   or lower(authority) = lower(trim(:authority))
order by measure, period, dimension, category"""
NATIONAL_TOTALS_SQL = """\
select measure, period, total, lower_bound, upper_bound, authorities_with_figure,
       authorities_asked, no_reply, refused, rate, rate_per, rate_base, population_year
from aggregate
where level = 'total'
order by measure, period"""


@dataclass(frozen=True)
class ReleaseDatabase:
    """One public release as Datasette serves it."""

    name: str  # campaign slug and version, e.g. grooming-2019-v1: the database's address
    path: Path
    release_id: int
    metadata: dict[str, Any]


def database_name(slug: str, version: int) -> str:
    """The stable name of a release's database: its file's stem, e.g. grooming-2019-v1."""
    return f"{slug}-v{version}"


def database_file(root: Path, release: PublishedRelease) -> Path:
    """The release's SQLite database as ``publishing.write_files`` wrote it under ``root`` (the
    instance's ``releases`` folder)."""
    return publishing.release_folder(root, release) / (
        database_name(release.campaign.slug, release.version) + ".sqlite")


def describe(release: PublishedRelease, root: Path) -> ReleaseDatabase:
    """A release's database file and its Datasette metadata, from its frozen content."""
    return ReleaseDatabase(database_name(release.campaign.slug, release.version),
                           database_file(root, release), release.id,
                           database_metadata(publishing.content_of(release)))


def database_metadata(content: dict[str, Any]) -> dict[str, Any]:
    """Datasette's metadata for one release: its title, description, licence and source, each
    table's title, description and column descriptions, and the canned queries."""
    meta = content["release"]
    citation = publishing.citation_of(content)
    licence = content["licenses"][0] if content["licenses"] else None
    described = [citation.description,
                 f"Version {meta['version']}, published {meta['created_at'][:10]}"
                 + (" (checked figures only)" if content["checked_only"] else "") + "."]
    if meta["note"]:
        described.append(f"What changed: {meta['note']}")
    described.append(f"Cite as: {citation.text().strip()}")
    metadata: dict[str, Any] = {
        "title": meta["title"],
        "description": " ".join(described),
        "source": f"Freedom of Information requests by {meta['organisation']}",
        "tables": {table["name"]: _table_metadata(table) for table in content["tables"]},
        "queries": {
            FORCE_FIGURES: {
                "title": "One force's figures",
                "description": "Every figure one authority gave: its code (e.g. E23000032) or "
                               "its name (e.g. Kent Police) as the authorities table has them.",
                "sql": FORCE_FIGURES_SQL,
                "params": ["authority"],
            },
            NATIONAL_TOTALS: {
                "title": "The national totals",
                "description": f"Each measure's total for each period, over {content['subject']}"
                               ", with its bounds (suppressed figures at their least and most), "
                               "coverage and rate.",
                "sql": NATIONAL_TOTALS_SQL,
            },
        },
    }
    if meta["url"]:
        metadata["source_url"] = meta["url"]
    if licence:
        metadata["license"] = licence.get("title") or licence["name"]
        if licence.get("path"):
            metadata["license_url"] = licence["path"]
    return metadata


def _table_metadata(table: dict[str, Any]) -> dict[str, Any]:
    # No units: Datasette's are physical (Pint) units it converts between, and the only one
    # here, working days, is not Pint's day (a week is five of them, not seven).
    return {"title": table["title"], "description": table["description"],
            "columns": {name: text for name, _kind, text, _width in table["columns"]}}


def site_metadata(title: str, databases: Iterable[ReleaseDatabase]) -> dict[str, Any]:
    """The whole site's metadata: its title and the given databases' own, and no other's."""
    return {"title": title,
            "description": "Published releases of figures from Freedom of Information requests: "
                           "each version of each release, as it was published.",
            "databases": {db.name: db.metadata for db in databases}}


class Catalogue:
    """The public release databases, brought up to date by ``refresh`` as embargoes lift and
    new versions are published.

    ``sessions`` opens a session on foitrack's database (closed here after each refresh);
    ``clock`` gives the time an embargo is compared with.
    """

    def __init__(self, sessions: Callable[[], Session], root: Path,
                 clock: Callable[[], dt.datetime]) -> None:
        self._sessions = sessions
        self._root = root
        self._clock = clock
        self._lock = threading.Lock()
        self.databases: dict[str, ReleaseDatabase] = {}

    def refresh(self) -> tuple[list[ReleaseDatabase], list[str]]:
        """Read which releases are public now: returns those newly public (whose file is
        there: one not yet written is tried again next time) and the names of any no longer
        public (none, unless the clock was set back), and keeps the answer."""
        with self._lock, self._sessions() as session:
            public = {database_name(release.campaign.slug, release.version): release
                      for release in publishing.releases_public_at(session, self._clock())}
            added = [describe(release, self._root) for name, release in public.items()
                     if name not in self.databases
                     and database_file(self._root, release).is_file()]
            gone = [name for name in self.databases if name not in public]
            current = {name: db for name, db in self.databases.items() if name in public}
            current.update((db.name, db) for db in added)
            # Swapped whole, never changed in place: readers on other threads see one or other.
            self.databases = dict(sorted(current.items()))
        return added, gone
