from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from foitrack.services import dashboard
from foitrack.web import campaign_rows
from foitrack.web.context import clock_settings, db_session, today

blueprint = Blueprint("main", __name__)


@blueprint.get("/")
def index() -> Any:
    """The dashboard: the user's campaigns and what needs doing today."""
    user = current_user._get_current_object()
    session = db_session()
    # Each campaign's part of the board is kept with its rows until it is written: a warm
    # dashboard derives no request's state.
    board = dashboard.build(session, user, today(), clock_settings(), work=partial(
        campaign_rows.derived_of, session, name="dashboard", derive=dashboard.campaign_work))
    return render_template("main/dashboard.html", board=board, today=today())


@blueprint.get("/healthz")
def health() -> Any:
    """For load balancers and uptime checks: is the database answering?"""
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
