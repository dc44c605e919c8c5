"""A table's grid read against the design: which cell is which figure.

The label column is the table's leftmost used column. A row whose label matches the design and
which holds values is a data row; a row above the data whose cells match the design is a header
(two header rows combine, as a period over categories does). Each value's key is its row's and
its column's labels together, with the table's caption (its title) filling in what neither says,
and the design's only measure when it has one. A cell whose labels clash, say nothing of a
category or total, or whose text is no figure is skipped with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from foitrack.domain.extraction.cells import Location, Table
from foitrack.domain.extraction.matching import (
    AMBIGUOUS,
    Key,
    Labels,
    Value,
    looks_like_value,
    period_dates,
    read_value,
)
from foitrack.domain.extraction.sentences import caption_key

CONFIDENT = 0.99  # row and column labels both matched the design
FROM_CAPTION = 0.9  # a part of the key came from the title above the table
ASSUMED_PERIOD = 0.8  # the design's only period, named nowhere


@dataclass(frozen=True)
class Found:
    key: Key
    value: Value
    location: Location
    confidence: float


@dataclass(frozen=True)
class Skip:
    location: Location
    text: str
    reason: str


@dataclass(frozen=True)
class Carried:
    """What a table's continuation on the next page inherits: its header and context."""

    headers: list[list[Key | None]]
    context: Key
    width: int
    names_categories: bool
    spells_periods: bool


def read_table(table: Table, labels: Labels, threshold: int | None, carried: Carried | None = None
               ) -> tuple[list[Found], list[Skip], Carried | None]:
    """The figures in ``table``; ``carried``: the table before it, which it may continue (a
    table that starts with data rows, as wide as that one, is read under its header)."""
    rows = table.rows
    if not rows or not rows[0]:
        return [], [], None
    used = [c for c in range(len(rows[0])) if any(row[c] for row in rows)]
    if not used:
        return [], [], None
    first = used[0]
    context = _context(table, first, labels, threshold)
    found: list[Found] = []
    skipped: list[Skip] = []
    headers: list[list[Key | None]] = []
    after_data = False
    titles: list[str] = []  # rows of text in the table's block: a title, notes
    # A table that writes periods gives each cell its own: one without is not the design's
    # only period by default (a "Total" row over two years is no year's total).
    spells_periods = any(period_dates(text) is not None for row in rows for text in row
                         if text and not looks_like_value(text))
    names_categories = any(key is not None and key.category is not None
                           for row in rows for key in map(labels.resolve, row))
    for r, row in enumerate(rows):
        label_key = labels.resolve(row[first])
        keys = [labels.resolve(text) if c > first else None for c, text in enumerate(row)]
        # A row labelled by a period, category or total holds values even where a value reads
        # as a label ("not recorded" is a category too); otherwise a label is not a value.
        labelled = (label_key is not None and label_key is not AMBIGUOUS
                    and (label_key.period or label_key.category or label_key.total))
        has_values = any(c > first and (r, c) not in table.merged
                         and (keys[c] is None or (labelled and not (keys[c] or Key()).period))
                         and looks_like_value(text)  # "*" too: read later, or skipped saying why
                         for c, text in enumerate(row))
        if not has_values and any(k is not None for k in keys):
            if after_data:
                headers, after_data = [], False
            if label_key is not None and label_key is not AMBIGUOUS:
                # "Offences | 2017/18 | 2018/19": the corner names what every column counts.
                keys = [_with(k, label_key) for k in keys]
            headers.append(keys)
            continue
        if not has_values:
            if any(row) and label_key is None:
                if after_data:
                    headers, after_data, titles = [], False, []  # a title between two tables
                titles.append(" ".join(t for t in row if t))
                context = _context(table, first, labels, threshold, " ".join(titles))
            continue
        if not headers and not after_data and carried is not None and carried.width == len(row):
            headers = carried.headers
            context = _fill(context, carried.context)
            names_categories = names_categories or carried.names_categories
            spells_periods = spells_periods or carried.spells_periods
        after_data = True
        if label_key is AMBIGUOUS or label_key is None:
            reason = ("the row's label matches more than one thing in the design"
                      if label_key is AMBIGUOUS else "the row's label matches nothing in the design")
            skipped += [Skip(table.location(r, c), text, f"{reason}: {row[first]!r}")
                        for c, text in enumerate(row) if c > first and text]
            continue
        for c in range(first + 1, len(row)):
            if (r, c) in table.merged:
                continue
            _cell(table, r, c, label_key, [h[c] for h in headers if c < len(h)], context, labels,
                  threshold, found, skipped, names_categories, spells_periods)
    state = (Carried(headers, context, len(rows[0]), names_categories, spells_periods)
             if headers else None)
    return found, skipped, state


