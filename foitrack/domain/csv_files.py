"""Reading a CSV file a person uploaded: UTF-8 text (Excel's byte-order mark allowed), no NUL,
and each record with the line it starts on. The imports of authorities, events, figures and
trackers all read their files through here, so a file is refused the same way everywhere."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence

from foitrack.domain.csv_safety import unprotect
from foitrack.errors import Invalid, Problem


def decode_upload(data: bytes, filename: str | None = None) -> str:
    """The file's text. :raises Invalid: naming the first byte that is not UTF-8, or the line
    holding a NUL character (and the file, when one of several is read)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid(f"{filename or 'the file'} is not UTF-8 text (byte {error.start + 1}); "
                      "in Excel use Save As > CSV UTF-8") from None
    refuse_nul(data, f"{filename}: " if filename else "")
    return text


def refuse_nul(data: bytes, prefix: str = "") -> None:
    """Refuse a text file holding a NUL character, naming its line: PostgreSQL cannot store one,
    so it would otherwise fail only when written. :raises Invalid:"""
    at = data.find(b"\x00")
    if at >= 0:
        line = data.count(b"\n", 0, at) + 1
        raise Invalid(f"{prefix}line {line}: holds a NUL character, which cannot be stored (is the "
                      "file UTF-16? in Excel use Save As > CSV UTF-8); nothing was imported")


def records(text: str, read_header: Callable[[Iterator[list[str]]], list[str]],
            problems: list[Problem]) -> Iterator[tuple[int, dict[str, str]]]:
    """Each non-blank record after the header as (the line it starts on, cells by column),
    formula protection taken off. A record with the wrong number of cells, or CSV that cannot
    be read, is added to ``problems`` (the caller refuses the file when any were).

    :raises Invalid: from ``read_header``, which checks the header and returns the columns.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns = read_header(reader)
    line = reader.line_num + 1  # where the next record starts (a cell may span lines)
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(columns):
                problems.append(
                    Problem(f"has {len(record)} cells but the header has {len(columns)}", line=start)
                )
                continue
            yield start, {column: unprotect(cell) for column, cell in zip(columns, record, strict=True)}
    except csv.Error as error:
        problems.append(Problem(f"the CSV cannot be read: {error}", line=line))


def header_reader(known: Sequence[str], required: Sequence[str],
                  rule: str) -> Callable[[Iterator[list[str]]], list[str]]:
    """A ``read_header`` for :func:`records` that takes the columns ``known`` in any order, with
    every one of ``required``: each unknown, missing or repeated column is a problem of line 1,
    followed by ``rule`` (what the header must be)."""

    def read_header(reader: Iterator[list[str]]) -> list[str]:
        try:
            header = next(reader)
        except csv.Error as error:
            raise Invalid(f"line 1: the CSV header cannot be read: {error}") from None
        except StopIteration:
            raise Invalid(f"the file is empty; {rule}") from None
        columns = [column.strip().lower() for column in header]
        problems = [Problem(f"unknown column {column!r}", line=1)
                    for column in columns if column not in known]
        problems += [Problem(f"the header has no {column!r} column", line=1)
                     for column in required if column not in columns]
        problems += [Problem(f"column {column!r} appears more than once", line=1)
                     for column in sorted({c for c in columns if columns.count(c) > 1})]
        if problems:
            raise Invalid([*problems, Problem(rule, line=1)])
        return columns

    return read_header
