"""Reading and writing one figure's value: a whole number, or a coded non-number. Pure.

What authorities write, and how foitrack reads it:

    123              exact
    <5               suppressed, between 0 and 4
    1-4              suppressed, between 1 and 4
    *                suppressed below the campaign's stated threshold (e.g. 5: 0 to 4)
    not recorded     the authority does not record this detail
    not held         the authority holds no such information
    withheld s.40    withheld under an exemption (the section is kept)
    not provided     the authority gave no figure and no reason

Case and surrounding spaces do not matter; "1,234" is read as 1234.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

MAX_VALUE = 2**31 - 1  # what the figure columns hold on every database; far above any real count


class ValueKind(enum.StrEnum):
    exact = "exact"
    suppressed = "suppressed"
    not_recorded = "not_recorded"
    not_held = "not_held"
    withheld = "withheld"
    not_provided = "not_provided"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class NotAFigure(ValueError):
    """Text that is not a figure; the message says what is accepted."""


ACCEPTED = (
    "a whole number, <N, A-B, * (with a threshold), not recorded, not held, "
    "withheld s.NN or not provided"
)


@dataclass(frozen=True)
class FigureValue:
    kind: ValueKind
    value: int | None = None  # exact only
    lower: int | None = None  # suppressed only
    upper: int | None = None  # suppressed only
    exemption: str | None = None  # withheld only: "s.40(2)"

    def __post_init__(self) -> None:
        if self.kind is ValueKind.exact and (self.value is None or self.value < 0):
            raise ValueError("an exact figure needs a whole number of 0 or more")
        if self.kind is ValueKind.suppressed and (
            self.lower is None or self.upper is None or not 0 <= self.lower <= self.upper
        ):
            raise ValueError("a suppressed figure needs bounds with 0 <= lower <= upper")

    @property
    def text(self) -> str:
        """The canonical way to write it; parse(text) gives it back."""
        return value_text(self.kind, self.value, self.lower, self.upper, self.exemption)

    @property
    def is_usable(self) -> bool:
        """Counts towards coverage: an exact number, or bounds."""
        return self.kind in (ValueKind.exact, ValueKind.suppressed)


_NUMBER = re.compile(r"^\d{1,3}(?:,\d{3})+$|^\d+$")
_BELOW = re.compile(r"^<\s*(\d+)$")
_RANGE = re.compile(r"^(\d+)\s*[-–]\s*(\d+)$")
_WITHHELD = re.compile(r"^withheld(?:\s*(?:under\s*)?(?:s(?:ection)?\.?\s*)(\d{1,3}(?:\(\w{1,4}\))*))?$")


def _number(text: str, ceiling: int = MAX_VALUE) -> int:
    # Any script's digits (\d matches them and int() reads them) as ASCII, without separators
    # or leading zeros.
    digits = "".join(str(int(c)) for c in text if c != ",").lstrip("0") or "0"
    # Checked before int(): Python refuses to convert more than 4,300 digits (a ValueError
    # that is not ours), and no count has more than ten.
    if len(digits) > len(str(ceiling)) or int(digits) > ceiling:
        raise NotAFigure(f"{text[:40]!r}{'...' if len(text) > 40 else ''} is too large to be a count")
    return int(digits)


def value_text(kind: str, value: int | None, lower: int | None, upper: int | None,
               exemption: str | None) -> str:
    """FigureValue.text from a row's plain columns, for exports that never build the object."""
    if kind == "exact":
        return str(value)
    if kind == "suppressed":
        if lower == 0:
            return f"<{(upper or 0) + 1}"
        return f"{lower}-{upper}"
    if kind == "withheld":
        return f"withheld {exemption}" if exemption else "withheld"
    return kind.replace("_", " ")


def parse(text: str, threshold: int | None = None) -> FigureValue:
    """Read a value as an authority wrote it.

    ``threshold`` is the campaign's suppression threshold, needed to read "*".
    :raises NotAFigure: saying what is accepted.
    """
    cleaned = " ".join(str(text).strip().lower().split())
    if not cleaned:
        raise NotAFigure(f"the value is empty; write {ACCEPTED}")
    if _NUMBER.match(cleaned):
        return FigureValue(ValueKind.exact, value=_number(cleaned))
    if match := _BELOW.match(cleaned):
        # "<N" is below N: N may be one more than the largest count, so that "0-MAX" (written
        # back as "<MAX+1") reads again.
        limit = _number(match.group(1), MAX_VALUE + 1)
        if limit < 1:
            raise NotAFigure(f"{text!r}: nothing is below 0")
        return FigureValue(ValueKind.suppressed, lower=0, upper=limit - 1)
    if match := _RANGE.match(cleaned):
        lower, upper = _number(match.group(1)), _number(match.group(2))
        if lower > upper:
            raise NotAFigure(f"{text!r}: the range runs backwards")
        if lower == upper:
            return FigureValue(ValueKind.exact, value=lower)
        return FigureValue(ValueKind.suppressed, lower=lower, upper=upper)
    if cleaned == "*":
        if threshold is None:
            raise NotAFigure("'*' needs the suppression threshold; write e.g. <5 instead, or set "
                              "the campaign's suppression_threshold")
        return FigureValue(ValueKind.suppressed, lower=0, upper=threshold - 1)
    if cleaned in ("not recorded", "not_recorded", "nr"):
        return FigureValue(ValueKind.not_recorded)
    if cleaned in ("not held", "not_held", "nh"):
        return FigureValue(ValueKind.not_held)
    if cleaned in ("not provided", "not_provided", "np"):
        return FigureValue(ValueKind.not_provided)
    if match := _WITHHELD.match(cleaned):
        section = match.group(1)
        return FigureValue(ValueKind.withheld, exemption=f"s.{section}" if section else None)
    if re.match(r"^-\s*\d", cleaned):
        raise NotAFigure(f"{text!r}: a count cannot be negative")
    if re.match(r"^\d+[.]\d+$", cleaned):
        raise NotAFigure(f"{text!r}: a count must be a whole number")
    raise NotAFigure(f"{text!r} is not a figure; write {ACCEPTED}")
