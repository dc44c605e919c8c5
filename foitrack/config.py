"""Configuration: defaults, then FOITRACK_* environment variables, then explicit overrides."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from foitrack.domain.clock import ClockSettings

ENV_PREFIX = "FOITRACK_"

# Settings that may be given as FOITRACK_<NAME> in the environment, with what they are for.
# The README's configuration table is written from this list.
ENVIRONMENT_SETTINGS: dict[str, str] = {
    "DATABASE_URL": "SQLAlchemy database URL; default an SQLite file foitrack.sqlite3 in the instance folder",
    "SECRET_KEY": "key that signs sessions and CSRF tokens; default a random key kept in the instance folder",
    "INSTANCE_PATH": "folder for the SQLite database, the generated secret key and stored files",
    "SECURE_COOKIES": "1: cookies only over HTTPS; 0: never marked so; auto (default): marked Secure "
                      "except on plain http to localhost",
    "SESSION_COOKIE_SECURE": "the older name of FOITRACK_SECURE_COOKIES",
    "BASE_URL": "the address people reach the site at, e.g. https://foi.example.org; used in the "
                "API's absolute links and its OpenAPI servers instead of the request's Host, and "
                "by SECURE_COOKIES=auto (Secure exactly when it is https)",
    "TRUSTED_PROXIES": "how many proxies in front set X-Forwarded-For/-Proto (0); used for the "
                       "client address sign-in failures are counted against",
    "SIGN_IN_MAX_FAILURES": "failed sign-ins allowed per account within the window (5)",
    "SIGN_IN_MAX_FAILURES_PER_ADDRESS": "failed sign-ins allowed per client address within the window (20)",
    "SIGN_IN_WINDOW_MINUTES": "the window failed sign-ins are counted in, in minutes (15)",
    "CHART_RENDERS_PER_MINUTE": "charts one user may have drawn afresh (not from the cache) a "
                                "minute; more answer 429 (60)",
    "STORAGE_PATH": "folder where source files (imported spreadsheets) are kept",
    "SMTP_HOST": "mail server to send through; unset: messages go to the outbox folder only",
    "SMTP_PORT": "mail server port (587)",
    "SMTP_USERNAME": "mail server user name",
    "SMTP_PASSWORD": "mail server password",
    "SMTP_STARTTLS": "1 (the default) to use STARTTLS, 0 not to",
    "MAIL_FROM": "the From address of requests and chasers",
    "REPLY_ADDRESS": "the mailbox replies come to, e.g. foi@example.org: each request is sent "
                     "with its own Reply-To, foi+<id>-<authority>-<check>@example.org, so that a "
                     "reply files itself (the mail host must deliver plus-addresses); "
                     "@replies.example.org: a catch-all domain instead; unset: no per-request "
                     "Reply-To",
    "REPLY_ADDRESS_KEY": "the key reply addresses are signed with; unset (the usual): one derived "
                         "from SECRET_KEY for this use alone",
    "MAIL_THROTTLE_SECONDS": "seconds between two messages to the same recipient domain, on a real "
                             "mail server (2; never for the outbox)",
    "CHASE_INTERVAL_DAYS": "working days before a request may be chased again (5)",
    "INVITATION_DAYS": "days an invitation's set-your-password link works (7)",
    "IMAP_HOST": "mailbox to fetch replies from (foitrack mail fetch)",
    "IMAP_PORT": "mailbox port (993)",
    "IMAP_USERNAME": "mailbox user name",
    "IMAP_PASSWORD": "mailbox password",
    "IMAP_FOLDER": "mailbox folder (INBOX)",
    "IMAP_SSL": "1 (the default) for IMAP over SSL, 0 for plain IMAP",
    "BROKER_URL": "the task queue's broker, e.g. redis://127.0.0.1:6379/0, shared by every web and "
                  "worker machine; unset: an embedded queue in the instance folder, for one "
                  "machine (foitrack serve starts its worker)",
    "CACHE_URL": "Redis, e.g. redis://127.0.0.1:6379/1, where every web and worker process keeps "
                 "the charts and aggregates they build, so each is built once for all of them; "
                 "unset: BROKER_URL when that is Redis, else each process keeps its own",
    "QUEUE": "the queue's name on the broker (foitrack); give each foitrack its own on a shared "
             "broker",
    "TICK_SECONDS": "how often the scheduler looks for campaigns due to be sent and jobs whose "
                    "worker died (60)",
    "FETCH_MINUTES": "the scheduler fetches replies from the IMAP mailbox this often (5)",
    "DIGEST_HOUR": "the scheduler sends the overdue digest at this hour, UK time (7)",
    "AUTO_CHASE": "1: the scheduler also sends the chasers each morning (0: a person does)",
    "CLOCK_DUE_SOON_DAYS": "a request is 'due soon' within this many working days (5)",
    "CLOCK_VERY_OVERDUE_DAYS": "'very overdue': this many working days after receipt, no reply (40)",
    "CLOCK_REVIEW_DAYS": "an internal review is due this many working days after it is asked for (20)",
    "CLOCK_REVIEW_MAX_DAYS": "the longest an internal review may take, in working days (40)",
    "CLOCK_REVIEW_WINDOW_DAYS": "ask for a review within this many working days of a response (40)",
    "CLOCK_EXTENSION_GUIDANCE_DAYS": "flag a public interest extension longer than this (20)",
}


def clock_settings(env: Mapping[str, str]) -> ClockSettings:
    """The clock's numbers, each overridable as FOITRACK_CLOCK_<NAME>. :raises ConfigError:"""
    values = {}
    for field in fields(ClockSettings):
        raw = env.get(f"{ENV_PREFIX}CLOCK_{field.name.upper()}")
        if raw is None or field.name == "response_days":
            continue
        if not raw.strip().isdigit() or not 1 <= int(raw) <= 400:
            raise ConfigError(
                f"{ENV_PREFIX}CLOCK_{field.name.upper()} must be a whole number of working days "
                f"from 1 to 400, not {raw!r}"
            )
        values[field.name] = int(raw)
    return ClockSettings(**values)


