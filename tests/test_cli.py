"""The `foitrack` command line, run as users and scripts run it."""

from __future__ import annotations

import csv
import io
import json
import re

import click
import pytest

from foitrack.cli import main
from foitrack.services import authorities, users
from tests.commands import invoke
from tests.factories import PASSWORD


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


# ---- campaigns and requests from the command line ------------------------------------

@pytest.fixture
def request_text(tmp_path):
    path = tmp_path / "request.txt"
    path.write_text("{{ salutation }},\n\nHow many offences did {{ authority.name }} record?\n",
                    encoding="utf-8")
    return path


def test_a_campaign_to_its_end_from_the_cli(runner, request_text, session):
    invoke(runner, "authorities", "load")
    result = invoke(runner, "campaigns", "create", "--title", "Grooming 2019", "--set",
                    "england-wales", "--text-file", str(request_text))
    assert result.output.strip() == "Created campaign grooming-2019: 43 requests, not yet sent."
    result = invoke(runner, "requests", "event", "grooming-2019", "E23000016", "sent", "2019-05-01")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("Recorded request sent on 2019-05-01 for West Mercia Police. "
                                     "Status: Awaiting response; response due 2019-05-31.")
    result = invoke(runner, "requests", "event", "grooming-2019", "E23000016", "response",
                    "2019-05-29", "--outcome", "part_provided", "--exemptions", "s.40(2)",
                    "--reference", "FOI 123")
    assert "Status: Answered." in result.output
    for kind, day, extra in [("internal_review_requested", "2019-06-03", []),
                             ("internal_review_outcome", "2019-06-20", ["--outcome", "upheld"]),
                             ("ico_complaint", "2019-07-01", []),
                             ("ico_decision", "2019-11-01", ["--outcome", "not_upheld"])]:
        result = invoke(runner, "requests", "event", "grooming-2019", "west-mercia", kind, day, *extra)
        assert result.exit_code == 0, result.output
    assert "Status: Closed." in result.output
    listing = invoke(runner, "campaigns", "list").output
    assert re.search(r"grooming-2019\s+active\s+43\s+1\s+1\s+0\s+Grooming 2019", listing), listing


def test_a_refused_event_exits_1_with_the_reason(runner, request_text):
    invoke(runner, "authorities", "load")
    invoke(runner, "campaigns", "create", "--title", "G", "--slug", "g", "--authorities", "kent",
           "--text-file", str(request_text))
    result = invoke(runner, "requests", "event", "g", "kent", "response", "2019-05-29",
                    "--outcome", "provided")
    assert result.exit_code == 1
    assert "the request has not been sent by then" in result.output
    assert "nothing was changed" in result.output
    result = invoke(runner, "requests", "event", "g", "atlantis", "sent", "2019-05-29")
    assert result.exit_code == 1 and "campaign 'g' has no request to 'atlantis'" in result.output


def test_overdue_lists_late_requests_in_every_format(runner, request_text):
    invoke(runner, "authorities", "load")
    invoke(runner, "campaigns", "create", "--title", "G", "--slug", "g", "--authorities",
           "kent,surrey", "--text-file", str(request_text))
    invoke(runner, "requests", "event", "g", "kent", "sent", "2019-05-01")
    invoke(runner, "requests", "event", "g", "kent", "chaser_sent", "2019-06-03")
    rows = list(csv.DictReader(io.StringIO(invoke(runner, "requests", "overdue", "--format", "csv").output)))
    assert [(r["authority"], r["campaign"], r["due"], r["last_chased"]) for r in rows] == [
        ("Kent Police", "g", "2019-05-31", "2019-06-03")
    ]
    assert int(rows[0]["working_days_late"]) > 40 and rows[0]["lateness"] == "very_overdue"
    data = json.loads(invoke(runner, "requests", "overdue", "--campaign", "g", "--format", "json").output)
    assert data[0]["authority"] == "Kent Police"
    table = invoke(runner, "requests", "overdue").output
    assert table.splitlines()[0].split() == ["AUTHORITY", "CAMPAIGN", "DUE", "DAYS", "LATE", "LATENESS",
                                            "LAST_CHASED"]
    assert invoke(runner, "requests", "overdue", "--campaign", "nope").exit_code == 1


