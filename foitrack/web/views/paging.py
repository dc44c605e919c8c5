"""One page of a long list, and the links to the others, for the list pages' tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

PAGE_SIZE = 50  # all 43 forces on one page; a 400-authority campaign in eight


@dataclass(frozen=True)
class Page(Generic[T]):
    """The rows shown, which page they are, and how many there are in all."""

    items: Sequence[T]
    number: int
    pages: int
    total: int
    size: int

    @property
    def first_shown(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_shown(self) -> int:
        return min(self.number * self.size, self.total)


class BadPage(ValueError):
    """A page number that is not a whole number, or past the last page."""


def paginate(rows: Sequence[T], asked: str | None, size: int | None = None) -> Page[T]:
    """Page ``asked`` (1 when not given) of ``rows``, ``size`` (PAGE_SIZE) rows a page.

    :raises BadPage: saying what was wrong with ``asked``.
    """
    size = size or PAGE_SIZE
    pages = max(1, -(-len(rows) // size))
    text = (asked or "1").strip()
    if not text.isdigit() or not 1 <= int(text) <= pages:
        raise BadPage(f"page: {asked!r} is not a page of this list; choose 1 to {pages}")
    number = int(text)
    return Page(rows[(number - 1) * size:number * size], number, pages, len(rows), size)
