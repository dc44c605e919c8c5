"""Figures read out of a reply's attachment and proposed, never written silently.

Readers (``sheets``, ``word``, ``pdf``) turn a file into :class:`cells.Document`: its tables as
grids of text, each cell with a location a person can find again, and its running text.
``matching`` reads a grid against the campaign's design, ``sentences`` reads figures written in
sentences, and ``proposals`` ties them together: :func:`proposals.extract` is the entry point.
Nothing here knows about the database or Flask.
"""

from foitrack.domain.extraction.proposals import (
    EXTRACTOR,
    EXTRACTOR_VERSION,
    Extraction,
    Proposal,
    Skipped,
    extract,
)

__all__ = ["EXTRACTOR", "EXTRACTOR_VERSION", "Extraction", "Proposal", "Skipped", "extract"]
