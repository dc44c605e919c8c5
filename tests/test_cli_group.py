"""`foitrack` as its own click group: its version, a help without Flask's commands, the shell,
one clock date, and a start that imports only what the command needs."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from importlib.metadata import version

import pytest
from click.testing import CliRunner

from foitrack.cli import AppLoader, main
from foitrack.cli import context as cli_context


def invoke(runner, *args, input=None, obj=None):
    return runner.invoke(main, list(args), input=input, obj=obj, catch_exceptions=False)


def test_version_is_foitracks():
    result = invoke(CliRunner(), "--version")
    assert result.exit_code == 0
    assert result.output == f"foitrack {version('foitrack')}\n"


def test_help_lists_foitracks_commands_and_none_of_flasks():
    result = invoke(CliRunner(), "--help")
    assert result.exit_code == 0
    commands = result.output.split("Commands:\n")[1]
    names = [line.split()[0] for line in commands.splitlines() if line.startswith("  ")]
    assert names == ["aggregate", "authorities", "backup", "campaigns", "chase", "datasette", "db",
                     "deadline", "export", "figures", "files", "jobs", "mail", "partners", "publish",
                     "release", "requests", "restore", "right-of-reply", "scheduler", "series",
                     "serve", "shell", "tokens", "users", "worker"]
    for noise in ("--app", "--env-file", "--debug", " run ", "routes", "FLASK_"):
        assert noise not in result.output


def test_flasks_own_commands_are_gone():
    for name in ("run", "routes"):
        result = CliRunner().invoke(main, [name])
        assert result.exit_code == 2 and "No such command" in result.output


def test_the_shell_has_the_app(runner):
    result = invoke(runner, "shell", input="print('name:', app.import_name)\n")
    assert result.exit_code == 0, result.output
    assert "name: foitrack" in result.output


def test_today_is_the_apps_fixed_date_when_it_has_one(app):
    with app.app_context():
        app.config["TODAY"] = dt.date(2019, 5, 10)
        assert cli_context.today() == dt.date(2019, 5, 10)
        app.config["TODAY"] = None
        from foitrack.domain.clock import today_in_uk

        assert cli_context.today() == today_in_uk()


def test_commands_read_the_clock_on_the_apps_date(app, runner, tmp_path):
    text = tmp_path / "request.txt"
    text.write_text("Dear {{ authority.name }}", encoding="utf-8")
    invoke(runner, "authorities", "load")
    invoke(runner, "campaigns", "create", "--title", "G", "--slug", "g", "--authorities", "kent",
           "--text-file", str(text))
    app.config["TODAY"] = dt.date(2019, 5, 10)
    fixed = AppLoader(lambda: app)
    refused = invoke(runner, "requests", "event", "g", "kent", "sent", "2019-05-20", obj=fixed)
    assert refused.exit_code == 1
    assert "the date is in the future (today is 2019-05-10)" in refused.output
    assert invoke(runner, "requests", "event", "g", "kent", "sent", "2019-05-01",
                  obj=fixed).exit_code == 0
    on_the_day = invoke(runner, "campaigns", "list", obj=fixed).output.splitlines()[1].split()
    assert on_the_day[:6] == ["g", "active", "1", "1", "0", "0"]
    # Without the fixed date it is today, long after the request fell due.
    assert invoke(runner, "campaigns", "list").output.splitlines()[1].split()[:6] == \
        ["g", "active", "1", "1", "0", "1"]


def _imported_by(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter has imported after running `foitrack ARGS`."""
    script = ("import sys\nfrom foitrack.cli import main\n"
              "try:\n    main(sys.argv[1:], prog_name='foitrack')\n"
              "except SystemExit as end:\n    assert not end.code, end.code\n"
              "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=True)
    return set(done.stderr.split())


@pytest.mark.slow
def test_help_and_deadline_build_no_app_and_touch_no_database():
    for args in (["--help"], ["deadline", "2023-04-28"], ["requests", "--help"]):
        modules = _imported_by(args)
        assert "sqlalchemy" not in modules, args
        assert not {"foitrack.models", "foitrack.services", "foitrack.web", "alembic"} & modules


@pytest.mark.slow
def test_a_command_imports_no_view(runner, cli_env):
    modules = _imported_by(["campaigns", "list"], cli_env)
    assert "foitrack.services.campaigns" in modules
    assert not {name for name in modules if name.startswith("foitrack.web")}
    assert not {"altair", "openpyxl", "argon2", "zxcvbn", "alembic.context"} & modules


@pytest.mark.slow
def test_the_benchmark_prints_each_command_against_the_floor(capsys):
    from benchmarks import cli as benchmark

    assert benchmark.main(["--runs", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["command", "median_ms", "ratio", "cpu_ms", "cpu_ratio", "goal", "ok"]
    assert [line.split("  ")[0].strip() for line in lines[1:6]] == [
        "python -c 'import flask, sqlalchemy'", "foitrack --help", "foitrack deadline 2023-04-28",
        "foitrack campaigns list", "foitrack requests event bench FORCE sent 2019-05-01"]


@pytest.mark.slow
def test_only_the_program_skips_the_last_garbage_collection():
    script = ("import gc, sys\nfrom foitrack.cli import main\n"
              "try:\n    main({args})\nexcept SystemExit:\n    pass\nprint(gc.get_freeze_count())\n")
    for args, frozen in (("", True), ("['deadline', '2023-04-28']", False)):
        done = subprocess.run([sys.executable, "-c", script.format(args=args), "deadline",
                               "2023-04-28"], capture_output=True, text=True, check=True)
        assert (int(done.stdout.split()[-1]) > 0) is frozen, args


def test_the_loader_closes_only_the_apps_it_built(app):
    built = AppLoader(lambda: app)
    assert built.load() is app and built.load(web=True) is app
    built.close()
    with app.extensions["foitrack.db"].session() as session:  # still usable
        assert session.connection() is not None


def test_the_quick_schema_check_agrees_with_alembic(scratch):
    from foitrack import migrate
    from foitrack.db import make_engine
    from foitrack.migrate import _head, is_current
    from foitrack.paths import migrations_dir

    assert _head(migrations_dir() / "versions") == migrate.head_revision()
    engine = make_engine(scratch.new_url())
    try:
        assert not is_current(engine)  # no tables at all
        migrate.upgrade(engine)
        assert is_current(engine)
        migrate.downgrade(engine, "-1")
        assert not is_current(engine)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_importing_the_account_rules_does_no_work():
    script = ("import sys\nfrom foitrack.services import authorities, users\n"
              "print(users._DUMMY_HASH, *sorted({'zxcvbn', 'email_validator'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["None"]
