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
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, selectinload

from foitrack.domain.email_addresses import email_key
from foitrack.errors import Conflict, Forbidden, Invalid, NotFound
from foitrack.models import (
    Attachment,
    Authority,
    Campaign,
    CampaignMember,
    CampaignStatus,
    CampaignVersion,
    Figure,
    InboundMessage,
    Job,
    MailTemplate,
    OutgoingMessage,
    Request,
    Role,
    StoredFile,
    User,
)
from foitrack.services import audit
from foitrack.services.mail_templates import DEFAULTS


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


def is_public_id(text: Any) -> bool:
    """Whether ``text`` could be a kept file's public id (anything else names no file, and is
    not worth a query: PostgreSQL refuses to compare text holding a NUL)."""
    return isinstance(text, str) and bool(_PUBLIC_ID.fullmatch(text))


_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def can_see_file(session: Session, user: Any, public_id: str, today: dt.date) -> bool:
    """Whether ``user`` may download the kept file named ``public_id`` in its link: one that a
    page they can see links to.

    That is a figure's source, a reply or an attachment filed against a campaign they can see,
    or, for researchers (who work the triage inbox; viewers never see it), mail in the triage
    inbox that the user's triage screen does not hide. Anything else, such as a template no
    figure points to any more, is for admins only: a file that lost its link must not become
    everyone's.
    """
    if not getattr(user, "is_authenticated", False) or not is_public_id(public_id):
        return False
    file_id = session.scalar(select(StoredFile.id).where(StoredFile.public_id == public_id))
    if file_id is None:
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
    # A dataset built in the background: for whoever may see the job that built it.
    if session.scalar(select(exists(select(Job.id).where(
            Job.result_file_id == file_id, visible_job_clause(user, today))))):
        return True
    if not user.role.allows(Role.researcher):
        return False
    waiting = session.scalars(select(InboundMessage).where(
        InboundMessage.request_id.is_(None),
        or_(InboundMessage.raw_file_id == file_id, InboundMessage.id.in_(
            select(Attachment.message_id).where(Attachment.stored_file_id == file_id))))).all()
    if not waiting:
        return False
    screen = triage_screen(session, user, today)
    return any(not screen.hides(message) for message in waiting)


# ---- the triage inbox --------------------------------------------------------------------------

