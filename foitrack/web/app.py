"""Binding the web side: sign-in, CSRF, the access check, error pages, blueprints."""

from __future__ import annotations

import hmac
from typing import Any, NamedTuple

from flask import Flask, Response, abort, flash, g, has_request_context, render_template, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from foitrack.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from foitrack.models import Role, User
from foitrack.web import formatting, permissions
from foitrack.web.context import close_session, db_session, sees, today, visible_campaigns

login_manager = LoginManager()
csrf = CSRFProtect()


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db_session().get(User, int(user_id))
    if user is None or not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def _api_token_user() -> User | None:
    """The user whose API token the request carries (`Authorization: Bearer ...`), if any."""
    from foitrack.services.api_tokens import user_for_token

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    session = db_session()
    user = user_for_token(session, token.strip())
    if user is not None:
        session.commit()  # when the token was last used
    return user


def _check_api_access(needed: Role | None) -> Any:
    """The API's door: only a token counts there. A browser's session cookie must not drive
    the API, which takes JSON without CSRF tokens."""
    from foitrack.web.api import problem

    user = _api_token_user()
    g._login_user = user if user is not None else login_manager.anonymous_user()
    if needed is permissions.PUBLIC:
        return None
    if user is None:
        return problem(401, "Unauthorized", "Send a valid API token: Authorization: Bearer <token>.",
                       headers={"WWW-Authenticate": 'Bearer realm="foitrack"'})
    if not user.role.allows(needed):
        return problem(403, "Forbidden", f"A {user.role.value}'s token may not do this.")
    return None


def _unstorable(value: Any) -> bool:
    """Text no database here can keep: a NUL (PostgreSQL refuses it) or an unpaired surrogate
    (not encodable as UTF-8), which a form or JSON can carry but no person types."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


def _refuse_unstorable_text() -> Any:
    """Refuse, before any view runs and so before anything is written, a request whose fields
    hold text that cannot be stored, naming the field."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    fields: list[tuple[str, Any]] = list(request.form.items(multi=True))
    if request.is_json:
        body = request.get_json(silent=True)
        fields += list(body.items()) if isinstance(body, dict) else [("body", body)]
    bad = next((name for name, value in fields if _unstorable(name) or _unstorable(value)), None)
    if bad is None:
        return None
    return _refuse_input(bad, "Text that cannot be stored",
                         f"The field {bad!r} holds characters that cannot be stored (a NUL "
                         "character or an unpaired surrogate). Nothing was saved.")


def _refuse_input(field: str, title: str, message: str) -> Any:
    """A refused input, named: problem+json 422 on the API, the error page's 400 elsewhere."""
    if request.path.startswith("/api/"):
        from foitrack.errors import Problem
        from foitrack.web.api import problem

        return problem(422, "Unprocessable Content", message, [Problem(message, field=field)])
    return render_template("errors/error.html", code=400, title=title, message=message), 400


def _refuse_unstorable_url() -> Any:
    """Refuse a URL whose path or query string holds a NUL (``%00``) before anything reads the
    database: PostgreSQL cannot compare text holding one (every such lookup was a 500), and no
    name or search here can contain one. A path answers 404 (no page has that name); a query
    parameter 400 on a page and 422 on the API, naming it. Headers need no check: the one that
    reaches a query, the API token, is looked up by its hash."""
    if _unstorable(request.path) or _unstorable(request.view_args or {}):
        abort(404)
    bad = next((name for name, value in request.args.items(multi=True)
                if _unstorable(name) or _unstorable(value)), None)
    if bad is None:
        return None
    return _refuse_input(bad, "Address not accepted",
                         f"The parameter {bad!r} holds a character no address can use (a NUL "
                         "character). Nothing was done.")


def _check_access() -> Any:
    """The one place roles are enforced, before any view runs."""
    if request.endpoint is None:
        return None  # 404 or 405: nothing to protect
    try:
        needed = permissions.required_role(request.endpoint)
    except KeyError:
        abort(403)
    if request.blueprint == "api":
        refused = _check_api_access(needed)
        if refused is None and needed is not permissions.PUBLIC:
            _check_visible()
        return refused
    if needed is permissions.PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.role.allows(needed):
        abort(403)
    _check_visible()
    return None


