"""Request helpers every view uses: this request's database session, the clock's date, the
signed-in actor, the campaigns they may see and the site's addresses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, current_app, g, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foitrack.db import Database
from foitrack.domain.clock import ClockSettings, today_in_uk
from foitrack.services.audit import Actor


def database(app: Flask | None = None) -> Database:

    return (app or current_app).extensions["foitrack.db"]


def db_session() -> Session:
    """This request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    return g.db_session


def keep_what_showing_read() -> None:
    """Commit what showing a page derived and kept (a reply's reading: never what a person
    entered). Two people opening the same page at once may both have read the same reply: the
    first one's reading is kept, and the second's commit, refused for it, is simply dropped."""
    session = db_session()
    try:
        session.commit()
    except IntegrityError:
        session.rollback()


def close_session(_error: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def today() -> dt.date:
    """The date the clock is read on: the UK date now, or the app's fixed TODAY in tests."""

    return current_app.config.get("TODAY") or today_in_uk()


def now() -> dt.datetime:
    """The current time in UTC, or the app's fixed NOW in tests (what an embargo is compared
    with, on the public portal and the publish page alike)."""
    fixed: dt.datetime | None = current_app.config.get("NOW")
    return fixed if fixed is not None else dt.datetime.now(dt.UTC)


def clock_settings() -> ClockSettings:

    return current_app.config["CLOCK"]


def visible_campaigns() -> Any:
    """The condition on Campaign for the campaigns the signed-in user (or token) may see."""
    from foitrack.services.membership import visible_clause

    return visible_clause(current_user, today())


def sees(campaign: Any) -> bool:
    """Whether the signed-in user may see ``campaign`` (a linked one, such as the campaign a
    repeat repeats: it may be under an embargo they are not let into)."""
    from foitrack.services.membership import can_see

    return campaign is not None and can_see(db_session(), current_user, campaign, today())


def actor() -> Actor:
    """The signed-in user, as the audit trail names them."""
    return Actor.for_user(current_user._get_current_object())


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL for ``endpoint``: on FOITRACK_BASE_URL when it is set, so that no Host
    header a client or proxy sends can put another site into the links we hand out; otherwise
    on the address the request came to."""

    base = current_app.config.get("BASE_URL")
    if not base:
        return url_for(endpoint, _external=True, **values)
    # The base stands for the site's root, mount point (SCRIPT_NAME) included.
    path = url_for(endpoint, **values).removeprefix(request.script_root)
    return base + path


def site_root() -> str:
    """The site's root address, without its final slash (see external_url)."""

    return current_app.config.get("BASE_URL") or request.url_root.rstrip("/")


def client_address() -> str:
    """The visitor's address: the peer's, or the one trusted proxies forwarded (ProxyFix)."""
    return request.remote_addr or "unknown"


