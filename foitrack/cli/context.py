"""What every command shares: the app (built once, only by the commands that need it), one
unit of work per command, the clock's date, the actor the audit trail names, and date options.

Nothing here imports Flask, SQLAlchemy or a service at import time: `foitrack --help` and
`foitrack deadline` never build an app.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from foitrack.errors import DomainError, Invalid, Problem

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import Session

    from foitrack.db import Database
    from foitrack.domain.clock import ClockSettings
    from foitrack.services.audit import Actor

F = TypeVar("F", bound=Callable[..., Any])


def command_line_app(*, web: bool = False) -> Flask:
    """The app a command runs in: with ``web``, the whole web app (serve, shell); otherwise
    only its settings and database, the same as the web app's.

    Every command but those two uses no view, and importing the views and what they import
    costs more than the rest of a command's start-up.
    """
    from foitrack import ConfigError

    # The schema is checked per command (see needs_current_schema), so that
    # `foitrack db upgrade` can run against a database that is behind.
    settings = {"CHECK_SCHEMA": False}
    try:
        from foitrack import create_app, create_base_app

        app = create_app(settings) if web else create_base_app(settings)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    if not web and app.config.get("BROKER_URL"):  # the web app watches its own (web.warm)
        # An import or a reply filed here changes its campaign's pages as an edit in the web
        # app does: a worker rebuilds them ahead of their readers. Imported only where there
        # is a broker, so that a command's start-up pays nothing for it otherwise.
        from foitrack.services.warm_up import through_the_queue

        through_the_queue(app.config, app.extensions["foitrack.db"].sessionmaker)
    return app


class AppLoader:
    """The click context object: builds the app on first use, once per run.

    Tests pass their own (``runner.invoke(main, args, obj=AppLoader(lambda: app))``); it then
    serves every command, the web ones included.
    """

    def __init__(self, create_app: Callable[[], Flask] | None = None) -> None:
        self._create_app = create_app
        self._apps: dict[bool, Flask] = {}

    def load(self, *, web: bool = False) -> Flask:
        if web not in self._apps:
            self._apps[web] = (self._create_app() if self._create_app
                               else command_line_app(web=web))
        return self._apps[web]

    def close(self) -> None:
        """Close the database connections of the apps it built (one given to it is its
        owner's to close)."""
        if self._create_app is None:
            for app in self._apps.values():
                app.extensions["foitrack.db"].engine.dispose()
        self._apps.clear()


def with_appcontext(command: F) -> F:
    """Run the command inside the app's context (settings and database), building it first."""
    return _in_app(command, web=False)


def with_web_app(command: F) -> F:
    """Run the command inside the whole web app's context, building it first."""
    return _in_app(command, web=True)


def _in_app(command: F, *, web: bool) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from flask import current_app

        if current_app:
            return command(*args, **kwargs)
        ctx = click.get_current_context()
        loader = ctx.find_object(AppLoader) or ctx.find_root().ensure_object(AppLoader)
        with loader.load(web=web).app_context():
            return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def database() -> Database:
    from flask import current_app

    return current_app.extensions["foitrack.db"]


def config() -> Any:
    """The running app's settings."""
    from flask import current_app

    return current_app.config


def clock_settings() -> ClockSettings:
    return config()["CLOCK"]


def today() -> dt.date:
    """The date the clock is read on: the app's fixed TODAY when one is set (as the web
    honours it), otherwise the date in the UK now."""
    from foitrack.domain.clock import today_in_uk

    return config().get("TODAY") or today_in_uk()


def needs_current_schema(command: F) -> F:
    """Refuse to run a command against a database that is behind the migrations."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from foitrack import ConfigError, migrate

        try:
            migrate.ensure_current(database().engine)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def system_actor() -> Actor:
    """The audit trail's name for this run: the command and the operating-system user."""
    from foitrack.services.audit import Actor

    return Actor.system(f"{' '.join(['foitrack', *sys.argv[1:3]])} ({getpass.getuser()})")


def refused(error: DomainError) -> click.ClickException:
    """A refused change as the command's error: every problem, and that nothing was changed."""
    if isinstance(error, Invalid) and len(error.problems) > 1:
        lines = "\n".join(f"  {problem}" for problem in error.problems)
        return click.ClickException(f"{len(error.problems)} problems, nothing was changed:\n{lines}")
    return click.ClickException(f"{error}; nothing was changed")


def refused_naming(options: Mapping[str, str], nothing: str
                   ) -> Callable[[DomainError], click.ClickException]:
    """A ``report`` for ``unit_of_work``: each problem with its field named as the command's
    option (``options``: field -> option), then what did not happen (``nothing``, e.g. "nothing
    was published")."""
    def report(error: DomainError) -> click.ClickException:
        if isinstance(error, Invalid):
            lines = [str(Problem(p.message, options.get(p.field or "", p.field)))
                     for p in error.problems]
            return click.ClickException("; ".join(lines) + f"; {nothing}")
        return click.ClickException(f"{error}; {nothing}")
    return report


def plainly(error: DomainError) -> click.ClickException:
    """A domain error as the command's error, word for word (lookups and reports)."""
    return click.ClickException(str(error))


@contextmanager
def unit_of_work(
    report: Callable[[DomainError], click.ClickException] = refused,
) -> Iterator[Session]:
    """One session for a command, committed when the block ends normally and rolled back
    when it raises; a domain error becomes the command's error (exit code 1), worded by
    ``report``. A block that previews (a dry run) rolls back itself before it returns."""
    with database().session() as session:
        try:
            yield session
        except DomainError as error:
            raise report(error) from None
        session.commit()


def iso_date(_ctx: Any, _param: click.Parameter, value: str | None) -> dt.date | None:
    """A click callback: a YYYY-MM-DD option or argument as a date from 1990 to 2100."""
    if value is None:
        return None
    from foitrack.domain.clock import parse_iso_date

    try:
        return parse_iso_date(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
