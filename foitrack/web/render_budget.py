"""The one check every chart image passes before it is drawn afresh: cached images are free,
new ones come out of each person's render budget (page_cache.RenderBudget), and past it the
answer is a 429 with Retry-After. The aggregate, fact-sheet and series charts all use it, so
the limit and its words are the same wherever a chart is drawn."""

from __future__ import annotations

from collections.abc import Hashable

from flask import Response, current_app, render_template
from flask_login import current_user

from foitrack.services.data_version import Version
from foitrack.web import page_cache
from foitrack.web.context import client_address


def refused_render(version: Version, key: tuple[Hashable, ...]) -> Response | None:
    """None when the image kept under ``(version, key)`` is cached or this person may have one
    more drawn this minute; else a 429 saying when to try again. Call it before any work: a
    chart for a new choice builds its data too (an aggregate takes 0.6-1.7 s with its chart)."""
    # Kept by any process (the shared cache, or the warm-up after a write) is free too.
    if page_cache.of(current_app.extensions).has(version, key, shared=True):
        return None
    # Signed-in people by account, so one person's tabs share a budget; others by address.
    who = current_user.id if current_user.is_authenticated else client_address()
    wait = page_cache.budget_of(current_app.extensions,
                                current_app.config["CHART_RENDERS_PER_MINUTE"]).spend(who)
    if wait is None:
        return None
    seconds = int(wait) + 1
    return Response(render_template(
        "errors/error.html", code=429, title="Too many new charts",
        message=f"You have asked for more new charts than we draw for one person in a minute. "
                f"Try again in {seconds} seconds; charts already drawn are still shown."),
        status=429, headers={"Retry-After": str(seconds)})
