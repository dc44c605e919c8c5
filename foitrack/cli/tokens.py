"""`foitrack tokens`: API tokens made, listed and revoked by an operator, with no browser."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

import click

from foitrack.cli.context import (
    needs_current_schema,
    plainly,
    system_actor,
    unit_of_work,
    with_appcontext,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from foitrack.models import User

# Scripts may rely on these columns in this order; later columns may be added.
COLUMNS = ("id", "user", "name", "prefix", "created", "last_used", "revoked")


@click.group("tokens")
def tokens_group() -> None:
    """API tokens: make one for a script, list them, revoke them."""


def _user_by_email(session: Session, email: str) -> User:
    from foitrack.errors import NotFound
    from foitrack.services.users import find_by_email

    user = find_by_email(session, email)
    if user is None:
        raise NotFound(f"no account with the email {email.strip()!r}")
    return user


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", required=True,
              help="What the token is for, up to 100 characters, e.g. 'newsroom scripts'.")
@with_appcontext
@needs_current_schema
def tokens_create(email: str, name: str) -> None:
    """Make an API token for the active account EMAIL and print it.

    The token alone is printed on standard output, so that
    TOKEN=$(foitrack tokens create EMAIL --name NAME | tail -1) keeps it; what was made, and
    that the token will not be shown again (only its hash is kept), goes to standard error.
    Scripts send it as the header 'Authorization: Bearer TOKEN'.
    """
    from foitrack.services.api_tokens import create_token

    with unit_of_work() as session:
        user = _user_by_email(session, email)
        token, plain = create_token(session, system_actor(), user, name)
        made = (f"Made API token {token.id} {token.name!r} for {user.email} "
                f"({user.role.value}). Copy it now: it will not be shown again.")
    # Only once committed: a token printed for a rolled-back row would never work.
    click.echo(made, err=True)
    click.echo(plain)


@tokens_group.command("list")
@click.argument("email", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json", "table"]), default="table",
    show_default=True, help="Output format.",
)
@with_appcontext
@needs_current_schema
def tokens_list(email: str | None, fmt: str) -> None:
    """List API tokens, newest first: every account's, or only EMAIL's.

    Shows each token's first characters, never the token (it is not kept). Times are UTC.
    """
    from foitrack.services.api_tokens import list_tokens

    with unit_of_work(plainly) as session:
        user = _user_by_email(session, email) if email is not None else None
        rows = [_token_row(token) for token in list_tokens(session, user)]
    out = io.StringIO()
    WRITERS[fmt](rows, out)
    click.echo(out.getvalue(), nl=False)


@tokens_group.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@with_appcontext
@needs_current_schema
def tokens_revoke(token_id: int) -> None:
    """Revoke the API token ID (see `foitrack tokens list`), whoever's it is.

    Scripts using it are refused from then on. Revoking a revoked token changes nothing.
    """
    from foitrack.services.api_tokens import get_token, revoke_token

    with unit_of_work() as session:
        token = get_token(session, token_id)
        already = token.revoked_at
        revoke_token(session, system_actor(), token.user, token.id)
        what = f"API token {token.id} {token.name!r} of {token.user.email} ({token.prefix}…)"
    if already is not None:
        click.echo(f"{what} was already revoked at {_when(already)} UTC; nothing was changed.")
    else:
        click.echo(f"Revoked {what}: scripts using it are refused from now on.")


def _token_row(token: Any) -> dict[str, Any]:
    """A token as plain values, in column order; never its hash."""
    return {
        "id": token.id,
        "user": token.user.email,
        "name": token.name,
        "prefix": token.prefix,
        "created": _iso(token.created_at),
        "last_used": _iso(token.last_used_at),
        "revoked": _iso(token.revoked_at),
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds") if moment else None


def _when(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M}"


def write_csv(rows: list[dict[str, Any]], out: TextIO) -> None:
    from foitrack.domain.csv_safety import protect

    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    # A token's name is typed by its user: kept as text if a spreadsheet opens the file.
    writer.writerows({key: protect("" if value is None else value) for key, value in row.items()}
                     for row in rows)


def write_json(rows: list[dict[str, Any]], out: TextIO) -> None:
    json.dump(rows, out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_table(rows: list[dict[str, Any]], out: TextIO) -> None:
    def shown(row: dict[str, Any], column: str) -> str:
        value = row[column]
        if column in ("created", "last_used", "revoked"):
            return value[:16].replace("T", " ") if value else ("never" if column == "last_used" else "-")
        return str(value)

    cells = [{column: shown(row, column) for column in COLUMNS} for row in rows]
    widths = {column: max([len(column), *(len(cell[column]) for cell in cells)])
              for column in COLUMNS}
    header = {"last_used": "last used"}
    out.write("  ".join(header.get(c, c).upper().ljust(widths[c]) for c in COLUMNS).rstrip() + "\n")
    for cell in cells:
        out.write("  ".join(cell[c].ljust(widths[c]) for c in COLUMNS).rstrip() + "\n")
    out.write(f"({len(rows)} {'token' if len(rows) == 1 else 'tokens'}; times UTC)\n")


WRITERS: dict[str, Callable[[list[dict[str, Any]], TextIO], None]] = {
    "csv": write_csv, "json": write_json, "table": write_table,
}
