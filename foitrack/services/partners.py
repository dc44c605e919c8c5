"""Partners' private links: an embargoed release shown, before its embargo, to named newsrooms
only, each through its own link that can be revoked, and every page or file it serves logged.

The token is made here and returned once; only its SHA-256 is kept (as an invitation's), so
the database, a backup or the access log opens nothing. A link opens one release only: its
pages and files are looked up from the link, never from anything else in the address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from foitrack.errors import Conflict, Invalid, NotFound, Problem
from foitrack.models import PartnerAccess, PublishedRelease, ReleasePartner
from foitrack.services import audit, publishing
from foitrack.services.users import normalise_email

NAME_LIMIT = 200
PATH_LIMIT = 1000
# Longer than any token made here (43 characters): a longer one is no link, not worth hashing.
_MAX_TOKEN_LENGTH = 64


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(base_url: str | None, token: str) -> str:
    """A link's address: absolute on FOITRACK_BASE_URL when it is set (as
    publishing.release_url), else the path, to put after the site's address."""
    path = f"/data/shared/{token}/"
    return f"{base_url.rstrip('/')}{path}" if base_url else path


def add(session: Session, actor: audit.Actor, release: PublishedRelease, *, name: str,
        email: str | None = None, now: dt.datetime) -> tuple[ReleasePartner, str]:
    """A new private link to ``release`` for the partner ``name``, and its token (shown once,
    kept nowhere).

    :raises Invalid: naming ``name`` or ``email``; nothing is added then.
    :raises Conflict: when the release is public already (its own address is the link).
    """
    problems: list[Problem] = []
    name = " ".join((name or "").split())
    if not name:
        problems.append(Problem("a partner needs a name, e.g. BBC Shared Data Unit", "name"))
    elif len(name) > NAME_LIMIT:
        problems.append(Problem(f"at most {NAME_LIMIT} characters", "name"))
    address = None
    if email is not None and email.strip():
        try:
            address = normalise_email(email)
        except Invalid as error:
            problems += error.problems
    if problems:
        raise Invalid(problems)
    if publishing.is_public(release, now):
        raise Conflict(f"version {release.version} of {release.campaign.slug} is public "
                       "already: share its own address")
    token = secrets.token_urlsafe(32)
    link = ReleasePartner(release_id=release.id, name=name, email=address,
                          token_sha256=digest(token), created_at=now, created_by=actor.label)
    session.add(link)
    session.flush()
    audit.record(session, actor, "release_partner", link.id, "share",
                 after={"campaign": release.campaign.slug, "version": release.version,
                        "name": name, "email": address},
                 campaign_id=release.campaign_id)
    return link, token


def links(session: Session, release: PublishedRelease) -> list[ReleasePartner]:
    """Every link ever made to ``release``, revoked ones too, the first first."""
    return list(session.scalars(select(ReleasePartner)
                                .where(ReleasePartner.release_id == release.id)
                                .order_by(ReleasePartner.id)))


def get_link(session: Session, link_id: int) -> ReleasePartner:
    """:raises NotFound:"""
    link = session.get(ReleasePartner, link_id)
    if link is None:
        raise NotFound(f"no partner link {link_id}")
    return link


def revoke(session: Session, actor: audit.Actor, link_id: int,
           now: dt.datetime) -> ReleasePartner:
    """Close a link at once: from the next request it is the same 404 as an unknown one.

    :raises NotFound: for an unknown link.
    :raises Conflict: when it was revoked already (nothing changes).
    """
    link = get_link(session, link_id)
    if link.revoked_at is not None:
        raise Conflict(f"partner link {link_id} ({link.name}) was revoked already, by "
                       f"{link.revoked_by}")
    link.revoked_at = now
    link.revoked_by = actor.label
    audit.record(session, actor, "release_partner", link.id, "revoke",
                 before={"name": link.name}, after={"revoked_at": now},
                 campaign_id=link.release.campaign_id)
    return link


def resolve(session: Session, token: str) -> ReleasePartner:
    """The link ``token`` opens, with its release.

    :raises NotFound: for a revoked, unknown or malformed token alike.
    """
    link = None
    if token and len(token) <= _MAX_TOKEN_LENGTH:
        link = session.scalar(select(ReleasePartner)
                              .options(joinedload(ReleasePartner.release))
                              .where(ReleasePartner.token_sha256 == digest(token)))
    if link is None or link.revoked_at is not None:
        raise NotFound("no such link")
    return link


def record_access(session: Session, link: ReleasePartner, path: str,
                  at: dt.datetime) -> PartnerAccess:
    """Log that ``link`` served ``path`` (the address below the link, never the token)."""
    access = PartnerAccess(partner_id=link.id, path=path[:PATH_LIMIT], at=at)
    session.add(access)
    return access


def accesses(session: Session, release: PublishedRelease) -> list[PartnerAccess]:
    """What every link to ``release`` served, the first first (each with its link)."""
    return list(session.scalars(
        select(PartnerAccess).join(PartnerAccess.partner)
        .options(joinedload(PartnerAccess.partner))
        .where(ReleasePartner.release_id == release.id)
        .order_by(PartnerAccess.at, PartnerAccess.id)))


def usage(session: Session, release: PublishedRelease) -> dict[int, tuple[int, dt.datetime]]:
    """Each link to ``release`` that served anything -> (how many times, when last), in one
    query (a link never used is absent)."""
    rows = session.execute(
        select(PartnerAccess.partner_id, func.count(PartnerAccess.id), func.max(PartnerAccess.at))
        .join(PartnerAccess.partner)
        .where(ReleasePartner.release_id == release.id)
        .group_by(PartnerAccess.partner_id))
    return {partner_id: (times, last) for partner_id, times, last in rows}


def recent_accesses(session: Session, release: PublishedRelease,
                    per_link: int) -> dict[int, list[PartnerAccess]]:
    """Each link to ``release`` -> at most ``per_link`` of what it served, the newest first, in
    one query (a page lists them; ``usage`` says how many there are in all)."""
    newest = func.row_number().over(partition_by=PartnerAccess.partner_id,
                                     order_by=(PartnerAccess.at.desc(), PartnerAccess.id.desc()))
    ranked = (select(PartnerAccess.id, newest.label("rank")).join(PartnerAccess.partner)
              .where(ReleasePartner.release_id == release.id).subquery())
    found: dict[int, list[PartnerAccess]] = {}
    for access in session.scalars(
            select(PartnerAccess).join(ranked, ranked.c.id == PartnerAccess.id)
            .where(ranked.c.rank <= per_link)
            .order_by(PartnerAccess.partner_id, PartnerAccess.at.desc(),
                      PartnerAccess.id.desc())):
        found.setdefault(access.partner_id, []).append(access)
    return found
