from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from foitrack.web import db_session

blueprint = Blueprint("main", __name__)


@blueprint.get("/")
def index() -> Any:
    return redirect(url_for("campaigns.index"))


@blueprint.get("/healthz")
def health() -> Any:
    """For load balancers and uptime checks: is the database answering?"""
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
