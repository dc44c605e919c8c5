"""The wording of each kind of message, with good defaults a campaign can replace."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foitrack.db import rows_updated
from foitrack.errors import Conflict
from foitrack.models import AuditEntry, Campaign, MailTemplate, MessageKind
from foitrack.services import audit, letter_templates

DEFAULTS: dict[MessageKind, tuple[str, str]] = {
    # The request itself: the campaign's own wording (its current version) is the body.
    MessageKind.request: ("{{ subject }}", "{{ request_text }}"),
    MessageKind.chaser: (
        "Overdue: {{ subject }}",
        """{{ salutation }},

On {{ sent_on }} I made a request under the Freedom of Information Act 2000 (your reference:
{{ reference or "not given" }}). Section 10(1) of the Act requires a response promptly and no
later than the twentieth working day following the date of receipt. That date was {{ due }},
and the request is now {{ days_late }} working day{{ "s" if days_late != 1 else "" }} late.
{% if follow_up_number %}
This is my narrowed request, which asked:

{{ request_text }}
{% endif %}
Please let me have your response as soon as possible. If I do not hear from you, I may ask the
{{ commissioner }} to look into the delay.

Yours faithfully,""",
    ),
    MessageKind.internal_review: (
        "Internal review: {{ subject }}",
        """{{ salutation }},

Please pass this on to the person who conducts Freedom of Information reviews.

I am writing to ask for an internal review of your response of {{ responded_on }} to my
request (your reference: {{ reference or "not given" }}), which {{ outcome }}{% if exemptions %},
citing {{ exemptions }}{% endif %}. The section 45 Code of Practice asks authorities to complete
a review within 20 working days.

My reasons: [give your reasons].

Yours faithfully,""",
    ),
    MessageKind.clarification: (
        "Clarification: {{ subject }}",
        """{{ salutation }},

Thank you for your message about my request (your reference: {{ reference or "not given" }}).
To clarify: [your clarification].

I understand that the 20 working days run again from your receipt of this clarification.

Yours faithfully,""",
    ),
    # Right of reply before publication (services.right_of_reply): the force's own figures as
    # held and the lines drafted about it, with the day to answer by.
    MessageKind.right_of_reply: (
        "Before we publish: {{ subject }}",
        """{{ salutation }},

Thank you for your response to my Freedom of Information request (your reference:
{{ reference or "not given" }}). We intend to publish figures from it, and we are giving
{{ authority.name }} the chance to check them first.

These are {{ authority.name }}'s figures as we hold them:

{{ figures }}

We intend to publish:

{{ lines }}

Please tell us by {{ answer_by }} if any figure is wrong, replying to this message and saying
which figure and what it should be. If we do not hear from you by then, we will publish the
figures as they are.

Yours faithfully,""",
    ),
}


def _own(session: Session, campaign: Campaign, kind: MessageKind) -> MailTemplate | None:
    return session.scalar(select(MailTemplate).where(MailTemplate.campaign_id == campaign.id,
                                                     MailTemplate.kind == kind))


def template_for(session: Session, campaign: Campaign, kind: MessageKind) -> tuple[str, str]:
    """The (subject, body) templates the campaign uses for ``kind``."""
    own = _own(session, campaign, kind)
    return (own.subject, own.body) if own else DEFAULTS[kind]


def template_version(session: Session, campaign: Campaign, kind: MessageKind) -> int:
    """The version of the campaign's wording for ``kind`` (0 while it uses the defaults)."""
    own = _own(session, campaign, kind)
    return own.version if own else 0


class ChangedMeanwhile(Conflict):
    """Someone else saved the wording after this form was loaded: ``subject`` and ``body`` are
    theirs, at ``version``."""

    def __init__(self, subject: str, body: str, version: int, by: str | None) -> None:
        self.subject, self.body, self.version, self.by = subject, body, version, by
        super().__init__(f"{by or 'someone else'} saved this wording while you were editing it")


def render(template: str, context: dict[str, Any], field: str) -> str:
    """:raises Invalid: naming ``field`` when the template is broken or names an unknown value."""
    # The bounded sandbox shared with request texts (foitrack.services.letter_templates).
    return letter_templates.render(template, context, field).strip()


def save_template(session: Session, actor: audit.Actor, campaign: Campaign, kind: MessageKind,
                  subject: str, body: str, sample: dict[str, Any], base_version: int) -> None:
    """Replace a campaign's wording for ``kind`` (checked against ``sample`` values first),
    if it is still at ``base_version``, the version the form was loaded at.

    :raises Invalid: naming the field whose template is broken.
    :raises ChangedMeanwhile: when someone else saved a newer version meanwhile.
    """
    render(subject, sample, "subject")
    render(body, sample, "body")
    own = _own(session, campaign, kind)
    current = own.version if own else 0
    if base_version != current:
        if own is None:  # theirs were the defaults: only possible with a doctored form
            raise ChangedMeanwhile(*DEFAULTS[kind], version=0, by=None)
        by = session.scalar(select(AuditEntry.actor).where(
            AuditEntry.entity_type == "mail_template", AuditEntry.entity_id == str(own.id))
            .order_by(AuditEntry.id.desc()).limit(1))
        raise ChangedMeanwhile(own.subject, own.body, version=current, by=by)
    before = {"subject": own.subject, "body": own.body} if own else None
    if own is None:
        own = MailTemplate(campaign_id=campaign.id, kind=kind, subject=subject, body=body,
                           version=1)
        session.add(own)
    else:
        # A conditional update: of two saves from the same version at once, one wins and the
        # other finds no row at that version and is told, as if it had come a moment later.
        changed = rows_updated(session, update(MailTemplate)
                               .where(MailTemplate.id == own.id, MailTemplate.version == current)
                               .values(subject=subject, body=body, version=current + 1)
                               .execution_options(synchronize_session=False))
        session.refresh(own)
        if changed != 1:
            raise ChangedMeanwhile(own.subject, own.body, own.version, None)
    session.flush()
    audit.record(session, actor, "mail_template", own.id, "update" if before else "create", before,
                 {"kind": kind.value, "subject": subject, "body": body})
