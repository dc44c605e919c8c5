"""Recording who changed what; every service write calls record() in the same transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from foitrack.db import driver_converter, driver_insert, utcnow
from foitrack.models import AuditEntry, User
from foitrack.services import data_version


@dataclass(frozen=True)
class Actor:
    """Who is making a change: a signed-in user, or a named command acting for nobody."""

    label: str
    user_id: int | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(label=user.email, user_id=user.id)

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(label=what)


def _plain(value: Any) -> Any:
    """JSON-friendly copy of a snapshot value."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return value


def record(
    session: Session,
    actor: Actor,
    entity_type: str,
    entity_id: object,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    campaign_id: int | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (flushed with the change it describes).

    ``campaign_id``, where the caller has it, names the campaign changed without a lookup
    (foitrack.services.data_version).
    """
    entry = AuditEntry(
        user_id=actor.user_id,
        actor=actor.label,
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )
    session.add(entry)
    data_version.mark_changed(session, entity_type, [entity_id], campaign_id=campaign_id)
    return entry


def record_many(
    session: Session,
    actor: Actor,
    entity_type: str,
    action: str,
    afters: list[tuple[object, dict[str, Any]]],
    at: dt.datetime | None = None,
    *,
    campaign_id: int | None = None,
) -> None:
    """Audit entries for many entities at once (one batched INSERT), e.g. a large import.

    ``afters`` pairs each entity's id with its state after the change, in JSON-ready values
    (strings, numbers, None): unlike record(), they are not converted.
    """
    if not afters:
        return
    at = at or utcnow()
    data_version.mark_changed(session, entity_type, [entity_id for entity_id, _ in afters],
                              campaign_id=campaign_id)
    # Straight to the driver (foitrack.db.driver_insert), the same JSON and timestamp text
    # SQLAlchemy would write, the constants converted once.
    table = cast(Table, AuditEntry.__table__)  # a mapped class's table is a Table
    connection = session.connection()
    to_json = driver_converter(table, "after", connection.dialect)
    constants = (driver_converter(table, "at", connection.dialect)(at), actor.user_id, actor.label,
                 entity_type, action, to_json(None))
    columns = ("at", "user_id", "actor", "entity_type", "action", "before", "entity_id", "after")
    driver_insert(connection, table, columns,
                  [(*constants, str(entity_id), to_json(after)) for entity_id, after in afters])


def changed_fields(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def history(session: Session, entity_type: str, entity_id: object) -> list[AuditEntry]:
    """The audit entries for one entity, newest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        )
    )
