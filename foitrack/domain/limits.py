"""Limits on the free text people keep here, shared by forms, the API and the services."""

from __future__ import annotations

# A note on an event, or a campaign's notes: some 3,000 words, far more than any note needs,
# and small enough that a pasted document is refused rather than kept in every page.
MAX_NOTE = 20_000
