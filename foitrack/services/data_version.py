"""The data version: a number bumped in the same transaction as every audited change.

Pages cache what is slow to derive (a campaign's request states, the aggregate and its charts)
under this number, so a cache can never serve numbers older than the database's.

Why not the audit trail's largest id: on PostgreSQL ids are handed out at insert and
transactions commit in any order, so a long import (early ids, late commit) could land under a
largest id already seen and cached. Here the bump is an UPDATE of one row, made just before
COMMIT: a second writer waits on the row lock until the first has committed, so the numbers
go up in commit order. The lock is taken last and held only for the commit, so it cannot
close a cycle with any other lock (no deadlock), and readers never wait on it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from foitrack.db import rows_updated
from foitrack.models.data_version import DataVersion

_CHANGED = "foitrack.data_changed"


def mark_changed(session: Session) -> None:
    """Note that this transaction changes audited data; the version goes up when it commits.

    Not cleared on rollback: a savepoint's rollback leaves the outer changes, and a needless
    bump only costs one rebuild.
    """
    session.info[_CHANGED] = True


Version = tuple[int, str]


def current(session: Session) -> Version:
    """The version as committed: its number (0 before the first audited change) and stamp."""
    row = session.execute(
        select(DataVersion.number, DataVersion.stamp).where(DataVersion.id == 1)).first()
    return (row[0], row[1]) if row is not None else (0, "")


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    if not session.info.pop(_CHANGED, False):
        return
    done = rows_updated(session, update(DataVersion).where(DataVersion.id == 1)
                        .values(number=DataVersion.number + 1, stamp=uuid.uuid4().hex)
                        .execution_options(synchronize_session=False))
    if not done:
        # The migration inserts the row; an emptied database (tests) starts again here.
        session.execute(insert(DataVersion).values(id=1, number=1, stamp=uuid.uuid4().hex))
