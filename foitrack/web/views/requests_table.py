"""The campaign page's requests table: which of the campaign's requests a filter and a search
show, in which column's order, and the query arguments that keep those choices through the
page links, the column headers, the letter preview and a bulk action.

It all works over the rows foitrack.web.campaign_rows keeps for the campaign (and the open
findings the page keeps beside them): a filter, a search or an order costs no query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from foitrack.domain.timeline import Lateness, Status
from foitrack.services.requests import RequestRow

# The filters besides the statuses, in the order the menu lists them, with their labels.
LATE = "late"  # the value foitrack.web.views.request_list follows too
DUE_SOON = "due_soon"
NOT_CHASED = "not_chased"
REFUSED = "refused"
UNCHECKED = "unchecked"
FINDINGS = "findings"
FILTERS = {
    LATE: "Late",
    NOT_CHASED: "Late, never chased",
    DUE_SOON: "Due soon",
    REFUSED: "Refused",
    UNCHECKED: "Figures not yet checked",
    FINDINGS: "Open consistency findings",
}
# The outcomes the campaign's progress counts as refused (services.requests.progress), so the
# filter's count and the summary's "N refused" agree.
REFUSALS = frozenset({"refused", "ncnd"})

ASCENDING, DESCENDING = "asc", "desc"
ORDERS = (ASCENDING, DESCENDING)
DEFAULT_SORT = "authority"  # the order the rows are kept in
MAX_SEARCH = 200  # longer than any authority's name or reference


def _due(row: RequestRow) -> dt.date | None:
    deadline = row.state.response_deadline
    return deadline.due if deadline else None  # None also while the clock is on hold


def _lateness(row: RequestRow) -> tuple[int, int]:
    """Not late, then due soon, then late by working days late."""
    lateness = row.state.lateness
    rank = 0 if lateness is None else 1 if lateness is Lateness.due_soon else 2
    return rank, row.state.working_days_late


# Status sorts in the order a request goes through them (not sent, awaiting, answered...),
# which says more than the labels' alphabetical order.
_STATUS_RANK = {status: rank for rank, status in enumerate(Status)}

# The sortable columns: their headers and what each sorts by (None: no value, listed last in
# either order, as a blank date says nothing about earlier or later).
SORTS: dict[str, tuple[str, Callable[[RequestRow], Any]]] = {
    "authority": ("Authority", lambda row: row.authority_name.casefold()),
    "status": ("Status", lambda row: _STATUS_RANK[row.state.status]),
    "sent": ("Sent", lambda row: row.state.sent_on),
    "due": ("Due", _due),
    "late": ("Late?", _lateness),
}


def keeps(shown: str, findings: Collection[str]) -> Callable[[RequestRow], bool] | None:
    """The filter named ``shown`` (a status's value or one of FILTERS), or None if it names
    none. ``findings``: the slugs of the authorities with open consistency findings."""
    if shown == LATE:
        return lambda row: row.late
    if shown == DUE_SOON:
        return lambda row: row.state.lateness is Lateness.due_soon
    if shown == NOT_CHASED:
        return lambda row: row.late and row.state.last_chased_on is None
    if shown == REFUSED:
        return lambda row: row.state.outcome in REFUSALS
    if shown == UNCHECKED:  # entered, waiting for a second pair of eyes (as on the dashboard)
        return lambda row: bool(row.unchecked_figures)
    if shown == FINDINGS:
        return lambda row: row.authority_slug in findings
    if shown in {status.value for status in Status}:
        return lambda row: row.state.status is Status(shown)
    return None


def matches(row: RequestRow, search: str) -> bool:
    """Whether ``search`` is in the row's authority name, code or reference, any case."""
    wanted = search.casefold()
    return any(wanted in text.casefold()
               for text in (row.authority_name, row.authority_code, row.reference))


@dataclass(frozen=True)
class TableChoices:
    """What the table is asked to show: the filter, the search, the column and order."""

    shown: str = ""  # a status's value or one of FILTERS; "" for every request
    search: str = ""
    sort: str = DEFAULT_SORT
    order: str = ASCENDING

    def args(self) -> dict[str, Any]:
        """The query string's values, in a fixed order, none for a choice left as it starts
        (typed Any for url_for)."""
        return {"status": self.shown or None, "q": self.search or None,
                "sort": self.sort if self.sort != DEFAULT_SORT else None,
                "order": self.order if self.order != ASCENDING else None}

    def page_args(self, number: int) -> dict[str, Any]:
        """The arguments of the link to page ``number`` of the table as it is shown."""
        return {**self.args(), "page": number if number > 1 else None}

    def sort_args(self, column: str) -> dict[str, Any]:
        """The arguments of ``column``'s header link: sorted by it ascending, or descending if
        it is the column sorted ascending now; back to the first page."""
        order = DESCENDING if (self.sort, self.order) == (column, ASCENDING) else ASCENDING
        return replace(self, sort=column, order=order).args()

    def aria_sort(self, column: str) -> str | None:
        """aria-sort for ``column``'s header: only the sorted column has it."""
        if column != self.sort:
            return None
        return "ascending" if self.order == ASCENDING else "descending"

    @property
    def chosen(self) -> bool:
        """Whether anything differs from the whole list in authority order."""
        return any(value is not None for value in self.args().values())


def read_choices(values: Mapping[str, str]) -> tuple[TableChoices, list[str]]:
    """The table's choices from a query string (or a form's hidden fields), and what is wrong
    with them; a wrong choice is left as it starts."""
    problems = []
    shown = values.get("status", "")
    if shown and keeps(shown, ()) is None:
        choices = ", ".join([*(status.value for status in Status), *FILTERS])
        problems.append(f"status: {shown!r} is not a status; choose {choices}")
        shown = ""
    search = " ".join(values.get("q", "").split())
    if len(search) > MAX_SEARCH:
        problems.append(f"q: the search is longer than {MAX_SEARCH} characters")
        search = ""
    sort = values.get("sort") or DEFAULT_SORT
    if sort not in SORTS:
        problems.append(f"sort: {sort!r} is not a column; choose {', '.join(SORTS)}")
        sort = DEFAULT_SORT
    order = values.get("order") or ASCENDING
    if order not in ORDERS:
        problems.append(f"order: {order!r} is not an order; choose {', '.join(ORDERS)}")
        order = ASCENDING
    return TableChoices(shown, search, sort, order), problems


def listed(rows: Sequence[RequestRow], choices: TableChoices,
           findings: Collection[str]) -> list[RequestRow]:
    """The rows ``choices`` show, in their order; ties (and blanks, always last) stay in the
    rows' own order, by authority name."""
    keep = keeps(choices.shown, findings) if choices.shown else None
    found = [row for row in rows if (keep is None or keep(row))
             and (not choices.search or matches(row, choices.search))]
    if choices.sort == DEFAULT_SORT and choices.order == ASCENDING:
        return found  # kept in this order already
    key = SORTS[choices.sort][1]
    valued = [row for row in found if key(row) is not None]
    blank = [row for row in found if key(row) is None]
    # sorted() is stable, reversed too: equal rows keep their order either way.
    return sorted(valued, key=key, reverse=choices.order == DESCENDING) + blank


@dataclass(frozen=True)
class FilterOption:
    """One of FILTERS as the menu offers it, with how many requests it shows."""

    value: str
    label: str
    count: int


def filter_options(rows: Sequence[RequestRow], findings: Collection[str]) -> list[FilterOption]:
    """Each of FILTERS with its count over every row."""
    options = []
    for value, label in FILTERS.items():
        keep = keeps(value, findings)
        assert keep is not None  # every one of FILTERS names a filter
        options.append(FilterOption(value, label, sum(1 for row in rows if keep(row))))
    return options