def _check_visible() -> None:
    """Embargoed campaigns, for pages and API alike: a campaign hidden from this user, and any
    file kept for it, answer 404, as if they did not exist."""
    from foitrack.services import membership

    args = request.view_args or {}
    rule = request.url_rule.rule if request.url_rule is not None else ""
    if "/campaigns/<slug>" in rule and request.blueprint == "api":
        # A hidden campaign and a missing one get the same answer, given before any parameter
        # is checked: a 422 for a bad parameter would otherwise say that the campaign exists.
        from sqlalchemy import select

        from foitrack.errors import NotFound
        from foitrack.models import Campaign

        seen = db_session().execute(select(visible_campaigns()).select_from(Campaign)
                                    .where(Campaign.slug == args["slug"])).first()
        if seen is None or not seen[0]:
            slug = args["slug"]
            raise NotFound(f"campaign {slug!r} has no request to {args['authority']!r}"
                           if "authority" in args else f"no campaign {slug!r}")
    elif "/campaigns/<slug>" in rule and not membership.can_see_slug(
            db_session(), current_user, args["slug"], today()):
        abort(404)
    if "file_id" in args and not membership.can_see_file(
            db_session(), current_user, args["file_id"], today()):
        abort(404)
    if "job_id" in args and not membership.can_see_job(db_session(), current_user,
                                                       args["job_id"], today()):
        if request.blueprint == "api":
            from foitrack.errors import NotFound

            raise NotFound(f"no job {args['job_id']}")
        abort(404)


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def cookies_must_be_secure(scheme: str, host: str) -> bool:
    """Whether a response to a request for ``scheme://host`` marks its cookies Secure when
    FOITRACK_SECURE_COOKIES is auto: always, except on plain http to this machine (the
    development server, tests, and browsers on loopback, where there is no HTTPS to insist on).
    """
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return scheme == "https" or hostname.lower() not in LOOPBACK_HOSTS


class SecureCookieResponse(Response):
    """Marks every cookie Secure when the request needs it (see cookies_must_be_secure).

    Done where cookies are set, because Flask's session cookie and Flask-Login's remember-me
    cookie read a fixed setting and the answer depends on the request.
    """

    def set_cookie(self, key: str, *args: Any, secure: bool = False, **kwargs: Any) -> None:
        from flask import current_app

        if (not secure and has_request_context()
                and current_app.config.get("SECURE_COOKIES") is None
                and cookies_must_be_secure(request.scheme, request.host)):
            secure = True
        # By the parent's signature *args could also fill ``secure``; no caller passes it so.
        super().set_cookie(key, *args, secure=secure, **kwargs)  # type: ignore[misc]
        # A response that sets a cookie is for one browser only: no cache may keep it, or the
        # next visitor through a shared proxy would be handed the cookie too.
        self.headers["Cache-Control"] = "no-store"


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
    )
    return response


def _no_store_when_personal(response: Any) -> Any:
    """``Cache-Control: no-store`` on everything answered to a signed-in user or an API token:
    pages and exports hold embargoed work and people's names, which a shared computer's browser
    cache or a proxy must not keep. Static files and pages for signed-out visitors stay
    cacheable; responses setting a cookie are marked where the cookie is set
    (SecureCookieResponse)."""
    if request.endpoint == "static":
        return response
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response


def _template_globals() -> dict[str, Any]:
    role = current_user.role if current_user.is_authenticated else None

    def can(endpoint: str) -> bool:
        needed = permissions.ROUTE_ROLES.get(endpoint, Role.admin)
        if needed is permissions.PUBLIC:
            return True
        return role is not None and role.allows(needed)

    def embargoed(campaign: Any) -> bool:
        from foitrack.services.membership import under_embargo

        return under_embargo(campaign, today())

    return {"can": can, "embargoed": embargoed, "sees": sees}


def _on_csrf_error(error: CSRFError) -> Any:
    flash("Your form had expired or was not sent by this site. Please try again.", "error")
    return render_template("errors/error.html", code=400, title="Form not accepted",
                           message=error.description), 400


class ErrorAnswer(NamedTuple):
    """How a domain error is answered: its status, its page's title and message, and its
    problem's title and detail. ``None`` as a message or detail: the error's own words."""

    status: int
    page_title: str
    page_message: str | None
    api_title: str
    api_detail: str | None


