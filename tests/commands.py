"""Running `foitrack ...` in-process through click's test runner, as a script would."""

from __future__ import annotations

from click.testing import CliRunner, Result

from foitrack.cli import main


def invoke(runner: CliRunner, *args: str, input: str | None = None) -> Result:
    """Runs one command; an unexpected exception fails the test with its own traceback."""
    return runner.invoke(main, list(args), input=input, catch_exceptions=False)
