"""Each request's own reply address, so that a reply files itself whatever its subject says.

The address is the campaign mailbox's with a tag after a "+" (``foi+12-westmercia-3fa9c1@
example.org``, which mail servers deliver to foi@example.org), or, when the mailbox is given as
a domain of its own (``@replies.example.org``, a catch-all), the tag alone before it. The tag
holds the request's id, a short form of the authority's slug for a person reading it, and a
check: the first characters of an HMAC of both under the app's secret key, so that nobody who
has not been written to can make up an address that files into a request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from email.utils import formataddr, getaddresses, parseaddr

CHECK_LENGTH = 6
_TAG = re.compile(r"(?:^|\+)(\d{1,12})-([a-z0-9]{1,12})-([0-9a-f]{" + str(CHECK_LENGTH) + r"})$")


def _short(slug: str) -> str:
    return re.sub(r"[^a-z0-9]", "", slug.lower())[:12] or "x"


def _check(request_id: int, short: str, key: str) -> str:
    digest = hmac.new(key.encode("utf-8"), f"reply:{request_id}-{short}".encode(),
                      hashlib.sha256).hexdigest()
    return digest[:CHECK_LENGTH]


def reply_address(mailbox: str, request_id: int, authority_slug: str, key: str) -> str:
    """The reply address of one request, at ``mailbox`` ("foi@example.org", "Research
    <foi@example.org>" or "@replies.example.org")."""
    short = _short(authority_slug)
    tag = f"{request_id}-{short}-{_check(request_id, short, key)}"
    mailbox = mailbox.strip()
    if mailbox.startswith("@"):
        return f"{tag}{mailbox}"
    name, address = parseaddr(mailbox)
    local, _, domain = address.rpartition("@")
    tagged = f"{local.split('+', 1)[0]}+{tag}@{domain}"
    return formataddr((name, tagged)) if name else tagged


def request_id_from(addresses: Iterable[str], key: str) -> int | None:
    """The request a message was sent to, from its recipients' addresses (the header values of
    To, Cc, Delivered-To...): the first reply address whose check is right; None if none is."""
    for _name, address in getaddresses([a for a in addresses if a]):
        local = address.rpartition("@")[0].lower()
        found = _TAG.search(local)
        if found is None:
            continue
        request_id, short, given = int(found.group(1)), found.group(2), found.group(3)
        if hmac.compare_digest(given, _check(request_id, short, key)):
            return request_id
    return None
