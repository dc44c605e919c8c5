"""Email addresses as accounts are found by."""

from __future__ import annotations


def email_key(address: str | None) -> str:
    """The address as accounts are stored and looked up: trimmed and in lower case, so
    ``" Ann@Example.org "`` finds ann@example.org. Checking that it is an address at all is
    services.users.normalise_email's job."""
    return (address or "").strip().lower()
