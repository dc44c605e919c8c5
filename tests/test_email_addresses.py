"""One way to turn a typed address into the key accounts are stored and found by."""

from __future__ import annotations

from foitrack.domain.email_addresses import email_key


def test_an_address_is_trimmed_and_lower_cased():
    assert email_key("  Ann.Other@Example.ORG \n") == "ann.other@example.org"


def test_no_address_is_the_empty_key():
    assert email_key(None) == ""
    assert email_key("   ") == ""
