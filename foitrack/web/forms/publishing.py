"""The form that publishes a campaign's next version (foitrack.services.publishing.publish),
and the one that gives a partner a private link to an embargoed one (services.partners)."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length, Optional

from foitrack.services.partners import NAME_LIMIT
from foitrack.services.publishing import TITLE_LIMIT
from foitrack.web.forms.campaigns import CheckboxList
from foitrack.web.forms.date_input import DayMonthYearField

_TIME = re.compile(r"([01]?\d|2[0-3])[:.]([0-5]\d)")


class PublishForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter the release's title"),
                                             Length(max=TITLE_LIMIT)])
    # Named as the service names its problem: a set or codes it cannot read is shown here.
    authorities = RadioField("Authorities", default="all", choices=[
        SelectChoice("all", "Every authority the campaign asked"),
        SelectChoice("set", "A set"),
        SelectChoice("codes", "These authorities")])
    authority_set = SelectField("Set", choices=[], validators=[Optional()],
                                validate_choice=False)
    authority_codes = StringField("Codes", validators=[Optional(), Length(max=2000)],
                                  description="ONS codes or short names, comma-separated, "
                                              "e.g. E23000016, E23000032")
    checked_only = BooleanField("Only figures a second researcher has checked")
    embargo_until = DayMonthYearField("Embargo date", validators=[Optional()],
                                      description="UK time. Leave empty if the release is "
                                                  "public as soon as it is published.")
    embargo_time = StringField("Embargo time", validators=[Optional(), Length(max=5)],
                               description="UK time, 24-hour clock, e.g. 00:01")
    note = TextAreaField("What changed since the last version, and why",
                         validators=[Optional(), Length(max=5000)],
                         description="Required from version 2: it heads the corrections log.")
    organisation = StringField("Published by", default="foitrack",
                               validators=[DataRequired("Say who publishes it"),
                                           Length(max=200)],
                               description="As the citation names the publisher.")
    documents = CheckboxList("Reply documents to publish", choices=[], coerce=int,
                             validate_choice=True,
                             description="Only the documents ticked are published with the "
                                         "release; none is by default.")

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        chosen = self.authorities.data
        if chosen == "set" and not self.authority_set.data:
            self.authority_set.errors = [*self.authority_set.errors, "Choose a set"]
            ok = False
        if chosen == "codes" and not (self.authority_codes.data or "").strip():
            self.authority_codes.errors = [*self.authority_codes.errors,
                                           "Enter at least one authority's code"]
            ok = False
        time = (self.embargo_time.data or "").strip()
        if time and not _TIME.fullmatch(time):
            self.embargo_time.errors = [*self.embargo_time.errors,
                                        "Enter a time such as 00:01 or 09:30"]
            ok = False
        if time and self.embargo_until.data is None and not self.embargo_until.errors:
            self.embargo_until.errors = [*self.embargo_until.errors,
                                         "Enter the date the embargo lifts, or no time"]
            ok = False
        if self.embargo_until.data is not None and not time:
            self.embargo_time.errors = [*self.embargo_time.errors,
                                        "Enter the time the embargo lifts, e.g. 00:01"]
            ok = False
        return ok

    def chosen_authorities(self) -> str | None:
        """The service's ``authorities``: None for every one asked, a set's slug, or codes."""
        if self.authorities.data == "set":
            return self.authority_set.data or None
        if self.authorities.data == "codes":
            return (self.authority_codes.data or "").strip() or None
        return None

    def embargo_text(self) -> str | None:
        """The embargo as the service parses it ("2019-09-20 00:01", UK time), or None."""
        if self.embargo_until.data is None:
            return None
        match = _TIME.fullmatch((self.embargo_time.data or "").strip())
        assert match is not None  # validate() made sure
        return f"{self.embargo_until.data.isoformat()} {int(match[1]):02d}:{match[2]}"


class PartnerForm(FlaskForm):
    """One per embargoed version on the page, each with the prefix ``partner-v<version>``, so
    their fields' ids (and the error summary's links to them) never clash."""

    name = StringField("Partner's name", validators=[
        DataRequired("Enter who the link is for, e.g. BBC Shared Data Unit"),
        Length(max=NAME_LIMIT)], description="The newsroom or person the link is for.")
    email = StringField("Email (optional)", validators=[Optional(), Length(max=254)],
                        description="Kept with the link for your records; nothing is sent.")
