"""Who may see a campaign: its embargo, its owner and its members.

A campaign whose results are embargoed (``embargo_until`` after today) is seen only by its
owner, the people made its members, and admins, who look after every account and backup and so
could read it anyway. To everyone else it does not exist: lists leave it out and its pages
answer 404, not 403, and the API says what it says of a campaign that never existed. (A new
campaign cannot take its slug, which confirms a guessed slug exists: slugs are one namespace.)
From the embargo date on it is seen by everyone signed in, as any other campaign; its members
are still listed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, selectinload

from foitrack.models import (
    Attachment,
    Campaign,
    CampaignMember,
    Figure,
    InboundMessage,
    OutgoingMessage,
    Request,
    Role,
    User,
)
from foitrack.services import audit
from foitrack.services.errors import Conflict, Forbidden, Invalid, NotFound


class Operator:
    """Whoever runs the command line on the server: they hold the database, so act as an admin."""

    is_authenticated = True
    role = Role.admin
    id = None


OPERATOR = Operator()


def under_embargo(campaign: Campaign, today: dt.date) -> bool:
    """Whether the campaign's results are still embargoed on ``today`` (the UK date)."""
    return campaign.embargo_until is not None and today < campaign.embargo_until


def _member(user_id: int) -> ColumnElement[bool]:
    return exists(select(CampaignMember.id).where(CampaignMember.campaign_id == Campaign.id,
                                                  CampaignMember.user_id == user_id))


def visible_clause(user: Any, today: dt.date) -> ColumnElement[bool]:
    """A condition on Campaign for the campaigns ``user`` may see, for list queries.

    ``user`` may be a signed-out visitor (Flask-Login's anonymous user), who sees none.
    """
    if not getattr(user, "is_authenticated", False):
        return false()
    if user.role is Role.admin:
        return true()
    return or_(Campaign.embargo_until.is_(None), Campaign.embargo_until <= today,
               Campaign.owner_id == user.id, _member(user.id))


def can_see(session: Session, user: Any, campaign: Campaign, today: dt.date) -> bool:
    if not under_embargo(campaign, today):
        return bool(getattr(user, "is_authenticated", False))
    return bool(session.scalar(select(visible_clause(user, today)).select_from(Campaign)
                               .where(Campaign.id == campaign.id)))


def can_see_slug(session: Session, user: Any, slug: str, today: dt.date) -> bool:
    """Whether ``user`` may see the campaign ``slug``; true when there is no such campaign, so
    that the page answers its own 404 as for any other unknown name."""
    found = session.execute(select(visible_clause(user, today)).select_from(Campaign)
                            .where(Campaign.slug == slug)).first()
    return found is None or bool(found[0])


