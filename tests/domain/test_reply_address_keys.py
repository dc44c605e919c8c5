"""Issue 17 point 5, leftovers: reply addresses are signed with a key of their own (derived from
SECRET_KEY for this purpose, or FOITRACK_REPLY_ADDRESS_KEY), not with SECRET_KEY itself, so an
address handed to an authority is no HMAC under the app's main key; addresses issued before
still file their replies."""

from __future__ import annotations

import hashlib
import hmac

from foitrack.domain.reply_addresses import (
    reply_address,
    reply_keys,
    reply_keys_from,
    request_id_from,
)

SECRET = "the app's secret key"
MAILBOX = "foi@charity.example"


def _old_address(request_id: int, short: str) -> str:
    """An address as issued before: its check an HMAC under SECRET_KEY itself."""
    check = hmac.new(SECRET.encode(), f"reply:{request_id}-{short}".encode(),
                     hashlib.sha256).hexdigest()[:6]
    return f"foi+{request_id}-{short}-{check}@charity.example"


def test_new_addresses_are_not_signed_with_the_secret_key_itself():
    new = reply_address(MAILBOX, 12, "west-mercia", reply_keys(SECRET))
    assert new != _old_address(12, "westmercia")
    # A plain SECRET_KEY string given by a caller is derived from the same way.
    assert reply_address(MAILBOX, 12, "west-mercia", SECRET) == new
    assert request_id_from([new], reply_keys(SECRET)) == 12


def test_an_address_issued_before_still_files_its_reply():
    """Transition: a request sent before the change carries the old Reply-To; its reply must
    still file itself (domain.reply_addresses.reply_keys accepts the old signature)."""
    assert request_id_from([_old_address(12, "westmercia")], reply_keys(SECRET)) == 12
    assert request_id_from([_old_address(12, "westmercia")],
                           reply_keys(SECRET, "a key of its own")) == 12


def test_a_made_up_or_altered_address_files_nothing():
    new = reply_address(MAILBOX, 12, "west-mercia", reply_keys(SECRET))
    assert request_id_from([new.replace("foi+12-", "foi+13-")], reply_keys(SECRET)) is None
    other = reply_address(MAILBOX, 12, "west-mercia", reply_keys("another app's key"))
    assert request_id_from([other], reply_keys(SECRET)) is None


def test_a_configured_reply_address_key_signs_instead():
    keys = reply_keys_from({"SECRET_KEY": SECRET, "REPLY_ADDRESS_KEY": "a key of its own"})
    dedicated = reply_address(MAILBOX, 12, "west-mercia", keys)
    assert dedicated != reply_address(MAILBOX, 12, "west-mercia", reply_keys(SECRET))
    assert request_id_from([dedicated], keys) == 12
    # Addresses signed with the derived key before the setting was made go on filing.
    derived = reply_address(MAILBOX, 12, "west-mercia", reply_keys(SECRET))
    assert request_id_from([derived], keys) == 12
    assert reply_keys_from({"SECRET_KEY": ""}) is None
    assert "key" not in repr(keys).replace("ReplyKeys", "")
