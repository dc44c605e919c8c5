"""Configuration: defaults, then FOITRACK_* environment variables, then explicit overrides."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

ENV_PREFIX = "FOITRACK_"

# Settings that may be given as FOITRACK_<NAME> in the environment, with what they are for.
# The README's configuration table is written from this list.
ENVIRONMENT_SETTINGS: dict[str, str] = {
    "DATABASE_URL": "SQLAlchemy database URL; default an SQLite file foitrack.sqlite3 in the instance folder",
    "SECRET_KEY": "key that signs sessions and CSRF tokens; default a random key kept in the instance folder",
    "INSTANCE_PATH": "folder for the SQLite database, the generated secret key and stored files",
    "SESSION_COOKIE_SECURE": "set to 1 when served over HTTPS so cookies are only sent over it",
}

_TRUE = {"1", "true", "yes", "on"}


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
    """Build the settings dictionary for an app whose instance folder is ``instance_path``."""
    overrides = dict(overrides or {})
    env = os.environ
    config: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{instance_path / 'foitrack.sqlite3'}",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "WTF_CSRF_TIME_LIMIT": None,
        "CHECK_SCHEMA": True,
        "PAGE_SIZE": 50,
    }
    if env.get(ENV_PREFIX + "DATABASE_URL"):
        config["DATABASE_URL"] = env[ENV_PREFIX + "DATABASE_URL"]
    if env.get(ENV_PREFIX + "SESSION_COOKIE_SECURE"):
        secure = env[ENV_PREFIX + "SESSION_COOKIE_SECURE"].strip().lower() in _TRUE
        config["SESSION_COOKIE_SECURE"] = secure
        config["REMEMBER_COOKIE_SECURE"] = secure
    config.update(overrides)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = env.get(ENV_PREFIX + "SECRET_KEY") or secret_key_from_instance(
            instance_path
        )
    return config