def can_see_file(session: Session, user: Any, file_id: int, today: dt.date) -> bool:
    """Whether ``user`` may download a kept file: one that a page they can see links to.

    That is a figure's source, a reply or an attachment filed against a campaign they can see,
    or mail in the triage inbox (no campaign yet) that does not name a campaign hidden from
    them. Anything else, such as a template no figure points to any more, is for admins only:
    file ids are sequential, and a file that lost its link must not become everyone's.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role is Role.admin:
        return True
    visible = visible_clause(user, today)
    linked = [
        select(Figure.id).join(Request, Request.id == Figure.request_id).join(
            Campaign, Campaign.id == Request.campaign_id)
        .where(Figure.source_file_id == file_id, visible),
        select(InboundMessage.id).join(Request, Request.id == InboundMessage.request_id).join(
            Campaign, Campaign.id == Request.campaign_id)
        .where(InboundMessage.raw_file_id == file_id, visible),
        select(Attachment.id).join(InboundMessage, InboundMessage.id == Attachment.message_id)
        .join(Request, Request.id == InboundMessage.request_id)
        .join(Campaign, Campaign.id == Request.campaign_id)
        .where(Attachment.stored_file_id == file_id, visible),
    ]
    if any(session.scalar(select(exists(query))) for query in linked):
        return True
    waiting = session.scalars(select(InboundMessage.subject).where(
        InboundMessage.request_id.is_(None),
        or_(InboundMessage.raw_file_id == file_id, InboundMessage.id.in_(
            select(Attachment.message_id).where(Attachment.stored_file_id == file_id))))).all()
    if not waiting:
        return False
    hidden = hidden_names(session, user, today)
    return any(not names_hidden(subject, hidden) for subject in waiting)


def hidden_names(session: Session, user: Any, today: dt.date) -> list[str]:
    """The titles and slugs, lower-cased, of the campaigns under embargo hidden from ``user``."""
    rows = session.execute(select(Campaign.title, Campaign.slug).where(
        Campaign.embargo_until > today, ~visible_clause(user, today))).all()
    return [name.casefold() for row in rows for name in row if len(name) >= 4]


def names_hidden(subject: str, hidden: list[str]) -> bool:
    """Whether a message's subject names a hidden campaign: such a reply, waiting in the triage
    inbox because it could not be matched, is kept from those outside the campaign."""
    subject = (subject or "").casefold()
    return any(name in subject for name in hidden)


def visible_request_clause(user: Any, today: dt.date) -> ColumnElement[bool]:
    """A condition on Request (or anything joined to one) for requests of visible campaigns."""
    return Request.campaign_id.in_(select(Campaign.id).where(visible_clause(user, today)))


def visible_message_clause(user: Any, today: dt.date) -> ColumnElement[bool]:
    """A condition on OutgoingMessage for those of visible campaigns; a digest (of no campaign,
    counting the recipient's late requests) only for its recipient and admins."""
    if getattr(user, "is_authenticated", False) and user.role is Role.admin:
        return true()
    return or_(
        and_(OutgoingMessage.request_id.is_(None), OutgoingMessage.to_address == user.email),
        OutgoingMessage.request_id.in_(select(Request.id).where(visible_request_clause(user, today))))


# ---- members ----------------------------------------------------------------------------------

def members(session: Session, campaign: Campaign) -> list[CampaignMember]:
    return list(session.scalars(
        select(CampaignMember).where(CampaignMember.campaign_id == campaign.id)
        .options(selectinload(CampaignMember.user)).join(User, User.id == CampaignMember.user_id)
        .order_by(User.name, User.email)))


def can_manage(user: Any, campaign: Campaign) -> bool:
    """The owner and admins choose who is let in."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.role is Role.admin or (campaign.owner_id is not None and campaign.owner_id == user.id))


def _member_emails(session: Session, campaign: Campaign) -> list[str]:
    return sorted(session.scalars(select(User.email).join(
        CampaignMember, CampaignMember.user_id == User.id).where(
        CampaignMember.campaign_id == campaign.id)))


def _record(session: Session, actor: audit.Actor, campaign: Campaign, before: list[str]) -> None:
    # Against the campaign itself, so its history shows who was let in or out, by whom, when.
    audit.record(session, actor, "campaign", campaign.id, "update", {"members": before},
                 {"members": _member_emails(session, campaign)})


def check_embargo_change(by: Any, campaign: Campaign, embargo_until: dt.date | None) -> None:
    """Only the owner or an admin sets, moves or lifts an embargo: anyone else could hide the
    campaign from the team, themselves included, or open it early.

    :raises Invalid: naming the field ``embargo_until``.
    """
    if embargo_until != campaign.embargo_until and not can_manage(by, campaign):
        raise Invalid("only the campaign's owner or an admin may set, move or lift its embargo",
                      "embargo_until")


def add_member(session: Session, actor: audit.Actor, by: Any, campaign: Campaign,
               email: str) -> CampaignMember:
    """Let the person with ``email`` into the campaign.

    :raises Forbidden: unless ``by`` is the owner or an admin.
    :raises Invalid: naming the field ``email`` for an unknown or deactivated account.
    :raises Conflict: if they are already in (the owner counts as in).
    """
    if not can_manage(by, campaign):
        raise Forbidden("only the campaign's owner or an admin chooses its members")
    wanted = (email or "").strip().lower()
    if not wanted:
        raise Invalid("enter the email address of the person to add", "email")
    user = session.scalar(select(User).where(User.email == wanted))
    if user is None or not user.active:
        raise Invalid(f"no active account with the address {wanted!r}", "email")
    if user.id == campaign.owner_id:
        raise Conflict(f"{user.email} owns this campaign and sees it already")
    if session.scalar(select(CampaignMember.id).where(CampaignMember.campaign_id == campaign.id,
                                                      CampaignMember.user_id == user.id)):
        raise Conflict(f"{user.email} is already a member")
    before = _member_emails(session, campaign)
    member = CampaignMember(campaign_id=campaign.id, user_id=user.id, added_by=actor.label)
    session.add(member)
    session.flush()
    _record(session, actor, campaign, before)
    return member


def remove_member(session: Session, actor: audit.Actor, by: Any, campaign: Campaign,
                  user_id: int) -> User:
    """Take a person out of the campaign; returns who. The campaign's history keeps that they
    were in.

    :raises Forbidden: unless ``by`` is the owner or an admin.
    :raises NotFound: if they are not a member.
    """
    if not can_manage(by, campaign):
        raise Forbidden("only the campaign's owner or an admin chooses its members")
    member = session.scalar(select(CampaignMember).where(
        CampaignMember.campaign_id == campaign.id, CampaignMember.user_id == user_id))
    if member is None:
        raise NotFound("that person is not a member of this campaign")
    user = member.user
    before = _member_emails(session, campaign)
    session.delete(member)
    session.flush()
    _record(session, actor, campaign, before)
    return user
