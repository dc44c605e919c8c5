"""Finding what a URL names, or answering 404: shared by the blueprints."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app

from foitrack.errors import NotFound
from foitrack.services import campaigns as campaign_service
from foitrack.services import requests as request_service
from foitrack.storage import FileStore
from foitrack.web.context import db_session


def campaign_or_404(slug: str) -> Any:
    try:
        return campaign_service.get_campaign(db_session(), slug)
    except NotFound:
        abort(404)


def request_or_404(slug: str, authority: str) -> Any:
    try:
        return request_service.get_request(db_session(), slug, authority)
    except NotFound:
        abort(404)


def file_store() -> FileStore:
    return FileStore(current_app.config["STORAGE_PATH"])
