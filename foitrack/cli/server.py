"""Running foitrack: the built-in server, and a Python shell with the app loaded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import click

from foitrack.cli.context import needs_current_schema, with_web_app


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks.")
@click.option("--worker/--no-worker", default=None,
              help="Start a worker (with the scheduler) beside the server. Default: yes with the "
                   "embedded queue (no FOITRACK_BROKER_URL), no with a broker, where workers "
                   "run on their own (`foitrack worker`).")
@with_web_app
@needs_current_schema
def serve(host: str, port: int, debug: bool, worker: bool | None) -> None:
    """Serve foitrack with the built-in server (use gunicorn in production, see README).

    Sends, chases and mailbox fetches run in the background: with no FOITRACK_BROKER_URL, on
    a worker this command starts beside itself, which stops with it.
    """
    from flask import current_app
    from werkzeug.serving import run_simple

    from foitrack import broker

    if debug and host not in ("127.0.0.1", "localhost", "::1"):
        # The debugger runs any Python a visitor types: never on an open address.
        raise click.ClickException("--debug is only allowed with --host 127.0.0.1")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.debug = debug
    if worker is None:
        worker = broker.embedded(app.config)
    # The reloader runs this command again in a child process: one worker is enough.
    beside = _start_worker() if worker and os.environ.get("WERKZEUG_RUN_MAIN") != "true" else None
    if beside is None and not worker:
        click.echo(f"Background jobs go to {app.config.get('BROKER_URL')}: run `foitrack "
                   "worker` (and one `foitrack scheduler`) to carry them out.")
    click.echo(f"foitrack is serving on http://{host}:{port}/ (Ctrl+C to stop)")
    # Stopped by a service manager (SIGTERM) as by Ctrl+C: the worker beside it stops too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        # Werkzeug directly: Flask refuses app.run() from inside a command line.
        run_simple(host, port, app, use_reloader=debug, use_debugger=debug, threaded=True)
    except KeyboardInterrupt:
        pass
    finally:
        if beside is not None:
            _stop(beside)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _die_with_parent() -> None:
    """In the worker's process: on Linux, be stopped if the server dies without a word
    (SIGKILL), rather than run on alone."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _start_worker() -> subprocess.Popen[bytes]:
    """`foitrack worker --beat` in a process of its own, with this one's settings."""
    click.echo("Starting a worker for background jobs (sends, chases, fetches) beside the "
               "server.")
    return subprocess.Popen([sys.executable, "-m", "foitrack.cli", "worker", "--beat",
                             "--name", "serve", "--concurrency", "2",
                             "--loglevel", "warning"], preexec_fn=_die_with_parent)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@click.command("shell", short_help="Run a Python shell with the app loaded.")
@with_web_app
def shell() -> None:
    """Run an interactive Python shell in foitrack's app context: `app` is the app, and
    `app.extensions["foitrack.db"].session()` opens a database session."""
    from flask.cli import shell_command

    # Flask's own shell (banner, PYTHONSTARTUP, the app's shell context), in our app's context.
    click.get_current_context().invoke(shell_command)
