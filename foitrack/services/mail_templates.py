"""The wording of each kind of message, with good defaults a campaign can replace."""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from foitrack.models import Campaign, MailTemplate, MessageKind
from foitrack.services import audit
from foitrack.services.errors import Invalid

_templates = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)

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
}


def template_for(session: Session, campaign: Campaign, kind: MessageKind) -> tuple[str, str]:
    """The (subject, body) templates the campaign uses for ``kind``."""
    own = session.scalar(select(MailTemplate).where(MailTemplate.campaign_id == campaign.id,
                                                    MailTemplate.kind == kind))
    return (own.subject, own.body) if own else DEFAULTS[kind]


def render(template: str, context: dict[str, Any], field: str) -> str:
    """:raises Invalid: naming ``field`` when the template is broken or names an unknown value."""
    try:
        return _templates.from_string(template).render(context).strip()
    except TemplateError as error:
        raise Invalid(f"{error.message or error}", field=field) from None


def save_template(session: Session, actor: audit.Actor, campaign: Campaign, kind: MessageKind,
                  subject: str, body: str, sample: dict[str, Any]) -> None:
    """Replace a campaign's wording for ``kind`` (checked against ``sample`` values first)."""
    render(subject, sample, "subject")
    render(body, sample, "body")
    own = session.scalar(select(MailTemplate).where(MailTemplate.campaign_id == campaign.id,
                                                    MailTemplate.kind == kind))
    before = {"subject": own.subject, "body": own.body} if own else None
    if own is None:
        own = MailTemplate(campaign_id=campaign.id, kind=kind, subject=subject, body=body)
        session.add(own)
    own.subject, own.body = subject, body
    session.flush()
    audit.record(session, actor, "mail_template", own.id, "update" if before else "create", before,
                 {"kind": kind.value, "subject": subject, "body": body})
