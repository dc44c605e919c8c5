"""Holding requests while their timeline or figures are read and then changed.

A save reads what is there (a request's events, its figures), checks or merges the new input
with it, and writes. Two saves of one request that both read before either writes each pass
their checks on what they read, and the later one then overwrites the earlier, fails on a
unique index, or leaves an impossible timeline (two "sent" events). Holding the request before
the read makes the second save wait for the first to end and then read what it wrote (found by
the load test, benchmarks/load.py; docs/reliability.md "No lost updates").

PostgreSQL locks the requests' rows (SELECT ... FOR UPDATE) until the transaction ends; SQLite
has one writer at a time anyway, so it takes the database's write lock now (BEGIN IMMEDIATE)
rather than at the first write, after the reads.

Order: whatever holds several requests holds them by id, ascending, in one statement, so two
such transactions (an import and a bulk action) wait for each other instead of deadlocking.
Something that already holds some requests must not then hold one of a lower id.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from foitrack.models import Campaign, Request


def sqlite_write_lock(session: Session) -> bool:
    """On SQLite take the write lock now (True); False on other databases."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    connection = session.connection()
    driver_connection = connection.connection.dbapi_connection
    # session.connection() has just checked a live connection out of the pool.
    assert driver_connection is not None
    # pysqlite opens a transaction only before a write, so one already open already has the
    # write lock; one not open is opened here with it.
    if not driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    return True


def hold_request(session: Session, request: Request) -> None:
    """Make a colleague's save of this request (its figures or its timeline) wait until this
    transaction ends. Call it before reading what the save is checked or merged with."""
    if not sqlite_write_lock(session):
        session.execute(select(Request.id).where(Request.id == request.id).with_for_update())


def hold_requests(session: Session, requests: Iterable[Request]) -> None:
    """Hold several requests, in id order (see the module's note on deadlocks)."""
    ids = sorted({request.id for request in requests})
    if ids and not sqlite_write_lock(session):
        session.execute(select(Request.id).where(Request.id.in_(ids))
                        .order_by(Request.id).with_for_update())


def hold_campaign_requests(session: Session, campaign: Campaign) -> None:
    """Hold every request of a campaign, in id order: for an import that may write to any of
    them. (Not a lock on the campaign's row: then every save of one request would have to take
    that too, a second lock for each of them, to be kept out by it.)"""
    if not sqlite_write_lock(session):
        session.execute(select(Request.id).where(Request.campaign_id == campaign.id)
                        .order_by(Request.id).with_for_update())
