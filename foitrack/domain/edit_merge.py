"""Three-way merge of a form's cells, so that two people editing at once never lose a change.

Each form carries the values as they were when it was shown (the base). On save, a cell that
someone else changed meanwhile keeps their value if this user left it alone, and is a conflict
if this user changed it too, to something else. Pure: plain strings in, plain results out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CellConflict:
    name: str
    base: str  # as the user first saw it
    mine: str  # what the user typed
    theirs: str  # what was saved meanwhile


@dataclass
class Merge:
    values: dict[str, str] = field(default_factory=dict)
    kept_theirs: list[str] = field(default_factory=list)
    conflicts: list[CellConflict] = field(default_factory=list)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def merge(base: Mapping[str, str | None], mine: Mapping[str, str],
          theirs: Mapping[str, str]) -> Merge:
    """Merge each cell of ``mine`` (by name) given its ``base`` and the current ``theirs``.

    A cell with no base (a form from before this check, or a new cell) takes ``mine``.
    """
    result = Merge()
    for name, typed in mine.items():
        current = theirs.get(name, "")
        original = base.get(name)
        if original is None or _same(current, original) or _same(typed, current):
            result.values[name] = typed
        elif _same(typed, original):
            result.values[name] = current
            result.kept_theirs.append(name)
        else:
            result.conflicts.append(CellConflict(name, original, typed, current))
            result.values[name] = typed
    return result