# NotFound and Forbidden pages keep the words of a plain 404 and 403 (the error's own message
# could name what a hidden campaign holds); Conflict and Invalid say what clashed or was wrong.
DOMAIN_ERRORS: dict[type[DomainError], ErrorAnswer] = {
    NotFound: ErrorAnswer(404, "Page not found", "There is no such page.", "Not Found", None),
    Forbidden: ErrorAnswer(403, "Not allowed", "Your role does not allow this page.", "Forbidden",
                           None),
    Conflict: ErrorAnswer(409, "Not done", None, "Conflict", None),
    Invalid: ErrorAnswer(422, "Not accepted", None, "Unprocessable Content",
                         "Nothing was changed: the input has problems."),
}


def _on_domain_error(error: DomainError) -> Any:
    """A domain error no view turned into a form error: the same status everywhere, as
    problem+json under the API and as the error page elsewhere. Nothing raised half-way is kept.
    """
    db_session().rollback()
    answer = next(a for kind, a in DOMAIN_ERRORS.items() if isinstance(error, kind))
    if request.blueprint == "api":
        from foitrack.web.api import problem

        return problem(answer.status, answer.api_title, answer.api_detail or str(error),
                       error.problems if isinstance(error, Invalid) else None)
    return render_template("errors/error.html", code=answer.status, title=answer.page_title,
                           message=answer.page_message or str(error)), answer.status


def _error_page(code: int, title: str, message: str) -> Any:
    def handler(_error: Exception) -> Any:
        if request.path.startswith("/api/"):
            from foitrack.web.api import problem

            return problem(code, title, message)
        return render_template("errors/error.html", code=code, title=title, message=message), code

    return handler


def init_app(app: Flask) -> None:
    from foitrack.web.views import (
        auth,
        authorities,
        campaigns,
        checks,
        data,
        figures,
        jobs,
        mail,
        main,
        proposals,
        public_data,
        publishing,
        removed_figures,
        requests,
        right_of_reply,
        series,
        tokens,
        users,
    )

    app.response_class = SecureCookieResponse
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    formatting.register(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    csrf.init_app(app)

    app.teardown_appcontext(close_session)
    app.before_request(_refuse_unstorable_url)  # first: the access check reads the database
    app.before_request(_check_access)
    app.before_request(_refuse_unstorable_text)
    app.after_request(_security_headers)
    app.after_request(_no_store_when_personal)
    app.context_processor(_template_globals)
    app.register_error_handler(CSRFError, _on_csrf_error)
    for error in DOMAIN_ERRORS:
        app.register_error_handler(error, _on_domain_error)
    app.register_error_handler(
        403, _error_page(403, "Not allowed", "Your role does not allow this page.")
    )
    app.register_error_handler(404, _error_page(404, "Page not found", "There is no such page."))
    app.register_error_handler(413, _error_page(
        413, "File too large", "Uploads may be up to 50 MB each time. Nothing was saved."))
    app.register_error_handler(
        500, _error_page(500, "Something went wrong", "The error has been logged. Nothing was saved.")
    )

    for module in (main, auth, authorities, users, campaigns, requests, figures, removed_figures, data,
                   mail, jobs, tokens, checks, series, proposals, publishing,
                   right_of_reply):
        app.register_blueprint(module.blueprint)
    # The public data portal (/data/): published releases past their embargo, read only and
    # open without sign-in (its routes are PUBLIC in foitrack.web.permissions). It has no form,
    # so nothing in it needs a CSRF token.
    app.register_blueprint(public_data.blueprint)
    from foitrack.web import api

    csrf.exempt(api.blueprint)  # token-only: no cookie reaches it (see _check_api_access)
    app.register_blueprint(api.blueprint)

    missing = permissions.unlisted_endpoints([rule.endpoint for rule in app.url_map.iter_rules()])
    if missing:
        raise RuntimeError(f"routes with no entry in foitrack.web.permissions: {', '.join(missing)}")

    @app.template_filter("when")
    def _when(value: Any) -> str:
        return value.strftime("%-d %b %Y %H:%M UTC") if value else ""
