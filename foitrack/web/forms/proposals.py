from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField


class ProposalReviewForm(FlaskForm):
    """The chosen proposals and their edited values are read from the request by name
    (``accept-<id>``, ``value-<id>``): one pair of inputs per proposal on the page."""

    confirm_checked = BooleanField("Change figures that were already checked")
    accept_selected = SubmitField("Accept selected")
    reject_selected = SubmitField("Reject selected")
