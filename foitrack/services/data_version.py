"""Data versions: numbers bumped in the same transaction as every audited change, one per scope.

Pages cache what is slow to derive (a campaign's request states, the aggregate and its charts)
under the versions of the scopes they read, so a cache can never serve numbers older than the
database's, and a write to one campaign leaves every other campaign's pages valid.

The scopes:
- ``campaign:<id>``: the campaign, its design, requests, events, figures, letters, findings,
  mail and reference figures;
- ``series:<id>``: a series' own name and description (its campaigns have their own scopes);
- ``registry``: authorities, their sets and populations, which every campaign page reads;
- ``accounts``: users and API tokens;
- ``mail`` and ``jobs``: messages and jobs that belong to no request or campaign;
- ``all``: what could not be traced to a narrower scope (an entity already deleted, a kind of
  entity this module does not know). Every reader includes it, so a change nobody can place
  still empties every page: wrong only by costing a rebuild, never by serving stale numbers.

Why a row per scope and not the audit trail's largest id: on PostgreSQL ids are handed out at
insert and transactions commit in any order, so a long import (early ids, late commit) could
land under a largest id already seen and cached. Here a bump is an UPDATE of the scope's row,
made just before COMMIT: a second writer to the same scope waits on the row lock until the
first has committed, so each scope's numbers go up in commit order. The rows are taken in one
order (sorted by scope), last and only for the commit, so two writers cannot deadlock on them,
and readers never wait.
"""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from foitrack.db import rows_updated
from foitrack.models import (
    Event,
    Figure,
    InboundMessage,
    Job,
    MailTemplate,
    OutgoingMessage,
    ReferenceFigure,
    Request,
)
from foitrack.models.data_version import DataVersion

log = logging.getLogger(__name__)

ALL = "all"
REGISTRY = "registry"
ACCOUNTS = "accounts"
MAIL = "mail"
JOBS = "jobs"

# session.info keys: the scopes this transaction changes, and audited entities whose campaign
# is still to be looked up (entity type -> ids).
_SCOPES = "foitrack.changed_scopes"
_PENDING = "foitrack.changed_entities"
# ...and the scopes bumped so far in the transaction being committed, for ``on_commit``.
_COMMITTED = "foitrack.committed_scopes"

# Entities outside any campaign, by the scope they change.
_FIXED_SCOPE = {
    "authority": REGISTRY, "authority_set": REGISTRY, "population": REGISTRY,
    "user": ACCOUNTS, "api_token": ACCOUNTS,
    # Letter templates' files are read when a letter is drawn, never from a cached page.
    "stored_file": MAIL,
}
# Entities inside a campaign: how to find it from their id, and the scope to change when the
# row has no campaign (mail not matched to a request, a job for no campaign).
_CAMPAIGN_OF: dict[str, tuple[Any, Any, str]] = {
    "request": (Request.id, Request.campaign_id, ALL),
    "event": (Event.id, Request.campaign_id, ALL),
    "figure": (Figure.id, Request.campaign_id, ALL),
    "outgoing_message": (OutgoingMessage.id, Request.campaign_id, MAIL),
    "inbound_message": (InboundMessage.id, Request.campaign_id, MAIL),
    "job": (Job.id, Job.campaign_id, JOBS),
    "mail_template": (MailTemplate.id, MailTemplate.campaign_id, ALL),
    "reference_figure": (ReferenceFigure.id, ReferenceFigure.campaign_id, ALL),
}
# How each of those reaches the request that names the campaign, where it needs to.
_JOIN = {
    "event": Event.request_id, "figure": Figure.request_id,
    "outgoing_message": OutgoingMessage.request_id, "inbound_message": InboundMessage.request_id,
}
_CHUNK = 500  # ids per lookup: well inside every driver's limit on bound parameters


