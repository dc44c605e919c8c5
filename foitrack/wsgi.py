"""The WSGI entry point for gunicorn: `gunicorn "foitrack.wsgi:app"`."""

from __future__ import annotations

import sys

from foitrack import ConfigError, create_app

try:
    app = create_app()
except ConfigError as error:
    # One line, not a traceback: say what is wrong and what to run.
    sys.exit(f"foitrack: {error}")
