"""Finding what a URL names, shared by the blueprints. A NotFound they raise answers 404
through the app-wide mapping of domain errors (foitrack.web.app)."""

from __future__ import annotations

from flask import current_app

from foitrack.models import Campaign, Request
from foitrack.services import campaigns as campaign_service
from foitrack.services import requests as request_service
from foitrack.storage import FileStore
from foitrack.web.context import db_session


def campaign_or_404(slug: str) -> Campaign:
    return campaign_service.get_campaign(db_session(), slug)


def request_or_404(slug: str, authority: str) -> Request:
    return request_service.get_request(db_session(), slug, authority)


def file_store() -> FileStore:
    return FileStore(current_app.config["STORAGE_PATH"])
