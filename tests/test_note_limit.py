"""The note-length limit is one number (domain.limits.MAX_NOTE), read by the forms, the API's
schema and check, and the services alike."""

from __future__ import annotations

from wtforms.validators import Length

from foitrack.domain.limits import MAX_NOTE
from foitrack.services.letter_templates import MAX_SOURCE
from foitrack.web.api import NEW_EVENT
from foitrack.web.forms.campaigns import CampaignEditForm, CampaignForm, EventForm
from foitrack.web.forms.mail import MailTemplateForm


def _length_limit(form_class: type, field: str) -> int:
    validators = getattr(form_class, field).kwargs["validators"]
    return next(v.max for v in validators if isinstance(v, Length))


def test_the_limit_is_twenty_thousand_characters():
    assert MAX_NOTE == 20_000


def test_the_forms_and_the_api_schema_use_the_one_limit():
    assert _length_limit(EventForm, "note") == MAX_NOTE
    assert _length_limit(CampaignForm, "notes") == MAX_NOTE
    assert _length_limit(CampaignEditForm, "notes") == MAX_NOTE
    assert NEW_EVENT["properties"]["note"]["maxLength"] == MAX_NOTE


def test_a_mail_template_is_limited_as_any_letter_template():
    assert _length_limit(MailTemplateForm, "body") == MAX_SOURCE
