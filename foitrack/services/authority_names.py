"""Finding an authority by the name someone wrote for it: one rule for every importer.

"West Mercia", "W Mercia Police" and "west mercia constabulary" are one force to the tracker
import and to the figures CSV alike. Both look names up here: by code or slug, by a name
letter for letter, or by the words that tell one authority from another. Only the tracker
import, whose rows a person confirms in a preview, also takes the nearest spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from foitrack.models import Authority
from foitrack.models.authority import casefold

# Words in nearly every police force's name, so they tell none apart ("the" for "The Met").
NOISE_WORDS = frozenset({"police", "constabulary", "service", "force", "the"})
# A compass initial, as trackers abbreviate: "W Mercia", "N Yorkshire".
_COMPASS = {"n": "north", "s": "south", "e": "east", "w": "west"}
# A guess below this score is not offered (token_sort_ratio, 0-100).
MATCH_THRESHOLD = 85

T = TypeVar("T")


def squeezed(text: str) -> str:
    """Letters and digits only, without case or accents: 'West-Mercia' is 'westmercia'."""
    return re.sub(r"[^a-z0-9]", "", casefold(text))


def plain_name(name: str) -> str:
    """The words that tell authorities apart: '&' read as 'and', compass initials spelt out,
    punctuation and the noise words dropped ('W. Mercia Police' is 'west mercia')."""
    words = re.sub(r"[^a-z0-9]+", " ", casefold(name).replace("&", " and ")).split()
    return " ".join(_COMPASS.get(word, word) for word in words if word not in NOISE_WORDS)


def names_of(authority: Authority) -> list[str]:
    """Every name an authority goes by: its name, short name and former names."""
    return [authority.name, authority.short_name, *(authority.former_names or [])]


class AuthorityNames(Generic[T]):
    """Items (authorities, or a campaign's requests) by any name their authority goes by."""

    def __init__(self, entries: Iterable[tuple[Authority, T]]) -> None:
        self._items: list[tuple[Authority, T]] = []
        self._keys: dict[str, T] = {}
        self._names: dict[str, T] = {}
        self._words: dict[str, list[T]] = {}
        self._choices: dict[tuple[int, str], str] = {}
        for index, (authority, item) in enumerate(entries):
            self._items.append((authority, item))
            for key in (authority.code, authority.slug):
                if key:
                    self._keys.setdefault(casefold(key), item)
            for name in names_of(authority):
                if squeezed(name):
                    self._names.setdefault(squeezed(name), item)
                self._choices[(index, name)] = plain_name(name)
            for words in {plain_name(name) for name in names_of(authority)} - {""}:
                self._words.setdefault(words, []).append(item)

    def by_key(self, text: str) -> T | None:
        """The item whose authority has this code or slug."""
        return self._keys.get(casefold(text.strip()))

    def by_name(self, text: str) -> T | None:
        """The item whose authority has this name, ignoring case, spaces and punctuation."""
        return self._names.get(squeezed(text)) if squeezed(text) else None

    def by_words(self, text: str) -> list[T]:
        """Every item whose authority has a name with these words (noise words aside)."""
        return self._words.get(plain_name(text), [])

    def nearest(self, text: str) -> tuple[list[tuple[int, str, float]], str | None]:
        """Close spellings at or over MATCH_THRESHOLD, as (item index, name, score), best first;
        and the nearest name of all, for a message when none is close enough."""
        found = process.extract(plain_name(text), self._choices, scorer=fuzz.token_sort_ratio,
                                limit=3)
        good = [(index, name, score) for _, score, (index, name) in found
                if score >= MATCH_THRESHOLD]
        return good, (found[0][2][1] if found else None)

    def item(self, index: int) -> tuple[Authority, T]:
        return self._items[index]