# The bracketed reference token foitrack puts in every subject, as in services.mail; matched
# here leniently (any case) since it only decides what to hide.
_TOKEN = re.compile(r"\[FOI-(\d{1,18})-[A-Z0-9]{1,12}\]", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Template code in a subject: what is left between is the wording every such subject shares.
_TEMPLATE_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# Fixed wording shorter than this is too common to hide mail by ("Overdue:", "Re:").
_MIN_FIXED_WORDING = 10
# How much of a message body is searched: quoted subjects and tokens come near the top.
_BODY_SEARCHED = 50_000


def _plain(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def _sender_domain(address: str | None) -> str:
    address = (address or "").strip().strip("<>")
    return address.rsplit("@", 1)[-1].lower().strip(". ") if "@" in address else ""


@dataclass(frozen=True)
class TriageScreen:
    """What marks a message waiting in the triage inbox as possibly belonging to a campaign
    hidden from one user (see ``triage_screen``). Admins' screen hides nothing."""

    hides_nothing: bool
    hides_everything: bool = False
    phrases: tuple[str, ...] = ()
    visible_request_ids: frozenset[int] = frozenset()
    hidden_message_ids: frozenset[str] = frozenset()
    hidden_domains: frozenset[str] = frozenset()

    def hides(self, message: Any) -> bool:
        """Whether ``message`` (an InboundMessage, or anything with its subject, body_text,
        in_reply_to, references and from_address) is kept from the user."""
        if self.hides_nothing or self.hides_everything:
            return self.hides_everything
        subject = message.subject or ""
        body = (message.body_text or "")[:_BODY_SEARCHED]
        for token in _TOKEN.finditer(f"{subject}\n{body}"):
            if int(token.group(1)) not in self.visible_request_ids:
                return True
        if self.hidden_message_ids and any(
                found in self.hidden_message_ids for found in _MESSAGE_ID.findall(
                    f"{message.in_reply_to or ''} {message.references or ''}")):
            return True
        domain = _sender_domain(message.from_address)
        if domain and any(domain == d or domain.endswith(f".{d}") for d in self.hidden_domains):
            return True
        text = f"{_plain(subject)}\n{_plain(body)}"
        return any(phrase in text for phrase in self.phrases)


def _fixed_wording(template: str) -> list[str]:
    return [part.strip(" \t:-–—|/[]()") for part in _TEMPLATE_CODE.split(template)]


def triage_screen(session: Session, user: Any, today: dt.date) -> TriageScreen:
    """The screen that keeps from ``user`` the unmatched replies that may belong to a campaign
    hidden from them, in a fixed number of queries.

    A message waiting in the triage inbox is hidden when
    - it quotes a reference token ``[FOI-<id>-<AUTH>]`` of a request the user cannot see, or of
      no request at all (so that which ids exist in a hidden campaign cannot be told apart from
      ids that exist nowhere);
    - it answers (In-Reply-To, References) a message sent for a hidden campaign;
    - its subject or body names a hidden campaign: its title, slug, any wording of its email
      subject, the fixed wording of its own mail templates' subjects, or an authority's
      reference for one of its requests;
    - it comes from the email domain of an authority asked in a hidden campaign that has no
      request in an active campaign the user can see. (Most authorities are asked in several
      campaigns at once: hiding all their mail because one campaign is embargoed would empty
      the inbox of everyone outside it, while mail from an authority asked only in a hidden
      campaign is almost surely for that campaign.)
    """
    if not getattr(user, "is_authenticated", False):
        return TriageScreen(hides_nothing=False, hides_everything=True)
    if user.role is Role.admin:
        return TriageScreen(hides_nothing=True)
    visible_ids = frozenset(session.scalars(select(Request.id).where(
        visible_request_clause(user, today))))
    hidden = list(session.execute(select(Campaign.id, Campaign.title, Campaign.slug).where(
        Campaign.embargo_until > today, ~visible_clause(user, today))))
    if not hidden:
        return TriageScreen(hides_nothing=False, visible_request_ids=visible_ids)
    hidden_ids = [row.id for row in hidden]
    phrases = _hidden_phrases(session, hidden)
    message_ids = frozenset(session.scalars(select(OutgoingMessage.message_id).join(
        Request, Request.id == OutgoingMessage.request_id).where(
        Request.campaign_id.in_(hidden_ids))))
    return TriageScreen(
        hides_nothing=False,
        phrases=tuple(sorted(p for p in phrases if len(p) >= 4)),
        visible_request_ids=visible_ids, hidden_message_ids=message_ids,
        hidden_domains=_hidden_domains(session, user, today, hidden_ids),
    )


def _hidden_phrases(session: Session, hidden: list[Any]) -> set[str]:
    """Wording that names one of the ``hidden`` campaigns (rows of id, title and slug): its
    title and slug, its email subjects, its mail templates' own fixed wording, and authorities'
    references for its requests."""
    hidden_ids = [row.id for row in hidden]
    phrases = {_plain(name) for row in hidden for name in (row.title, row.slug)}
    phrases |= {_plain(subject) for subject in session.scalars(
        select(CampaignVersion.subject).where(CampaignVersion.campaign_id.in_(hidden_ids)))}
    defaults = {_plain(part) for subject, _ in DEFAULTS.values() for part in _fixed_wording(subject)}
    for subject in session.scalars(select(MailTemplate.subject).where(
            MailTemplate.campaign_id.in_(hidden_ids))):
        phrases |= {_plain(part) for part in _fixed_wording(subject)
                    if len(_plain(part)) >= _MIN_FIXED_WORDING and _plain(part) not in defaults}
    references = session.scalars(select(Request.reference).where(
        Request.campaign_id.in_(hidden_ids), Request.reference.is_not(None)))
    phrases |= {_plain(reference) for reference in references
                if reference is not None and len(_plain(reference)) >= 5
                and any(c.isdigit() for c in reference)}
    return phrases


def _hidden_domains(session: Session, user: Any, today: dt.date,
                    hidden_ids: list[int]) -> frozenset[str]:
    """Email domains of authorities asked in a hidden campaign (not a draft) and in no active
    campaign the user can see."""
    asked_hidden = {_sender_domain(email) for email in session.scalars(
        select(Authority.foi_email).join(Request, Request.authority_id == Authority.id)
        .join(Campaign, Campaign.id == Request.campaign_id)
        .where(Campaign.id.in_(hidden_ids), Campaign.status != CampaignStatus.draft))}
    asked_visible = {_sender_domain(email) for email in session.scalars(
        select(Authority.foi_email).join(Request, Request.authority_id == Authority.id)
        .join(Campaign, Campaign.id == Request.campaign_id)
        .where(Campaign.status == CampaignStatus.active, visible_clause(user, today)))}
    return frozenset(d for d in asked_hidden - asked_visible if d)


def visible_triage(session: Session, user: Any, today: dt.date,
                   messages: list[InboundMessage]) -> list[InboundMessage]:
    """Those of ``messages`` (waiting in the triage inbox) that ``user`` may see."""
    screen = triage_screen(session, user, today)
    return [message for message in messages if not screen.hides(message)]


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


def visible_job_clause(user: Any, today: dt.date) -> ColumnElement[bool]:
    """A condition on Job (outer-joined to its campaign) for the jobs ``user`` may see: those
    of campaigns they see; one of no campaign (a fetch, a digest) only for whoever asked for
    it and admins."""
    if not getattr(user, "is_authenticated", False):
        return false()
    if user.role is Role.admin:
        return true()
    return or_(and_(Job.campaign_id.is_(None), Job.created_by_user_id == user.id),
               Job.campaign_id.in_(select(Campaign.id).where(visible_clause(user, today))))


def can_see_job(session: Session, user: Any, job_id: int, today: dt.date) -> bool:
    """Whether ``user`` may see job ``job_id``; true when there is no such job, so that the
    page answers its own 404."""
    if session.get(Job, job_id) is None:
        return True
    return bool(session.scalar(select(Job.id).where(Job.id == job_id,
                                                    visible_job_clause(user, today))))


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
    wanted = email_key(email)
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