def test_a_repeat_from_the_cli(runner, request_text):
    invoke(runner, "authorities", "load")
    invoke(runner, "campaigns", "create", "--title", "G 2019", "--authorities", "kent,W15000002",
           "--text-file", str(request_text))
    result = invoke(runner, "campaigns", "create", "--title", "G 2020", "--repeat-of", "g-2019")
    assert result.output.strip() == "Created campaign g-2020: 2 requests, not yet sent."


# ---- campaign files, figures, aggregate and release ------------------------------------

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


@pytest.fixture
def grooming(runner):
    invoke(runner, "authorities", "load")
    assert invoke(runner, "campaigns", "create", "--from",
                  str(FIXTURES / "grooming-2019.toml")).exit_code == 0
    result = invoke(runner, "figures", "import", "grooming-2019", str(FIXTURES / "grooming-2019.csv"))
    # Progress goes to standard error; what scripts read is on standard output.
    assert result.stdout.strip() == "Imported figures: 784 new, 0 changed, 0 unchanged."
    return runner


def test_campaign_file_export_and_create_again(grooming, tmp_path):
    exported = invoke(grooming, "campaigns", "export", "grooming-2019").output
    assert exported.startswith('slug = "grooming-2019"\n')
    copy = tmp_path / "copy.toml"
    copy.write_text(exported.replace('slug = "grooming-2019"', 'slug = "grooming-2019-copy"'))
    result = invoke(grooming, "campaigns", "create", "--from", str(copy))
    assert result.output.strip() == "Created campaign grooming-2019-copy: 43 requests, not yet sent."
    again = invoke(grooming, "campaigns", "export", "grooming-2019-copy").output
    assert again == exported.replace('slug = "grooming-2019"', 'slug = "grooming-2019-copy"')


def test_figures_export_then_import_changes_nothing(grooming, tmp_path):
    path = tmp_path / "figures.csv"
    assert invoke(grooming, "figures", "export", "grooming-2019", "-o", str(path)).exit_code == 0
    header = path.read_text().splitlines()[0]
    assert header == "authority,measure,period,dimension,category,value,caveat,source"
    result = invoke(grooming, "figures", "import", "grooming-2019", str(path))
    assert result.stdout.strip() == "Imported figures: 0 new, 0 changed, 784 unchanged."


