"""Running foitrack: the built-in server, and a Python shell with the app loaded."""

from __future__ import annotations

import click

from foitrack.cli.context import needs_current_schema, with_web_app


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks.")
@with_web_app
@needs_current_schema
def serve(host: str, port: int, debug: bool) -> None:
    """Serve foitrack with the built-in server (use gunicorn in production, see README)."""
    from flask import current_app
    from werkzeug.serving import run_simple

    if debug and host not in ("127.0.0.1", "localhost", "::1"):
        # The debugger runs any Python a visitor types: never on an open address.
        raise click.ClickException("--debug is only allowed with --host 127.0.0.1")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.debug = debug
    click.echo(f"foitrack is serving on http://{host}:{port}/ (Ctrl+C to stop)")
    # Werkzeug directly: Flask refuses app.run() from inside a command line.
    run_simple(host, port, app, use_reloader=debug, use_debugger=debug, threaded=True)


@click.command("shell", short_help="Run a Python shell with the app loaded.")
@with_web_app
def shell() -> None:
    """Run an interactive Python shell in foitrack's app context: `app` is the app, and
    `app.extensions["foitrack.db"].session()` opens a database session."""
    from flask.cli import shell_command

    # Flask's own shell (banner, PYTHONSTARTUP, the app's shell context), in our app's context.
    click.get_current_context().invoke(shell_command)
