"""Domain errors that views turn into 404s and form errors, the CLI into messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class DomainError(Exception):
    """Base class for a rule that a request broke."""


class NotFound(DomainError):
    """The thing asked for does not exist."""


class Forbidden(DomainError):
    """The actor may not do this."""


class Conflict(DomainError):
    """The change clashes with the current state (a duplicate, the last admin...)."""


class TooManyAttempts(DomainError):
    """Refused for now after too many failures; may try again at ``retry_at`` (UTC)."""

    def __init__(self, retry_at: dt.datetime) -> None:
        self.retry_at = retry_at
        super().__init__(f"too many failed attempts; try again after {retry_at:%H:%M} UTC")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is and what is wrong."""

    message: str
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"column {self.field}" if self.line is not None else self.field)
        return f"{', '.join(where)}: {self.message}" if where else self.message


class Invalid(DomainError):
    """The input is wrong; ``problems`` says where. Nothing was changed."""

    def __init__(self, problems: list[Problem] | str, field: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems, field=field)]
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))

    def for_field(self, field: str) -> list[str]:
        """The messages about one field, for showing beside it on a form."""
        return [p.message for p in self.problems if p.field == field]
