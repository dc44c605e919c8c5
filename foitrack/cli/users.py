"""`foitrack users`: accounts and roles."""

from __future__ import annotations

import sys

import click

from foitrack.cli.context import (
    needs_current_schema,
    plainly,
    system_actor,
    unit_of_work,
    with_appcontext,
)


@click.group("users")
def users_group() -> None:
    """Accounts and roles."""


@users_group.command("create")
@click.argument("email")
@click.option(
    "--role", type=click.Choice(["admin", "researcher", "viewer"]), default="researcher",
    show_default=True, help="What the account may do.",
)
@click.option("--name", help="The person's name (default: the part of EMAIL before the @).")
@click.option(
    "--password-stdin", is_flag=True,
    help="Read the password from standard input instead of prompting (for scripts).",
)
@with_appcontext
@needs_current_schema
def users_create(email: str, role: str, name: str | None, password_stdin: bool) -> None:
    """Create an account for EMAIL; prompts for the password."""
    from foitrack.services.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with unit_of_work() as session:
        user = create_user(session, system_actor(), email=email, name=name or email.split("@")[0],
                           role=role, password=password)
        created = f"Created {user.role.value} {user.email}. Sign in at /auth/sign-in."
    click.echo(created)


@users_group.command("list")
@with_appcontext
@needs_current_schema
def users_list() -> None:
    """List accounts and their roles."""
    from foitrack.services.users import list_users

    with unit_of_work(plainly) as session:
        for user in list_users(session):
            state = "" if user.active else "  (deactivated)"
            click.echo(f"{user.email:<40} {user.role.value:<11} {user.name}{state}")