def test_a_bad_figures_file_names_line_and_column(grooming, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("authority,measure,period,dimension,category,value,caveat,source\n"
                    "Kent,offences,2018-19,,,12,,\nKent,offences,2018-19,platform,Instagram,many,,\n")
    result = invoke(grooming, "figures", "import", "grooming-2019", str(path))
    assert result.exit_code == 1
    assert "line 3, column value: 'many' is not a figure" in result.output
    assert "nothing was changed" in result.output


def test_aggregate_as_csv(grooming):
    rows = list(csv.DictReader(io.StringIO(invoke(grooming, "aggregate", "grooming-2019", "--format",
                                                  "csv").output)))
    assert list(rows[0])[:10] == ["measure", "period", "dimension", "category", "total",
                                  "lower_bound", "upper_bound", "share_where_recorded",
                                  "authorities_with_figure", "authorities_asked"]
    total = next(r for r in rows if r["period"] == "2018-19" and r["dimension"] == "")
    assert (total["total"], total["authorities_with_figure"], total["authorities_asked"]) == (
        "4373", "43", "43")
    group = next(r for r in rows if r["period"] == "2018-19" and r["category"] == "aged-11-or-under")
    assert (group["dimension"], group["total"], group["share_where_recorded"]) == ("age", "510", "0.204")


def test_aggregate_for_a_subset(grooming):
    data = json.loads(invoke(grooming, "aggregate", "grooming-2019", "--authorities",
                             "E23000016,E23000033", "--format", "json").output)
    assert data["authorities_asked"] == 2
    total = next(r for r in data["rows"] if r["period"] == "2018-19" and r["level"] == "total")
    assert total["authorities_with_figure"] == 2
    result = invoke(grooming, "aggregate", "grooming-2019", "--authorities", "west-midlands")
    assert "(West Midlands police forces; 4 asked)" in result.output
    assert invoke(grooming, "aggregate", "grooming-2019", "--authorities", "nowhere").exit_code == 1


def test_release_and_fact_sheet(grooming):
    text = invoke(grooming, "release", "grooming-2019").output
    assert "4,373 offences of sexual communication with a child recorded in 2018/19, up 36%" in text
    assert "\nMethods\n" in text
    sheet = invoke(grooming, "release", "grooming-2019", "--authority", "E23000016").output
    assert sheet.splitlines()[2:4] == [
        "- West Mercia Police recorded 122 offences of sexual communication with a child in "
        "2018/19, 9.5 per 100,000 people, the 20th highest rate of the 42 forces with a "
        "population of 100,000 or more that gave a figure (the rate across the forces that gave "
        "a figure was 7.4).",
        "- That was up 67% from 73 in 2017/18."]


# ---- data in and out ---------------------------------------------------------------------

def test_templates_out_and_filled_ones_back_in(grooming, tmp_path):
    from openpyxl import load_workbook

    result = invoke(grooming, "figures", "template", "grooming-2019", "-o", str(tmp_path / "t"))
    assert result.stdout.strip() == f"Wrote 43 templates to {tmp_path / 't'}."
    path = tmp_path / "t" / "grooming-2019-west-mercia.xlsx"
    book = load_workbook(path)
    book["Figures"]["E13"] = 80  # the 2017/18 total, changed from 73
    book.save(path)
    preview = invoke(grooming, "figures", "import", "grooming-2019", str(path), input="n\n")
    assert "Preview: 1 file: 0 new, 1 changed, 0 unchanged, 0 changing a checked figure." in preview.output
    assert ("changed: West Mercia Police grooming-2019-west-mercia.xlsx Figures!E13: 73 -> 80"
            in preview.output)
    assert "Nothing was imported." in preview.output
    done = invoke(grooming, "figures", "import", "grooming-2019", str(path), "--yes")
    assert "Imported figures: 0 new, 1 changed, 0 unchanged." in done.output


def test_export_in_every_format(grooming, tmp_path):
    for fmt, name in (("csv", "f.csv"), ("xlsx", "f.xlsx"), ("json", "f.json"),
                      ("datapackage", "pkg"), ("datapackage", "pkg.zip")):
        result = invoke(grooming, "export", "grooming-2019", "--format", fmt, "-o",
                        str(tmp_path / name))
        assert result.exit_code == 0, result.output
    assert (tmp_path / "f.csv").read_text(encoding="utf-8-sig").count("\n") == 785
    assert json.loads((tmp_path / "f.json").read_text())["campaign"] == "grooming-2019"
    assert (tmp_path / "pkg" / "datapackage.json").exists()
    import zipfile

    assert "grooming-2019/datapackage.json" in zipfile.ZipFile(tmp_path / "pkg.zip").namelist()


def test_import_a_tracker_from_the_cli(grooming, tmp_path):
    path = tmp_path / "tracker.csv"
    path.write_text("Force,Date sent,Date of reply,Status\nW Mercia Police,01/05/2019,20/05/2019,"
                    "Refused\nNowhere Police,01/05/2019,,\n")
    result = invoke(grooming, "requests", "import-tracker", "grooming-2019", str(path), "--yes")
    assert "line 3: not matched: no authority called 'Nowhere Police'" in result.output
    assert result.output.strip().endswith("Recorded 1 requests from tracker.csv.")