def base_url(raw: str | None) -> str | None:
    """FOITRACK_BASE_URL as the site's root address without its final slash, or None when unset.

    Checked at startup because every absolute link the API gives is built on it: a typo would
    otherwise only show up as broken links in scripts. :raises ConfigError:
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        problem: str | None = "is not a URL"
    else:
        problem = next((message for wrong, message in (
            (parts.scheme not in ("http", "https"), "must start with https:// or http://"),
            (not parts.hostname, "has no host name"),
            (parts.username is not None or parts.password is not None,
             "must not hold a user name or password"),
            (bool(parts.query or parts.fragment) or "?" in text or "#" in text,
             "must have no query (?...) or fragment (#...)"),
            (any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text),
             "must not hold spaces or control characters"),
        ) if wrong), None)
    if problem:
        raise ConfigError(f"{ENV_PREFIX}BASE_URL {problem}, e.g. https://foi.example.org; "
                          f"not {raw!r}")
    return text.rstrip("/")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(Exception):
    """The configuration cannot work; the message says what to change."""


def secret_key_from_instance(instance_path: Path) -> str:
    """Read the key kept in the instance folder, generating it once if it is missing.

    Several gunicorn workers may start at once: the key is written to a private temporary
    file and linked into place, which fails for all but the first, and they read its key.
    :raises ConfigError: when the instance folder cannot be written.
    """
    key_file = instance_path / "secret_key"
    try:
        if key_file.exists():
            key = key_file.read_text(encoding="ascii").strip()
            if key:
                return key
            raise ConfigError(f"{key_file} is empty: delete it, or set FOITRACK_SECRET_KEY")
        instance_path.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        # Readable by the owner only: the key lets anyone forge a signed-in session.
        fd, temporary = tempfile.mkstemp(dir=instance_path, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(key + "\n")
            try:
                os.link(temporary, key_file)
            except FileExistsError:
                return key_file.read_text(encoding="ascii").strip()
        finally:
            os.unlink(temporary)
        return key
    except OSError as error:
        raise ConfigError(
            f"cannot keep the secret key in {instance_path} ({error.strerror}); set "
            "FOITRACK_INSTANCE_PATH to a writable folder or FOITRACK_SECRET_KEY"
        ) from None


def load_config(instance_path: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the settings dictionary for an app whose instance folder is ``instance_path``.

    :raises ConfigError: naming the first setting, in the order read here, that cannot work.
    """
    env = os.environ
    config = _defaults(instance_path, env)
    config["STORAGE_PATH"] = env.get(ENV_PREFIX + "STORAGE_PATH") or str(instance_path / "files")
    config["OUTBOX_PATH"] = str(instance_path / "outbox")
    config["INSTANCE_PATH"] = str(instance_path)
    config["BROKER_URL"] = env.get(ENV_PREFIX + "BROKER_URL") or None
    config["QUEUE"] = (env.get(ENV_PREFIX + "QUEUE") or "foitrack").strip()
    config["CACHE_URL"] = _cache_url(env.get(ENV_PREFIX + "CACHE_URL"))
    config["AUTO_CHASE"] = (env.get(ENV_PREFIX + "AUTO_CHASE") or "0").strip().lower() in _TRUE
    for name in ("SMTP_HOST", "SMTP_USERNAME", "SMTP_PASSWORD", "MAIL_FROM", "REPLY_ADDRESS",
                 "REPLY_ADDRESS_KEY", "IMAP_HOST",
                 "IMAP_USERNAME", "IMAP_PASSWORD", "IMAP_FOLDER"):
        config[name] = env.get(ENV_PREFIX + name) or None
    config.update(_whole_numbers(env))
    config["MAIL_THROTTLE_SECONDS"] = _mail_throttle(env)
    for name in ("SMTP_STARTTLS", "IMAP_SSL"):
        config[name] = (env.get(ENV_PREFIX + name) or "1").strip().lower() in _TRUE
    if env.get(ENV_PREFIX + "DATABASE_URL"):
        config["DATABASE_URL"] = env[ENV_PREFIX + "DATABASE_URL"]
    secure = _secure_cookies(env)
    if secure is not None:
        config["SECURE_COOKIES"] = secure
    config["BASE_URL"] = env.get(ENV_PREFIX + "BASE_URL")
    config.update(overrides or {})
    config["BASE_URL"] = base_url(config["BASE_URL"])
    _settle_cookies(config)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = env.get(ENV_PREFIX + "SECRET_KEY") or secret_key_from_instance(
            instance_path
        )
    return config


