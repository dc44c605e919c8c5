"""Downloads of the campaign's data: read from one snapshot into a temporary file, then sent.

They were streamed from the database's cursor as the client read them. Two faults found in
review (tests/views/test_export_consistency.py):

- On SQLite (rollback journal) the open cursor holds the read lock for as long as the client
  takes to read the file, and no other connection can commit until it is let go: grid saves,
  events and imports failed with "database is locked" while someone downloaded slowly.
- The aggregate and the figures were read by separate statements with no shared snapshot
  (READ COMMITTED on PostgreSQL; a new state for each statement on SQLite), so a save during a
  download gave a file whose totals did not match its own figures.

So a download is built inside one read-only snapshot (foitrack.db.Database.snapshot) into a
SpooledTemporaryFile, which keeps the first few MB in memory and spills the rest to disk, and
the snapshot ends before the first byte goes out: the transaction (and on SQLite its lock) lasts
as long as the database work, never as long as the client's download, and memory stays bounded
however large the file. SQLite runs in WAL mode (foitrack.db), so writers commit past the
snapshot's reader; WAL alone would not give one file one state, the snapshot does.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from flask import Response
from sqlalchemy.orm import Session

from foitrack.models import Campaign
from foitrack.services import campaigns as campaign_service
from foitrack.services.datasets import (
    EXPORT_FORMATS,
    campaign_dataset,
    export_filename,
    write_export,
)
from foitrack.web.context import clock_settings, database, today

IN_MEMORY = 4 * 2**20  # bytes kept in memory before the file spills to disk
PIECE = 64 * 1024


def snapshot_download(build: Callable[[Session, IO[bytes]], None], name: str,
                      mimetype: str) -> Response:
    """The file ``build`` writes from a snapshot session, as an attachment called ``name``.

    Errors while building are raised here, so the client gets an error page, not a file cut
    short with a 200.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115 (closed on close)
    try:
        with database().snapshot() as session:
            build(session, spool)
        size = spool.seek(0, io.SEEK_END)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise

    def pieces() -> Iterator[bytes]:
        while block := spool.read(PIECE):
            yield block

    response = Response(pieces(), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(size)})
    response.call_on_close(spool.close)  # also when the client goes before the first piece
    return response


def write_text(pieces: Iterable[str], out: IO[bytes]) -> None:
    """Text pieces into ``out`` as the UTF-8 bytes a streamed response would have sent."""
    for piece in pieces:
        out.write(piece.encode("utf-8"))


def dataset_download(campaign: Campaign, fmt: str, table: str, checked: bool) -> Response:
    """The campaign's dataset as a download, for the page's links and the API alike: built from
    one snapshot of the database into a temporary file, then sent (the module says why it is no
    longer streamed from the cursor)."""
    slug, day, settings = campaign.slug, today(), clock_settings()

    def build(session: Session, out: IO[bytes]) -> None:
        # The campaign again, in the snapshot's own session: the request's is not in it.
        data = campaign_dataset(session, campaign_service.get_campaign(session, slug), day,
                                settings, checked)
        write_export(data, fmt, out, table)

    return snapshot_download(build, export_filename(slug, fmt, table, day), EXPORT_FORMATS[fmt])