def _fill(key: Key, other: Key) -> Key:
    """``key`` with what it does not say taken from ``other``."""
    for name in ("measure", "period"):
        if getattr(key, name) is None and getattr(other, name) is not None:
            key = replace(key, **{name: getattr(other, name)})
    if key.category is None and other.category is not None:
        key = replace(key, dimension=other.dimension, category=other.category)
    return key


def _context(table: Table, first: int, labels: Labels, threshold: int | None,
             title: str = "") -> Key:
    """What holds for every cell: the title's measure, period or category (each if named once),
    and the measure a header or row label names if only one is named (a "Total offences"
    column says the table counts offences)."""
    context = caption_key(title, labels) if title else Key()
    caption = caption_key(table.caption, labels)
    for name in ("measure", "period", "category"):
        if getattr(context, name) is None and getattr(caption, name) is not None:
            context = replace(context, **{name: getattr(caption, name)},
                              dimension=caption.dimension if name == "category" else
                              context.dimension)
    if context.measure is None:
        named = set()
        for row in table.rows:
            for text in row[first:]:
                key = labels.resolve(text)
                if key is not None and key is not AMBIGUOUS and key.measure is not None:
                    named.add(key.measure)
        if len(named) == 1:
            context = replace(context, measure=named.pop())
    return context


def _with(key: Key | None, corner: Key) -> Key | None:
    if key is None or key is AMBIGUOUS:
        return key
    merged = key.merge(corner)
    return AMBIGUOUS if isinstance(merged, str) else merged


def _cell(table: Table, r: int, c: int, row_key: Key, column_keys: list[Key | None], context: Key,
          labels: Labels, threshold: int | None, found: list[Found], skipped: list[Skip],
          names_categories: bool, spells_periods: bool) -> None:
    text = table.rows[r][c]
    location = table.location(r, c)

    def skip(reason: str) -> None:
        if text:
            skipped.append(Skip(location, text, reason))

    key: Key | str = row_key
    for column_key in column_keys:
        if column_key is AMBIGUOUS:
            return skip("the column's label matches more than one thing in the design")
        if column_key is not None and isinstance(key, Key):
            key = key.merge(column_key)
    if isinstance(key, str):
        return skip(key)
    if not any(column_keys) and row_key.period is None and row_key.measure is None:
        # A row of categories needs its columns to say which period (or measure) each is.
        return skip("the column has no label matching the design")
    explicit_measure = key.measure is not None
    confidence = CONFIDENT
    for name in ("measure", "period", "category"):
        if getattr(key, name) is None and getattr(context, name) is not None:
            if name == "category" and key.total:
                continue
            key = replace(key, **{name: getattr(context, name)},
                          dimension=context.dimension if name == "category" else key.dimension)
            confidence = min(confidence, FROM_CAPTION)
    design = labels.design
    if key.measure is None and len(design.measures) == 1:
        key = replace(key, measure=design.measures[0].key)
    if key.period is None and len(design.periods) == 1 and not spells_periods:
        key, confidence = replace(key, period=design.periods[0].key), ASSUMED_PERIOD
    if key.measure is None:
        return skip("no measure: the labels and the title name none")
    if key.period is None:
        return skip("no period: the labels and the title name none")
    if key.category is None and not key.total:
        # A row or column named only by a measure is its total, unless the table names
        # categories elsewhere: then this cell's category is missing, not absent.
        if not explicit_measure or names_categories:
            return skip("neither a category nor a total")
        key = replace(key, total=True)
    value = read_value(text, threshold)
    if not isinstance(value, Value):
        return skip(value)
    found.append(Found(key, value, location, confidence))
