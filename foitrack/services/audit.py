"""Recording who changed what; every service write calls record() in the same transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from foitrack.db import driver_converter, driver_insert, utcnow
from foitrack.domain.timeline import EventKind, outcome_label
from foitrack.models import AuditEntry, AuthoritySet, User
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


# What a history table calls the fields snapshots record; a field not named here is shown as
# its name in words ("cadence_months" -> "Cadence months"). The keys stay in the audit rows.
FIELD_LABELS = {
    "owner_id": "Owner",
    "target_set_id": "Set",
    "embargo_until": "Embargo until",
    "send_on": "Send on",
    "repeat_of_id": "Repeat of",
    "cadence_months": "Repeated every (months)",
    "entered_by_user_id": "Entered by",
    "user_id": "User",
    "occurred_on": "On",
    "occurred_at": "At",
    "due_on": "New due date",
    "received_on": "Date of receipt",
    "request_id": "Request",
    "campaign_id": "Campaign",
    "measure_id": "Measure",
    "period_id": "Period",
    "category_id": "Category",
    "figure_id": "Figure",
    "source_file_id": "Source file",
    "source_event_id": "Source event",
}

# The ids worth turning into a name, with how: one primary-key lookup each (the session's
# identity map answers repeats), so a history of a few dozen entries stays cheap.
_NAMED_BY_ID: dict[str, tuple[type[Any], str]] = {
    "owner_id": (User, "email"),
    "user_id": (User, "email"),
    "entered_by_user_id": (User, "email"),
    "target_set_id": (AuthoritySet, "title"),
}
# Not named: a campaign's id (repeat_of_id), since the campaign it names may be embargoed from
# whoever reads this history.

NONE_SHOWN = "\N{EM DASH}"


def field_label(name: str) -> str:
    """How people read a recorded field's name: "owner_id" -> "Owner"."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    words = [_ACRONYMS.get(word, word) for word in name.removesuffix("_id").split("_") if word]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


_ACRONYMS = {"foi": "FOI", "ico": "ICO", "url": "URL", "csv": "CSV", "smtp": "SMTP"}


def shown_value(session: Session, name: str, value: Any) -> str:
    """A recorded value as people read it: the user's email for an owner's id, the set's
    title for a set's id, "12 Nov 2026" for a date, "—" for none; an id that names nothing
    any more (deleted) or that is not worth a lookup shows as "changed" rather than a number.
    """
    if value is None or value == "":
        return NONE_SHOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in _NAMED_BY_ID and isinstance(value, int):
        model, attribute = _NAMED_BY_ID[name]
        found = session.get(model, value)
        return str(getattr(found, attribute)) if found is not None else "changed"
    if name.endswith("_id") and isinstance(value, int):
        return "changed"
    if name == "outcome" and isinstance(value, str):
        return outcome_label(value)
    if name == "status" and isinstance(value, str):  # a campaign's "draft", a message's "sent"
        return value.replace("_", " ").capitalize()
    if name == "kind" and isinstance(value, str) and value in EventKind.__members__:
        return EventKind(value).label
    if isinstance(value, list):
        return ", ".join(shown_value(session, "", item) for item in value) or NONE_SHOWN
    if isinstance(value, str) and (name.endswith("_on") or name.endswith("_until")):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
        return f"{day.day} {day.strftime('%b')} {day.year}"
    return str(value)
