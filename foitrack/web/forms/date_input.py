"""A date asked for as GOV.UK asks: three boxes, Day, Month and Year, in a fieldset.

A browser's own date input shows the date in its locale's order (mm/dd/yyyy for many), and
people misread it; three labelled boxes cannot be misread. The page posts ``<name>-day``,
``<name>-month`` and ``<name>-year``; a single ISO date posted under the field's own name
(``occurred_on=2026-01-02``, as scripts and older pages send) is taken too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup, escape
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

PARTS = ("day", "month", "year")
EXAMPLE = "27 3 2026"


class DayMonthYearInput:
    """Renders the three boxes, each with its own label; the page's macro puts them in a
    fieldset whose legend names the date (templates/_macros.html, ``date_input``)."""

    def __call__(self, field: DayMonthYearField, **kwargs: Any) -> Markup:
        values = field.part_values()
        invalid = ' aria-invalid="true"' if field.errors else ""
        error = " input-error" if field.errors else ""
        items = []
        for part, width in zip(PARTS, ("", "", " input-year"), strict=True):
            box_id = f"{field.id}-{part}"
            items.append(
                f'<div class="date-input-item"><label class="label" for="{escape(box_id)}">'
                f"{part.capitalize()}</label>"
                f'<input class="input{width}{error}" id="{escape(box_id)}" '
                f'name="{escape(field.name)}-{part}" type="text" inputmode="numeric" '
                f'value="{escape(values[part])}"{invalid}></div>')
        return Markup(f'<div class="date-input" id="{escape(field.id)}">{"".join(items)}</div>')


class DayMonthYearField(Field):
    """A date from Day, Month and Year boxes, or from one ISO "YYYY-MM-DD" value.

    Its errors name the date by its label ("Date must be a real date, e.g. 27 3 2026"), as the
    error summary and the message beside the boxes both show them.
    """

    widget = DayMonthYearInput()
    data: dt.date | None

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.parts: dict[str, str] | None = None  # as typed, to show them again

    def part_values(self) -> dict[str, str]:
        if self.parts is not None:
            return self.parts
        if self.data is not None:
            return {"day": str(self.data.day), "month": str(self.data.month),
                    "year": str(self.data.year)}
        if self.raw_data:  # an ISO value that did not read as a date: shown in the day box
            return {"day": self.raw_data[0], "month": "", "year": ""}
        return dict.fromkeys(PARTS, "")

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.parts = None
        # The three boxes, unless the date is posted whole under the field's own name: that is
        # what a script means, even one that copied the boxes from the page first.
        if formdata is not None and self.name not in formdata \
                and any(f"{self.name}-{part}" in formdata for part in PARTS):
            self.parts = {part: (formdata.get(f"{self.name}-{part}") or "").strip()
                          for part in PARTS}
        super().process(formdata, data, extra_filters)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if self.parts is not None:
            typed = [self.parts[part] for part in PARTS]
            # Optional() and DataRequired() read raw_data and data: empty boxes are no date.
            self.raw_data = [" ".join(typed)] if any(typed) else [""]
            self.data = None
            if any(typed):
                self.data = self._from_parts(*typed)
            return
        if not valuelist or not str(valuelist[0]).strip():
            return
        self.data = None
        try:
            self.data = dt.date.fromisoformat(str(valuelist[0]).strip())
        except ValueError:
            raise ValueError(self._real_date()) from None

    def _from_parts(self, day: str, month: str, year: str) -> dt.date:
        missing = [part for part, typed in zip(PARTS, (day, month, year), strict=True)
                   if not typed]
        if missing:
            raise ValueError(f"{self.label.text} must include a {' and a '.join(missing)}")
        if not (day.isdigit() and month.isdigit() and year.isdigit()):
            raise ValueError(self._real_date())
        if len(year) != 4:
            raise ValueError(f"{self.label.text} must have a year of 4 numbers, e.g. 2026")
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(self._real_date()) from None

    def pre_validate(self, form: Any) -> None:
        # A date typed wrong keeps its own message: DataRequired would replace it with "This
        # field is required." (it clears the errors before it), as if nothing had been typed.
        if self.process_errors:
            raise StopValidation()

    def _real_date(self) -> str:
        return f"{self.label.text} must be a real date, e.g. {EXAMPLE}"

    def _value(self) -> str:
        return self.data.isoformat() if self.data is not None else ""
