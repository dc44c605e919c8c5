"""Plain-text tables for the terminal: columns padded to their widest cell."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO


def write_aligned(lines: Sequence[Sequence[str]], out: TextIO) -> None:
    """Each line's cells, left-aligned to the widest cell of their column, two spaces apart
    (the header is the first line)."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        out.write("  ".join(value.ljust(widths[i]) for i, value in enumerate(line)).rstrip() + "\n")
