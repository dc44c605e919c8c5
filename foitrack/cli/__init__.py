"""The `foitrack` command: click groups per noun over the same services the views use.

Each command's module is imported only when that command runs (or when help lists it), and
the app only by the commands that need one, so that the command line answers at once.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Sequence
from typing import Any

import click

from foitrack.cli.context import AppLoader

__all__ = ["AppLoader", "main"]

# Command name -> "module:attribute" under foitrack.cli; the order help lists them in is click's
# (alphabetical).
COMMANDS = {
    "aggregate": "release:aggregate_command",
    "datasette": "datasette:datasette_command",
    "authorities": "authorities:authorities_group",
    "backup": "backups:backup_command",
    "campaigns": "campaigns:campaigns_group",
    "chase": "mail:chase_command",
    "db": "db:db_group",
    "deadline": "deadline:deadline",
    "export": "release:export_command",
    "figures": "figures:figures_group",
    "files": "files:files_group",
    "jobs": "jobs:jobs_group",
    "mail": "mail:mail_group",
    "partners": "partners:partners_group",
    "publish": "publish:publish_command",
    "release": "release:release_command",
    "requests": "requests:requests_group",
    "restore": "backups:restore_command",
    "right-of-reply": "right_of_reply:right_of_reply_command",
    "scheduler": "jobs:scheduler_command",
    "series": "series:series_group",
    "serve": "server:serve",
    "shell": "server:shell",
    "tokens": "tokens:tokens_group",
    "users": "users:users_group",
    "worker": "jobs:worker_command",
}


class LazyGroup(click.Group):
    """A group whose commands are imported by name when first asked for."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, attribute = self.lazy[cmd_name].split(":")
        command = getattr(importlib.import_module(f"foitrack.cli.{module}"), attribute)
        assert isinstance(command, click.Command), self.lazy[cmd_name]
        return command

    def main(self, args: Sequence[str] | None = None, *rest: Any, **options: Any) -> Any:
        try:
            return super().main(args, *rest, **options)
        finally:
            if args is None:
                # Run as the program (arguments from sys.argv, not a test's): the collector's
                # last pass over everything the imports made, as the interpreter exits, would
                # take longer than most commands. The command has closed what it opened.
                gc.freeze()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("foitrack")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"foitrack {_version()}")
    ctx.exit()


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    help="foitrack: track FOI requests to many public bodies and the figures they return.",
)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show foitrack's version and exit.")
@click.pass_context
def main(ctx: click.Context) -> None:
    """The foitrack command line."""
    ctx.call_on_close(ctx.ensure_object(AppLoader).close)
