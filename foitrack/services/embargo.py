"""A release's embargo lifting, as the scheduler sees it: recorded in the audit trail once.

The portal needs none of this to open a release (publishing.is_public compares the time on
every request); this is the record that it happened, for whoever reads the trail later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foitrack.models import Campaign, PublishedRelease, ReleaseOpening
from foitrack.services import audit


@dataclass(frozen=True)
class Opened:
    """A release seen open to the public for the first time."""

    release_id: int
    campaign_id: int
    slug: str
    version: int
    embargo_until: dt.datetime


def record_openings(session: Session, actor: audit.Actor, now: dt.datetime) -> list[Opened]:
    """Record, once each, the releases whose embargo has passed by ``now`` and that were not
    recorded yet: a ReleaseOpening row and an audit entry "release vN opened to the public".
    Safe to run twice, or in two schedulers at once (the row's key keeps one)."""
    return [opened for opened in (record_opening(session, actor, release, now)
                                  for release in due_openings(session, now)) if opened]


def due_openings(session: Session, now: dt.datetime) -> list[Opened]:
    """The releases past their embargo by ``now`` whose opening is not recorded yet."""
    waiting = session.execute(
        select(PublishedRelease.id, PublishedRelease.campaign_id, PublishedRelease.version,
               PublishedRelease.embargo_until, Campaign.slug)
        .join(Campaign, Campaign.id == PublishedRelease.campaign_id)
        .outerjoin(ReleaseOpening, ReleaseOpening.release_id == PublishedRelease.id)
        .where(PublishedRelease.embargo_until.is_not(None), ReleaseOpening.release_id.is_(None))
        .order_by(PublishedRelease.id)).all()
    # Compared in Python, in UTC, as publishing.is_public does (the same on every database).
    return [Opened(release_id, campaign_id, slug, version, embargo_until)
            for release_id, campaign_id, version, embargo_until, slug in waiting
            if embargo_until is not None and embargo_until <= now]


def record_opening(session: Session, actor: audit.Actor, release: Opened,
                   now: dt.datetime) -> Opened | None:
    """Record one release's opening; None when another session recorded it first."""
    try:
        with session.begin_nested():
            session.add(ReleaseOpening(release_id=release.release_id, recorded_at=now))
    except IntegrityError:
        return None  # another scheduler recorded it first
    audit.record(session, actor, "published_release", release.release_id, "open",
                 after={"campaign": release.slug, "version": release.version,
                        "embargo_until": release.embargo_until,
                        "text": f"release v{release.version} opened to the public"},
                 campaign_id=release.campaign_id)
    return release
