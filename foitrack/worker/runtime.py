"""The worker process's app: its settings, database and name, made once per process."""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

from flask import Flask

from foitrack.services.job_runner import Runtime

_app: Flask | None = None
_worker = f"foitrack@{socket.gethostname()}"


def set_worker(name: str) -> None:
    global _worker
    _worker = name


def app() -> Flask:
    global _app
    if _app is None:
        from foitrack import create_base_app

        _app = create_base_app()
    return _app


def today() -> dt.date:
    from foitrack.domain.clock import today_in_uk

    return app().config.get("TODAY") or today_in_uk()


def runtime() -> Runtime:
    flask_app = app()
    database: Any = flask_app.extensions["foitrack.db"]
    return Runtime(new_session=database.session, config=flask_app.config, today=today,
                   worker=_worker, snapshot=database.snapshot)
