"""Each request's own reply address, so that a reply files itself whatever its subject says.

The address is the campaign mailbox's with a tag after a "+" (``foi+12-westmercia-3fa9c1@
example.org``, which mail servers deliver to foi@example.org), or, when the mailbox is given as
a domain of its own (``@replies.example.org``, a catch-all), the tag alone before it. The tag
holds the request's id, a short form of the authority's slug for a person reading it, and a
check: the first characters of an HMAC of both under a key for reply addresses alone
(reply_keys), so that nobody who has not been written to can make up an address that files
into a request.

That key is FOITRACK_REPLY_ADDRESS_KEY when set, else one derived from the app's SECRET_KEY for
this purpose (an HMAC of a label under it). Addresses were first signed with SECRET_KEY itself:
every Reply-To handed out is an HMAC under it of a text anyone can read off the address, which
made the app's main key sign chosen-looking messages for other people (an oracle for any other
use of SECRET_KEY that signs similar text). A key of its own keeps the two apart.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import formataddr, getaddresses, parseaddr
from typing import Any

CHECK_LENGTH = 6
_TAG = re.compile(r"(?:^|\+)(\d{1,12})-([a-z0-9]{1,12})-([0-9a-f]{" + str(CHECK_LENGTH) + r"})$")


# What the derived key is for: changing it changes every address, so it never changes.
_PURPOSE = b"foitrack reply address check v1"


@dataclass(frozen=True)
class ReplyKeys:
    """The key new reply addresses are signed with, and every key a reply's address is checked
    against (the signing key first)."""

    signing: bytes
    accepted: tuple[bytes, ...]

    def __repr__(self) -> str:
        return "ReplyKeys(...)"  # never in a log line or a job's failure report


# A reply key as the callers hold it: the keys, or the app's SECRET_KEY to derive them from.
ReplyKey = ReplyKeys | str


def reply_keys(secret_key: str, dedicated: str | None = None) -> ReplyKeys:
    """The keys for reply addresses: ``dedicated`` (FOITRACK_REPLY_ADDRESS_KEY) when given,
    else HMAC-SHA256(SECRET_KEY, a purpose label), a key for this use alone.

    Also accepted, for a transition, with no end date (a reply to a request sent long ago, a
    review or a complaint, may come a year later): SECRET_KEY itself, which signed every address
    issued before the key of their own, and the derived key when a dedicated one is set later.
    Accepting them only lets those addresses file their replies; nothing new is signed with
    them. Drop SECRET_KEY from ``accepted`` once no request sent before 2026-12-05 can be
    answered any more."""
    derived = hmac.new(secret_key.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()
    signing = dedicated.encode("utf-8") if dedicated else derived
    accepted = tuple(dict.fromkeys((signing, derived, secret_key.encode("utf-8"))))
    return ReplyKeys(signing, accepted)


def reply_keys_from(settings: Mapping[str, Any]) -> ReplyKeys | None:
    """The keys from the app's settings (SECRET_KEY, REPLY_ADDRESS_KEY); None without a
    secret key, when no address is signed or checked."""
    secret = settings.get("SECRET_KEY")
    return reply_keys(secret, settings.get("REPLY_ADDRESS_KEY") or None) if secret else None


def _keys(key: ReplyKey) -> ReplyKeys:
    return key if isinstance(key, ReplyKeys) else reply_keys(key)


def _short(slug: str) -> str:
    return re.sub(r"[^a-z0-9]", "", slug.lower())[:12] or "x"


def _check(request_id: int, short: str, key: bytes) -> str:
    digest = hmac.new(key, f"reply:{request_id}-{short}".encode(), hashlib.sha256).hexdigest()
    return digest[:CHECK_LENGTH]


def reply_address(mailbox: str, request_id: int, authority_slug: str, key: ReplyKey) -> str:
    """The reply address of one request, at ``mailbox`` ("foi@example.org", "Research
    <foi@example.org>" or "@replies.example.org"), signed with ``key``'s signing key."""
    short = _short(authority_slug)
    tag = f"{request_id}-{short}-{_check(request_id, short, _keys(key).signing)}"
    mailbox = mailbox.strip()
    if mailbox.startswith("@"):
        return f"{tag}{mailbox}"
    name, address = parseaddr(mailbox)
    local, _, domain = address.rpartition("@")
    tagged = f"{local.split('+', 1)[0]}+{tag}@{domain}"
    return formataddr((name, tagged)) if name else tagged


def request_id_from(addresses: Iterable[str], key: ReplyKey) -> int | None:
    """The request a message was sent to, from its recipients' addresses (the header values of
    To, Cc, Delivered-To...): the first reply address whose check is right under one of the
    keys ``key`` accepts (reply_keys); None if none is."""
    accepted = _keys(key).accepted
    for _name, address in getaddresses([a for a in addresses if a]):
        local = address.rpartition("@")[0].lower()
        found = _TAG.search(local)
        if found is None:
            continue
        request_id, short, given = int(found.group(1)), found.group(2), found.group(3)
        if any(hmac.compare_digest(given, _check(request_id, short, one)) for one in accepted):
            return request_id
    return None