def campaign_scope(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def series_scope(series_id: int) -> str:
    return f"series:{series_id}"


def mark_changed(session: Session, entity_type: str | None = None, ids: Iterable[object] = (),
                 *, campaign_id: int | None = None) -> None:
    """Note that this transaction changes audited data; the versions go up when it commits.

    ``entity_type`` and ``ids`` name what changed, as the audit trail does; its scope is found
    from them (looked up before the next flush, while a row about to be deleted is still there).
    ``campaign_id``, when the caller knows it, saves the lookup. With neither, "all" changes.
    Not cleared on rollback: a savepoint's rollback leaves the outer changes, and a needless
    bump only costs one rebuild.
    """
    scopes: set[str] = session.info.setdefault(_SCOPES, set())
    if campaign_id is not None:
        scopes.add(campaign_scope(campaign_id))
    elif entity_type == "campaign":
        scopes.update(_campaign_ids_or_all(ids))
    elif entity_type == "series":
        scopes.update(series_scope(int(str(i))) if str(i).isdigit() else ALL for i in ids)
    elif entity_type in _FIXED_SCOPE:
        scopes.add(_FIXED_SCOPE[entity_type])
    elif entity_type in _CAMPAIGN_OF:
        pending: dict[str, set[str]] = session.info.setdefault(_PENDING, {})
        pending.setdefault(entity_type, set()).update(str(i) for i in ids)
    else:
        scopes.add(ALL)


def _campaign_ids_or_all(ids: Iterable[object]) -> set[str]:
    return {campaign_scope(int(str(i))) if str(i).isdigit() else ALL for i in ids}


def _resolve(session: Session) -> None:
    """Turn the entities noted since the last lookup into the scopes of their campaigns."""
    pending: dict[str, set[str]] = session.info.pop(_PENDING, {})
    if not pending:
        return
    scopes: set[str] = session.info.setdefault(_SCOPES, set())
    with session.no_autoflush:
        for entity_type, raw in pending.items():
            key, campaign, no_campaign = _CAMPAIGN_OF[entity_type]
            ids = sorted(int(i) for i in raw if i.isdigit())
            if len(ids) < len(raw):
                scopes.add(ALL)
            found: dict[int, int | None] = {}
            for start in range(0, len(ids), _CHUNK):
                query = select(key, campaign).where(key.in_(ids[start:start + _CHUNK]))
                if entity_type in _JOIN:
                    query = query.outerjoin(Request, _JOIN[entity_type] == Request.id)
                found.update((row[0], row[1]) for row in session.execute(query))
            if len(found) < len(ids):
                scopes.add(ALL)  # gone already: nobody can say which campaign held it
            scopes.update(campaign_scope(c) if c is not None else no_campaign
                          for c in found.values())


@event.listens_for(Session, "before_flush")
def _resolve_before_flush(session: Session, *_: Any) -> None:
    # Before the flush's DELETEs: an entity audited as deleted can still be traced.
    _resolve(session)


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    _resolve(session)
    scopes = session.info.pop(_SCOPES, None)
    if not scopes:
        return
    # A savepoint's release also comes here: what it bumped is kept with the rest until the
    # whole transaction commits (or a new one starts: _forget_committed).
    session.info.setdefault(_COMMITTED, set()).update(scopes)
    for scope in sorted(scopes):  # one order for every writer: no deadlock between them
        stamp = uuid.uuid4().hex
        done = rows_updated(session, update(DataVersion).where(DataVersion.scope == scope)
                            .values(number=DataVersion.number + 1, stamp=stamp)
                            .execution_options(synchronize_session=False))
        if not done:
            # The scope's first change. Two first writers may race: the second's insert
            # becomes an update once the first has committed.
            insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
                      else sqlite.insert)(DataVersion)
            session.execute(insert.values(scope=scope, number=1, stamp=stamp).on_conflict_do_update(
                index_elements=[DataVersion.scope],
                set_={"number": DataVersion.number + 1, "stamp": stamp}))


@event.listens_for(Session, "after_transaction_create")
def _forget_committed(session: Session, transaction: Any) -> None:
    # A new outermost transaction: what the last one bumped was committed and told, or rolled
    # back, and must not be told with this one's.
    if transaction.parent is None:
        session.info.pop(_COMMITTED, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: Any) -> None:
    # The whole transaction rolled back: what it changed did not happen, and the session's next
    # commit (a page that reads and keeps a derived value after a refused upload, say) must not
    # bump for it. A savepoint's rollback keeps the marks: a needless bump costs a rebuild only.
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_SCOPES, None)
        session.info.pop(_PENDING, None)


# What each watched session factory's sessions tell after a commit (the latest given).
_on_commit: weakref.WeakKeyDictionary[Any, Callable[[set[int]], object]] = (
    weakref.WeakKeyDictionary())


def on_commit(maker: sessionmaker[Any], callback: Callable[[set[int]], object] | None) -> None:
    """After each commit of a session made by ``maker`` whose transaction changed campaigns,
    call ``callback`` with their ids (what pages to rebuild ahead of their readers, as
    foitrack.services.page_data does); None stops it. Watching again only changes the callback.

    The callback runs after the commit, in the committing thread: it must be quick (hand the
    work on) and its failures are logged, never raised into the code that committed. A change
    to the registry or to "all" names no campaign, and is not told.
    """
    first = maker not in _on_commit
    if callback is None:
        _on_commit.pop(maker, None)
        return
    _on_commit[maker] = callback
    if not first:
        return

    def committed(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint's release: the transaction has not committed yet
        scopes: set[str] = session.info.pop(_COMMITTED, set())
        told = _on_commit.get(maker)
        ids = {int(scope.partition(":")[2]) for scope in scopes
               if scope.startswith("campaign:") and scope.partition(":")[2].isdigit()}
        if told is None or not ids:
            return
        try:
            told(ids)
        except Exception:  # noqa: BLE001 - the commit is done; a failure here must not undo it
            log.exception("after committing campaigns %s", sorted(ids))

    event.listen(maker, "after_commit", committed)


Version = tuple[tuple[str, int, str], ...]
"""The versions a cached value was derived under: (scope, number, stamp) for each scope it
read, "all" included, sorted by scope. Equal versions mean nothing it read has changed."""


def of_scopes(session: Session, scopes: Iterable[str]) -> Version:
    """The committed versions of these scopes and "all" (a scope never changed is 0)."""
    wanted = sorted({ALL, *scopes})
    held = {row[0]: (row[1], row[2]) for row in session.execute(
        select(DataVersion.scope, DataVersion.number, DataVersion.stamp)
        .where(DataVersion.scope.in_(wanted)))}
    return tuple((scope, *held.get(scope, (0, ""))) for scope in wanted)


def of_campaigns(session: Session, campaign_ids: Iterable[int], *more: str) -> Version:
    """What a page derived from these campaigns reads: theirs and the registry's (names,
    codes, sets and populations of the authorities), and any ``more`` scopes."""
    return of_scopes(session, [REGISTRY, *more, *(campaign_scope(i) for i in campaign_ids)])


def current(session: Session) -> Version:
    """Every scope's version: what a page that reads everything keys on."""
    return tuple((row[0], row[1], row[2]) for row in session.execute(
        select(DataVersion.scope, DataVersion.number, DataVersion.stamp)
        .order_by(DataVersion.scope)))
