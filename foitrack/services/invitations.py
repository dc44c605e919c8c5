"""Invitations: a one-time link by which a new user chooses their own password.

An admin adds a user without a password (users.create_user) and ``invite`` makes a link for
them: 256 random bits, of which only the SHA-256 is kept, that works once, for
``DEFAULT_DAYS`` days, and only until a newer link is sent or the password is set some other
way. ``accept`` sets the password and spends the link. ``send`` emails it through the mail
settings requests go out with (the outbox folder when no mail server is set); it is sent
straight away, not queued as an OutgoingMessage, so the token is never written to the database
or shown on the sent-mail page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foitrack.db import rows_updated
from foitrack.errors import Conflict, Invalid, NotFound
from foitrack.models import Invitation, User
from foitrack.services import audit, users
from foitrack.services.mail import MailSettings, MaybeSent, Transport, transport_for

# How long a link works unless the app's INVITATION_DAYS says otherwise.
DEFAULT_DAYS = 7
# Longer than any token we make (43 characters); a longer one is no invitation, not a hash to
# work out.
_MAX_TOKEN_LENGTH = 200

NO_SUCH_LINK = ("This link is not a foitrack invitation. Check that the whole link was copied "
                "from the email, or ask an admin to send a new one.")
USED = ("This invitation has been used already: the account's password is set. Sign in with it; "
        "if it is forgotten, ask an admin to set a new one.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _when(moment: dt.datetime) -> str:
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"


def invite(session: Session, actor: audit.Actor, user: User, *, now: dt.datetime,
           days: int = DEFAULT_DAYS) -> tuple[Invitation, str]:
    """A new link for ``user``, which stops their earlier ones working: returns the row and the
    token, which is kept nowhere (email it with ``send``).

    :raises Conflict: for a deactivated user, or one who has a password already;
    :raises Invalid: for a lifetime under a day.
    """
    if not user.active:
        raise Conflict(f"the account {user.email} is deactivated; reactivate it first")
    if user.has_password:
        raise Conflict(f"{user.email} has a password already; set a new one for them instead")
    if days < 1:
        raise Invalid(f"an invitation must work for at least a day, not {days}", field="days")
    replaced = rows_updated(session, update(Invitation)
                            .where(Invitation.user_id == user.id, Invitation.used_at.is_(None),
                                   Invitation.superseded_at.is_(None))
                            .values(superseded_at=now))
    token = secrets.token_urlsafe(32)
    invitation = Invitation(user_id=user.id, token_hash=_digest(token), created_at=now,
                            created_by=actor.label, expires_at=now + dt.timedelta(days=days))
    session.add(invitation)
    session.flush()
    audit.record(session, actor, "user", user.id, "invite", None,
                 {"to": user.email, "expires_at": invitation.expires_at,
                  "earlier_links_stopped": replaced})
    return invitation, token


def latest(session: Session, user: User) -> Invitation | None:
    """The last link sent to ``user``, if any."""
    return session.scalar(select(Invitation).where(Invitation.user_id == user.id)
                          .order_by(Invitation.id.desc()).limit(1))


def find_open(session: Session, token: str, now: dt.datetime) -> Invitation:
    """The invitation ``token`` opens.

    :raises NotFound: for no such link; :raises Conflict: saying, for its reader, why the link
        no longer works (used, replaced, expired, or the account deactivated).
    """
    invitation = (session.scalar(select(Invitation).where(Invitation.token_hash == _digest(token)))
                  if token and len(token) <= _MAX_TOKEN_LENGTH else None)
    if invitation is None:
        raise NotFound(NO_SUCH_LINK)
    user = invitation.user
    if invitation.used_at is not None:
        raise Conflict(USED)
    if invitation.superseded_at is not None:
        if user.has_password:
            raise Conflict("The account's password has been set since this link was sent, so "
                           "it no longer works. Sign in, or ask an admin for help.")
        raise Conflict("A newer invitation was sent after this one, so this link no longer "
                       "works. Use the link in the latest email.")
    if invitation.expires_at <= now:
        raise Conflict(f"This invitation expired on {_when(invitation.expires_at)}. Ask an "
                       "admin to send a new one.")
    if not user.active:
        raise Conflict("This account has been deactivated. Ask an admin if you need it.")
    return invitation


def accept(session: Session, token: str, password: str, now: dt.datetime) -> User:
    """Set the password of the invitation's user, who is then signed in, and spend the link.

    :raises NotFound: and :raises Conflict: as ``find_open``; :raises Invalid: for a password
        the rules refuse (nothing is changed: the link still works once the caller rolls back).
    """
    invitation = find_open(session, token, now)
    user = invitation.user
    # Claimed with a conditional update: two submissions of one link (a double click, two
    # tabs) cannot both set a password.
    claimed = rows_updated(session, update(Invitation)
                           .where(Invitation.id == invitation.id, Invitation.used_at.is_(None),
                                  Invitation.superseded_at.is_(None), Invitation.expires_at > now)
                           .values(used_at=now))
    if claimed != 1:
        raise Conflict(USED)
    actor = audit.Actor.for_user(user)
    audit.record(session, actor, "user", user.id, "accept_invitation", None,
                 {"invitation_sent_at": invitation.created_at})
    users.change_password(session, actor, user, None, password)
    user.last_sign_in_at = now
    return user


def email_for(user: User, link: str, invitation: Invitation, mail: MailSettings) -> EmailMessage:
    """The invitation's email to ``user``, holding ``link``."""
    message = EmailMessage()
    message["From"] = mail.mail_from
    message["To"] = user.email
    message["Subject"] = "Your foitrack account: choose your password"
    message["Message-ID"] = make_msgid(domain=mail.domain)
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message.set_content(
        f"Hello {user.name},\n\n"
        f"{invitation.created_by} has made you a foitrack account ({user.email}, "
        f"{user.role.value}). Choose your password at this address:\n\n"
        f"{link}\n\n"
        f"The link works once, until {_when(invitation.expires_at)}. If it has expired, ask "
        f"{invitation.created_by} to send a new one.\n\n"
        "If you did not expect this email, you can ignore it: nothing happens until the link "
        "is used.\n")
    return message


@dataclass(frozen=True)
class Delivery:
    """How an invitation went: emailed, written to the outbox folder (no mail server set), or
    not sent, and why."""

    outbox_file: str | None = None
    error: str | None = None


def send(user: User, link: str, invitation: Invitation, mail: MailSettings,
         transport: Transport | None = None) -> Delivery:
    """Email the invitation now (there is no queue to wait in: an admin is waiting to hear)."""
    transport = transport or transport_for(mail)
    try:
        outbox_file = transport.send(email_for(user, link, invitation, mail))
    except (smtplib.SMTPException, OSError, MaybeSent) as error:
        return Delivery(error=f"{type(error).__name__}: {error}")
    return Delivery(outbox_file=outbox_file)


def record_not_sent(session: Session, actor: audit.Actor, user: User, error: str) -> None:
    """Keep in the user's history that their invitation's email could not be sent."""
    audit.record(session, actor, "user", user.id, "invitation_not_sent", None,
                 {"error": error[:500]})
