"""foitrack: track one FOI request sent to many public bodies and turn the replies into figures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from foitrack.config import ConfigError, load_config

__all__ = ["ConfigError", "create_app", "create_base_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, database, extensions, blueprints and the access check.

    :raises ConfigError: with one line saying what to fix (bad URL, unreachable database,
        database behind the migrations).
    """
    from foitrack import migrate
    from foitrack.web import app as web

    app = create_base_app(config)
    if app.config["CHECK_SCHEMA"]:
        migrate.ensure_current(app.extensions["foitrack.db"].engine)
    web.init_app(app)
    # What pages derive is kept per process and, where Redis is, for all of them; a write has
    # its campaign's heavy pages built again in the background (foitrack.web.warm).
    from foitrack.web import page_cache, warm

    page_cache.init_app(app.extensions, app.config)
    warm.init_app(app)
    # The web side sends jobs to the broker: pay for loading Celery now, not in the first send.
    from foitrack import broker

    broker.warm(app.config)
    return app


def create_base_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app's settings and database without its web side: what every command but `serve`
    and `shell` runs in, since importing the views costs more than most commands take.

    :raises ConfigError: as create_app.
    """
    import os

    from foitrack import db
    from foitrack.paths import templates_dir

    overrides = dict(config or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or os.environ.get(
        "FOITRACK_INSTANCE_PATH"
    )
    app = Flask(
        "foitrack",
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        template_folder=str(templates_dir()),
    )
    app.config.update(load_config(Path(app.instance_path), overrides))
    database = db.Database(db.make_engine(app.config["DATABASE_URL"]))
    app.extensions["foitrack.db"] = database
    # Jobs a transaction asks for go to the task queue once it commits (foitrack.broker).
    from foitrack import broker

    broker.watch(database, app.config)
    return app