def _defaults(instance_path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The settings before the environment's: the clock's already from it."""
    return {
        "DATABASE_URL": f"sqlite:///{instance_path / 'foitrack.sqlite3'}",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        # None: decided per response (see foitrack.web.SecureCookieResponse); True/False: always.
        "SECURE_COOKIES": None,
        "REMEMBER_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "WTF_CSRF_TIME_LIMIT": None,
        "CHECK_SCHEMA": True,
        # Uploads (filled templates, replies, trackers) are refused above this size.
        "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,
        "CLOCK": clock_settings(env),
        # A fixed date for "today" (tests only); None means the date in the UK now.
        "TODAY": None,
        "PAGE_SIZE": 50,
        # The site's root address (FOITRACK_BASE_URL); None: absolute links follow the request.
        "BASE_URL": None,
    }


# Whole-number settings and their defaults; those in _AT_LEAST_ONE may not be 0.
_WHOLE_NUMBERS = (("SMTP_PORT", 587), ("IMAP_PORT", 993), ("CHASE_INTERVAL_DAYS", 5),
                  ("INVITATION_DAYS", 7),
                  ("TRUSTED_PROXIES", 0), ("SIGN_IN_MAX_FAILURES", 5),
                  ("SIGN_IN_MAX_FAILURES_PER_ADDRESS", 20), ("SIGN_IN_WINDOW_MINUTES", 15),
                  ("CHART_RENDERS_PER_MINUTE", 60), ("FETCH_MINUTES", 5), ("DIGEST_HOUR", 7),
                  ("TICK_SECONDS", 60))
_AT_LEAST_ONE = ("INVITATION_DAYS", "SIGN_IN_MAX_FAILURES", "SIGN_IN_MAX_FAILURES_PER_ADDRESS",
                 "SIGN_IN_WINDOW_MINUTES", "CHART_RENDERS_PER_MINUTE", "FETCH_MINUTES", "TICK_SECONDS")


def _whole_numbers(env: Mapping[str, str]) -> dict[str, int]:
    """The whole-number settings. :raises ConfigError:"""
    numbers: dict[str, int] = {}
    for name, default in _WHOLE_NUMBERS:
        raw = env.get(ENV_PREFIX + name)
        if raw is not None and not raw.strip().isdigit():
            raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, not {raw!r}")
        numbers[name] = int(raw) if raw else default
    for name in _AT_LEAST_ONE:
        if numbers[name] < 1:
            raise ConfigError(f"{ENV_PREFIX}{name} must be at least 1, not {numbers[name]}")
    if numbers["DIGEST_HOUR"] > 23:
        raise ConfigError(f"{ENV_PREFIX}DIGEST_HOUR must be an hour from 0 to 23, not "
                          f"{numbers['DIGEST_HOUR']}")
    return numbers


def _cache_url(raw: str | None) -> str | None:
    """FOITRACK_CACHE_URL, which must name a Redis server; None when unset. :raises ConfigError:"""
    if raw is None or not raw.strip():
        return None
    if raw.strip().split(":", 1)[0].lower() not in ("redis", "rediss", "unix"):
        raise ConfigError(f"{ENV_PREFIX}CACHE_URL must be a Redis URL, e.g. "
                          f"redis://127.0.0.1:6379/1; not {raw!r}")
    return raw.strip()


def _mail_throttle(env: Mapping[str, str]) -> float:
    """Seconds between messages when sending a campaign. :raises ConfigError:"""
    raw = env.get(ENV_PREFIX + "MAIL_THROTTLE_SECONDS")
    try:
        return float(raw) if raw else 2.0
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}MAIL_THROTTLE_SECONDS must be a number, not {raw!r}") from None


def _secure_cookies(env: Mapping[str, str]) -> bool | None:
    """FOITRACK_SECURE_COOKIES (or its older name) as always (True) or never (False); None for
    auto or unset. :raises ConfigError:"""
    raw = env.get(ENV_PREFIX + "SECURE_COOKIES") or env.get(ENV_PREFIX + "SESSION_COOKIE_SECURE")
    if not raw or raw.strip().lower() == "auto":
        return None
    if raw.strip().lower() not in _TRUE | _FALSE:
        raise ConfigError(f"{ENV_PREFIX}SECURE_COOKIES must be 1, 0 or auto, not {raw!r}")
    return raw.strip().lower() in _TRUE


def _settle_cookies(config: dict[str, Any]) -> None:
    """Decide SECURE_COOKIES from the base URL when it is auto and the address is known, and
    give the session and remember-me cookies the answer when there is one."""
    if config["SECURE_COOKIES"] is None and config["BASE_URL"]:
        # auto, with the address known: the request's Host and scheme cannot be trusted behind
        # a proxy (one that connects from 127.0.0.1 looks like the development server).
        config["SECURE_COOKIES"] = config["BASE_URL"].startswith("https://")
    if config["SECURE_COOKIES"] is not None:
        config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = config["SECURE_COOKIES"]
