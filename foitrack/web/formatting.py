"""How pages write numbers, dates and codes for people: the Jinja filters, registered once.

One style everywhere a person reads: "12 Nov 2026" in tables, "12 November 2026" in text,
"1,480" for a count, "12.3%" for a share, and labels, never the codes kept in CSV and JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Flask

from foitrack.domain.design import CampaignDesign
from foitrack.domain.timeline import outcome_label
from foitrack.services import audit
from foitrack.web.context import db_session


def _as_date(value: Any) -> dt.date | None:
    """A date from a date, a datetime or an ISO text (audit entries keep dates as text)."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def short_date(value: Any) -> str:
    """"12 Nov 2026", for tables; "" for none. Text that is not a date is left as it is."""
    day = _as_date(value)
    if day is None:
        return "" if value is None else str(value)
    return f"{day.day} {day.strftime('%b')} {day.year}"


def long_date(value: Any) -> str:
    """"12 November 2026", for sentences; "" for none."""
    day = _as_date(value)
    if day is None:
        return "" if value is None else str(value)
    return f"{day.day} {day.strftime('%B')} {day.year}"


def thousands(value: Any) -> str:
    """"1,480" for 1480 (or the text "1480"); "" for None; anything else as it is ("<5")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    text = str(value)
    digits = text[1:] if text[:1] == "-" else text
    return f"{int(text):,}" if digits.isdigit() else text


def percent(share: float | None) -> str:
    """A share (0.123) as a percentage to one decimal place ("12.3%"); "" for None.

    One decimal everywhere, so that shares of the same table line up and small ones do not
    round to 0%.
    """
    if share is None:
        return ""
    return f"{share * 100:.1f}%"


class DesignLabels:
    """A campaign's measure, period, breakdown and category labels by key, for a template.

    A key the design no longer has (a link from before a change) is shown as it is.
    """

    def __init__(self, campaign: Any) -> None:
        self._design = CampaignDesign.of(campaign)

    def measure(self, key: str | None) -> str:
        return self._design.measure(key).label if key and self._design.has_measure(key) \
            else key or ""

    def period(self, key: str | None) -> str:
        if key and self._design.has_period(key):
            return self._design.period(key).label
        try:
            return self._design.period_group(key or "").label
        except KeyError:
            return key or ""

    def breakdown(self, key: str | None) -> str:
        return self._design.breakdown(key).label if key and self._design.has_breakdown(key) \
            else key or ""

    def category(self, dimension: str | None, key: str | None) -> str:
        """A category's label, or a group's (a group's rows name it by its key)."""
        if not key:
            return ""
        try:
            return self._design.group(key).label
        except KeyError:
            return key  # categories are named by their labels already


def design_labels(campaign: Any) -> DesignLabels:
    return DesignLabels(campaign)


def field_label(name: str) -> str:
    """What a history table calls a recorded field ("owner_id" -> "Owner")."""
    return audit.field_label(name)


def field_value(value: Any, name: str = "") -> str:
    """A recorded value as people read it: a user's email for an owner, "—" for none."""
    return audit.shown_value(db_session(), name, value)


FILTERS: dict[str, Callable[..., str]] = {
    "short_date": short_date,
    "long_date": long_date,
    "thousands": thousands,
    "percent": percent,
    "outcome_label": outcome_label,
    "field_label": field_label,
    "field_value": field_value,
}


def register(app: Flask) -> None:
    """Make the filters (and the design's labels) available to every template."""
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["design_labels"] = design_labels
