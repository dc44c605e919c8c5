"""The `foitrack` command line, run as users and scripts run it."""

from __future__ import annotations

import csv
import io
import json

import click
import pytest

from foitrack.cli import main
from foitrack.services import authorities, users
from tests.conftest import PASSWORD


def invoke(runner, *args, input=None):
    return runner.invoke(main, list(args), input=input, catch_exceptions=False)


def _commands(group: click.Group, prefix=()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help(runner):
    from foitrack import create_app  # noqa: F401  (the app must load for the full list)

    names = []
    for path, command in _commands(main):
        result = invoke(runner, *path, "--help")
        assert result.exit_code == 0, path
        assert "Usage:" in result.output
        if not isinstance(command, click.Group):
            assert command.help or command.short_help, path
        names.append(" ".join(path))
    for expected in ("serve", "db upgrade", "authorities load", "authorities import",
                     "authorities list", "users create"):
        assert expected in names


def test_load_then_list_the_43_as_csv(runner):
    assert "48 created" in invoke(runner, "authorities", "load").output
    assert "0 created, 0 updated, 48 unchanged" in invoke(runner, "authorities", "load").output
    result = invoke(runner, "authorities", "list", "--set", "england-wales", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 43
    assert list(rows[0])[:6] == ["code", "name", "short_name", "region", "country", "kind"]
    mercia = next(row for row in rows if row["name"] == "West Mercia Police")
    assert (mercia["code"], mercia["region"], mercia["short_name"]) == (
        "E23000016", "West Midlands", "West Mercia",
    )
    assert all(row["code"] and row["region"] for row in rows)


def test_list_as_json_and_table(runner):
    invoke(runner, "authorities", "load")
    data = json.loads(invoke(runner, "authorities", "list", "--region", "Wales", "--format", "json").output)
    assert [item["slug"] for item in data] == ["dyfed-powys", "gwent", "north-wales", "south-wales"]
    table = invoke(runner, "authorities", "list", "--search", "mercia").output
    assert table.splitlines()[0].split() == ["SLUG", "CODE", "NAME", "REGION", "KIND"]
    assert table.splitlines()[-1] == "(1 authority)"


def test_an_unknown_set_fails_with_exit_code_1(runner):
    invoke(runner, "authorities", "load")
    result = invoke(runner, "authorities", "list", "--set", "englandwales")
    assert result.exit_code == 1
    assert "Error: no authority set 'englandwales'" in result.output


def test_users_create_with_a_password_from_stdin(runner, session):
    result = invoke(runner, "users", "create", "Boss@Example.org", "--role", "admin",
                    "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.org" in result.output
    assert users.authenticate(session, "boss@example.org", PASSWORD) is not None


def test_users_create_prompts_for_the_password_twice(runner, session):
    result = invoke(runner, "users", "create", "ana@example.org", "--role", "viewer",
                    input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Created viewer ana@example.org" in result.output
    assert "ana@example.org" in invoke(runner, "users", "list").output


def test_users_create_refuses_a_short_password(runner, session):
    result = invoke(runner, "users", "create", "ana@example.org", "--password-stdin", input="short\n")
    assert result.exit_code == 1
    assert "password: must be at least 10 characters; nothing was changed" in result.output
    assert users.list_users(session) == []


def test_import_dry_run_changes_nothing_and_errors_exit_1(runner, session, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("name,kind\nLeeds City Council,council\n", encoding="utf-8")
    result = invoke(runner, "authorities", "import", str(good), "--dry-run")
    assert result.output.strip() == "Dry run, nothing changed. Would be: 1 created, 0 updated, " \
        "0 unchanged; 0 sets created, 0 set memberships added."
    assert authorities.find_authorities(session) == []
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind,website\nLeeds City Council,council,leeds\nYork,,\n", encoding="utf-8")
    result = invoke(runner, "authorities", "import", str(bad))
    assert result.exit_code == 1
    assert "2 problems, nothing was changed:" in result.output
    assert "line 2, column website: 'leeds' is not a web address" in result.output
    assert "line 3, column kind: is required" in result.output
    assert invoke(runner, "authorities", "import", str(good)).exit_code == 0
    assert [a.name for a in authorities.find_authorities(session)] == ["Leeds City Council"]


def test_commands_refuse_a_database_behind_the_migrations(scratch, tmp_path):
    from click.testing import CliRunner

    runner = CliRunner(env={"FOITRACK_DATABASE_URL": scratch.new_url(),
                            "FOITRACK_INSTANCE_PATH": str(tmp_path)})
    for args in (["serve"], ["authorities", "list"], ["authorities", "load"]):
        result = invoke(runner, *args)
        assert result.exit_code == 1, args
        assert result.output.strip() == (
            "Error: the database has no foitrack tables yet: run `foitrack db upgrade` "
            "(then `foitrack authorities load`)"
        )
    assert "behind: run `foitrack db upgrade`" in invoke(runner, "db", "current").output
    assert invoke(runner, "db", "upgrade").exit_code == 0
    assert "up to date" in invoke(runner, "db", "current").output
    assert "48 created" in invoke(runner, "authorities", "load").output


@pytest.mark.parametrize("url", ["nonsense", "oracle://x@y/z"])
def test_a_bad_database_url_is_one_line(tmp_path, url):
    from click.testing import CliRunner

    runner = CliRunner(env={"FOITRACK_DATABASE_URL": url, "FOITRACK_INSTANCE_PATH": str(tmp_path)})
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: FOITRACK_DATABASE_URL"), result.output


def test_an_unknown_revision_is_one_line(runner):
    result = invoke(runner, "db", "upgrade", "nonexistent")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1


def test_the_debugger_is_refused_on_an_open_address(runner):
    result = invoke(runner, "serve", "--debug", "--host", "0.0.0.0")
    assert result.exit_code == 1
    assert "--debug is only allowed with --host 127.0.0.1" in result.output


def test_deadline_prints_the_due_date_first_then_the_working(runner):
    result = invoke(runner, "deadline", "2023-04-28")
    lines = result.output.splitlines()
    assert lines[0] == "2023-05-31"
    assert "  2023-05-08 Coronation of Charles III (UK)" in lines


def test_deadline_as_json(runner):
    data = json.loads(invoke(runner, "deadline", "2019-08-02", "--json").output)
    assert data["received"] == "2019-08-02" and data["due"] == "2019-09-03"
    assert {"date": "2019-08-05", "reason": "Summer Bank Holiday (Scotland)"} in data["skipped"]
    assert {"date": "2019-08-26", "reason": "Late Summer Bank Holiday (England and Wales, "
                                           "Northern Ireland)"} in data["skipped"]


def test_deadline_rejects_a_bad_date(runner):
    result = invoke(runner, "deadline", "2023-02-30")
    assert result.exit_code == 2
    assert "'2023-02-30' is not a date in the form YYYY-MM-DD" in result.output
