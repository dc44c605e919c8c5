from __future__ import annotations

from typing import Any, cast

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    widgets,
)

# types-WTForms describes WTForms 3.2; SelectChoice came in 3.3.
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from foitrack.domain.limits import MAX_NOTE
from foitrack.domain.timeline import (
    OUTCOMES,
    EventKind,
    kinds_requiring,
    kinds_taking,
)
from foitrack.models import CampaignStatus
from foitrack.services.letter_templates import MAX_SOURCE
from foitrack.web.forms.date_input import DayMonthYearField

EXAMPLE_TEXT = """{{ salutation }},

Under the Freedom of Information Act 2000, please tell me how many offences of sexual
communication with a child (Sexual Offences Act 2003, s.15A) {{ authority.name }} recorded
in each of the financial years 2017/18 and 2018/19.

Yours faithfully,"""


class CheckboxList(SelectMultipleField):
    """Many choices as checkboxes: readable and usable without JavaScript."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CampaignForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    slug = StringField(
        "Short name", validators=[Optional(), Length(max=80)],
        description="For links and commands, e.g. grooming-2019. Made from the title if empty.",
    )
    target_set = SelectField("Send to a set", validators=[Optional()], choices=[])
    authorities = CheckboxList("Or pick authorities", choices=[], validate_choice=True)
    subject = StringField(
        "Email subject", validators=[Optional(), Length(max=300)],
        description="Default: Freedom of Information request: followed by the title.",
    )
    request_text = TextAreaField(
        "Request text", validators=[DataRequired()], default=EXAMPLE_TEXT,
        description="Placeholders: {{ authority.name }}, {{ authority.short_name }}, "
                    "{{ authority.code }}, {{ salutation }}; also {% if %} and the filters "
                    f"upper, lower, title. At most {MAX_SOURCE:,} characters.",
    )
    embargo_until = DayMonthYearField("Embargo until", validators=[Optional()],
                              description="Leave empty if the results are not embargoed.")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=MAX_NOTE)])


class CampaignEditForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    status = SelectField("Status", choices=[SelectChoice(s.value, s.value.capitalize())
                                            for s in CampaignStatus])
    subject = StringField("Email subject", validators=[DataRequired(), Length(max=300)])
    request_text = TextAreaField(
        "Request text", validators=[DataRequired()],
        description="Once a request has been sent, a change makes a new version; requests "
                    "already sent keep the words they were sent with.",
    )
    embargo_until = DayMonthYearField("Embargo until", validators=[Optional()])
    send_on = DayMonthYearField("Send by email on", validators=[Optional()],
                        description="The request is emailed to every authority not yet sent to "
                                    "on this day, by the scheduler, and its owner reminded 5 "
                                    "working days before. Leave empty to send it yourself.")
    cadence_months = IntegerField(
        "Repeated every (months)", validators=[Optional(), NumberRange(1, 120)],
        description="How far apart its repeats are: \"Repeat next year\" moves the periods and "
                    "the wording's years on by this much. 12 for a yearly campaign.")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=MAX_NOTE)])


class RepeatForm(FlaskForm):
    title = StringField("Title of the new campaign", validators=[DataRequired(), Length(max=300)])
    slug = StringField("Short name", validators=[Optional(), Length(max=80)],
                       description="Made from the title if empty.")
    # Empty (or not sent at all) takes the proposed wording: last time's, years moved on.
    request_text = TextAreaField(
        "Request text", validators=[Optional()],
        description="Last time's wording with the years of its periods moved on (the changes "
                    "are listed below). Edit it as you need; it can be changed later too.")
    send_on = DayMonthYearField("Send by email on", validators=[Optional()],
                        description="The request is emailed to every authority on this day, and "
                                    "you are reminded 5 working days before. Leave empty to send "
                                    "it yourself.")


class AddAuthoritiesForm(FlaskForm):
    authorities = CheckboxList("Add authorities", choices=[], validate_choice=True)


BULK_KINDS = [EventKind.sent, EventKind.acknowledged, EventKind.chaser_sent, EventKind.note]


class BulkEventForm(FlaskForm):
    kind = SelectField("Record", choices=[SelectChoice(k.value, k.label) for k in BULK_KINDS])
    occurred_on = DayMonthYearField("On", validators=[DataRequired()])
    note = StringField("Note", validators=[Optional(), Length(max=2000)])
    requests = CheckboxList("Requests", choices=[], validate_choice=True)


def outcome_choices() -> list[SelectChoice]:
    choices = [SelectChoice("", "(not needed for this event)")]
    for kind, outcomes in OUTCOMES.items():
        choices += [
            # Each outcome enum has its label (OUTCOMES types them as plain StrEnums).
            SelectChoice(outcome.value, cast(Any, outcome).label, optgroup=kind.label)
            for outcome in outcomes
        ]
    return choices


def only_for(name: str, about: str = "") -> str:
    """A field's hint: ``about`` it, then the kinds of event that take it (EVENT_FIELDS), so a
    page without JavaScript, which shows every field, says which to fill in."""
    kinds = kinds_taking(name)
    required = set(kinds_requiring(name))
    optional = [kind.label.lower() for kind in kinds if kind not in required]
    needed = (" (required)" if not optional else
              f" (required, except for: {'; '.join(optional)})" if required else "")
    return f"{about}Only for: {'; '.join(kind.label for kind in kinds)}{needed}."


class EventForm(FlaskForm):
    kind = SelectField("What happened", choices=[SelectChoice(k.value, k.label) for k in EventKind])
    occurred_on = DayMonthYearField("Date", validators=[DataRequired()])
    occurred_at = TimeField("Time", validators=[Optional()], description="If known.")
    outcome = SelectField("Outcome", choices=outcome_choices(), validate_choice=False,
                          description=only_for("outcome"))
    exemptions = StringField(
        "Sections cited", validators=[Optional(), Length(max=500)],
        description=only_for("exemptions", "For a refusal, e.g. s.12 or s.30, s.40(2), or the "
                                           "exemption a public interest extension weighs "
                                           "(FOIA s.17(2)). "),
    )
    due_on = DayMonthYearField("New due date", validators=[Optional()],
                       description=only_for("due_on", "The date the authority gave. "))
    received_on = DayMonthYearField("Date of receipt", validators=[Optional()],
                            description=only_for("received_on",
                                                 "If the authority received it on a later day. "))
    case_reference = StringField(
        "Case reference", validators=[Optional(), Length(max=100)],
        description=only_for("case_reference", "The Commissioner's reference (the ICO's or the "
                                               "Scottish Information Commissioner's), or the "
                                               "tribunal's or court's. "))
    steps_ordered = TextAreaField(
        "Steps ordered", validators=[Optional(), Length(max=MAX_NOTE)],
        description=only_for("steps_ordered", "What the decision notice orders the authority "
                                              "to do (FOIA s.50(4), FOISA s.49(6)). "))
    comply_by = DayMonthYearField(
        "Date for compliance", validators=[Optional()],
        description=only_for("comply_by", "The date the decision notice gives. Left empty under "
                                          "FOIA: 35 calendar days after the notice. "))
    note = TextAreaField("Note", validators=[Optional(), Length(max=MAX_NOTE)])

    # The fields only some kinds of event take, in the form's order; the page shows each with
    # the kinds that take it (and event-form.js shows each only for those).
    BY_KIND = ("outcome", "exemptions", "due_on", "received_on", "case_reference",
               "steps_ordered", "comply_by")

    def kinds_of(self, name: str) -> dict[str, str]:
        """The kinds that take field ``name`` and those that require it, as space-separated
        values for the page's data attributes."""
        return {"takes": " ".join(kinds_taking(name)), "requires": " ".join(kinds_requiring(name))}


class ReferenceForm(FlaskForm):
    reference = StringField("The authority's reference", validators=[Optional(), Length(max=100)])
    # The reference as the form showed it, so a colleague's change meanwhile is not overwritten.
    base = HiddenField()


class RemoveEventForm(FlaskForm):
    """Only the CSRF token: the event is named in the URL."""


class MemberForm(FlaskForm):
    email = StringField("Email address of the person to let in", validators=[DataRequired(), Length(max=254)],
                        description="They must already have an account.")


class RemoveMemberForm(FlaskForm):
    user_id = HiddenField(validators=[DataRequired()])
