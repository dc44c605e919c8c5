"""`foitrack series list|show|revisions|create|link|unlink` (issue 18, section 2): three
campaigns, each re-asking the year before, one force revising its 2018/19 figure."""

from __future__ import annotations

import json

import pytest

from tests.commands import invoke
from tests.factories import FIXTURES

YEARS = (2019, 2020, 2021)


@pytest.fixture
def linked(runner):
    """The series fixtures made and filled by the commands, linked into the series "grooming"."""
    invoke(runner, "authorities", "load")
    for year in YEARS:
        name = f"series-{year}"
        made = invoke(runner, "campaigns", "create", "--from", str(FIXTURES / f"{name}.toml"))
        assert made.exit_code == 0, made.output
        filled = invoke(runner, "figures", "import", name, str(FIXTURES / f"{name}.csv"))
        assert filled.exit_code == 0, filled.output
    created = invoke(runner, "series", "create", "grooming", "--name", "Online grooming")
    assert created.output == "Created series grooming: Online grooming.\n"
    for year in YEARS:
        linked = invoke(runner, "series", "link", "grooming", f"series-{year}")
        assert linked.output == f"Campaign series-{year} is in the series grooming.\n"
    return runner


def test_show_as_csv_is_exact(linked):
    result = invoke(linked, "series", "show", "grooming", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "authority_code,authority,2017/18,2018/19,2019/20,2020/21\n"
        "E23000002,Cumbria Constabulary,10,12,3,4\n"
        "E23000032,Kent Police,40,44,50,not recorded\n"
        "E23000016,West Mercia Police,60,75,90,100\n"
        ",All authorities with a figure,110,131,143,104\n"
        ",Authorities with a figure,3,3,3,2\n"
    )


def test_show_as_json_has_the_national_totals_changes_and_revisions(linked):
    data = json.loads(invoke(linked, "series", "show", "grooming", "--measure", "offences",
                             "--format", "json").output)
    assert data["measure"] == {"key": "offences",
                               "label": "Offences of sexual communication with a child recorded"}
    assert [p["campaign"] for p in data["periods"]] == [
        "series-2019", "series-2020", "series-2021", "series-2021"]
    assert data["national"][3] == {"period": "2020/21", "total": 104, "authorities": 2,
                                   "asked": 3}
    assert data["changes"][2] == {
        "from_period": "2019/20", "to_period": "2020/21", "panel_size": 2, "panel_from": 93,
        "panel_to": 104, "change": 11, "ratio": 1.1183, "comparable": True}
    assert data["authorities"][2]["values"]["2018/19"] == {
        "kind": "exact", "value": 75, "text": "75", "campaign": "series-2020", "revised": True}
    assert [r["text"] for r in data["revisions"]] == [
        "revised: <5 in the 2020 campaign, 3 in the 2021 campaign",
        "revised: 73 in the 2019 campaign, 75 in the 2020 campaign"]


def test_show_as_a_table(linked):
    output = invoke(linked, "series", "show", "grooming").output
    lines = output.splitlines()
    assert lines[0] == "Online grooming (grooming): Offences of sexual communication with a child recorded"
    assert lines[2].split() == ["Authority", "2017/18", "2018/19", "2019/20", "2020/21"]
    assert lines[5].split() == ["West", "Mercia", "Police", "60", "75", "90", "100"]
    assert lines[6].split()[-4:] == ["110", "131", "143", "104"]
    assert "2018/19: 131 from 3 of 3 asked; figures from series-2020 (also asked by series-2019)" \
        in lines
    assert ("  2019/20 to 2020/21, the 2 with exact figures for both: 93 to 104 (+11, x1.12)"
            in lines)
    assert ("  West Mercia Police, 2018/19, offences: revised: 73 in the 2019 campaign, 75 in the "
            "2020 campaign. The 2019 campaign's release used 73; the 2020 campaign's used 75."
            in lines)


def test_a_later_refusal_is_noted_not_revised(linked, tmp_path):
    refused = tmp_path / "refused.csv"
    refused.write_text("authority,measure,period,dimension,category,value,caveat,source\n"
                       "E23000032,offences,fy2018,,,withheld s.12,,Reply\n")
    assert invoke(linked, "figures", "import", "series-2020", str(refused)).exit_code == 0
    lines = invoke(linked, "series", "show", "grooming").output.splitlines()
    assert lines[4].split() == ["Kent", "Police", "40", "44", "50", "not", "recorded"]
    assert lines[-2:] == [
        "Later refused or not recorded (the earlier figure stands; not revisions):",
        "  Kent Police, 2018/19, offences: later refused/not recorded: withheld s.12 in the 2020 "
        "campaign; 44 from the 2019 campaign stands."]
    assert "Kent" not in invoke(linked, "series", "revisions", "grooming").output


def test_revisions_in_each_format(linked):
    table = invoke(linked, "series", "revisions", "grooming").output
    assert table == (
        "Cumbria Constabulary, 2019/20, offences: revised: <5 in the 2020 campaign, 3 in the "
        "2021 campaign. The 2020 campaign's release used <5; the 2021 campaign's used 3.\n"
        "West Mercia Police, 2018/19, offences: revised: 73 in the 2019 campaign, 75 in the "
        "2020 campaign. The 2019 campaign's release used 73; the 2020 campaign's used 75.\n")
    assert invoke(linked, "series", "revisions", "grooming", "--format", "csv").output == (
        "authority_code,authority,measure,period,period_start,period_end,earlier_campaign,"
        "earlier_value,later_campaign,later_value\n"
        "E23000002,Cumbria Constabulary,offences,2019/20,2019-04-01,2020-03-31,series-2020,<5,"
        "series-2021,3\n"
        "E23000016,West Mercia Police,offences,2018/19,2018-04-01,2019-03-31,series-2019,73,"
        "series-2020,75\n")
    data = json.loads(invoke(linked, "series", "revisions", "grooming", "--format",
                             "json").output)
    assert [(r["authority_slug"], r["earlier_value"], r["later_value"]) for r in data] == [
        ("cumbria", "<5", "3"), ("west-mercia", "73", "75")]


def test_list_and_unlink(linked):
    assert invoke(linked, "series", "list").output == (
        "grooming\tOnline grooming\tseries-2019, series-2020, series-2021\n")
    result = invoke(linked, "series", "unlink", "series-2019")
    assert result.output == "Campaign series-2019 is no longer in the series grooming.\n"
    assert invoke(linked, "series", "show", "grooming", "--format", "csv").output.splitlines()[0] \
        == "authority_code,authority,2018/19,2019/20,2020/21"


def test_errors_are_named_and_change_nothing(linked):
    unknown = invoke(linked, "series", "show", "nope")
    assert (unknown.exit_code, unknown.output) == (1, "Error: no series 'nope'\n")
    measure = invoke(linked, "series", "show", "grooming", "--measure", "victims")
    assert measure.exit_code == 1
    assert "measure: no campaign of the series 'grooming' has the measure 'victims'" in \
        measure.output
    invoke(linked, "series", "create", "other", "--name", "Other")
    clash = invoke(linked, "series", "link", "other", "series-2019")
    assert clash.exit_code == 1
    assert clash.output == ("Error: campaign 'series-2019' is already in the series 'grooming'; "
                            "unlink it first; nothing was changed\n")
    bad = invoke(linked, "series", "create", "Bad Slug", "--name", "")
    assert bad.exit_code == 1 and "2 problems, nothing was changed" in bad.output
    assert invoke(linked, "series", "list").output.splitlines() == [
        "grooming\tOnline grooming\tseries-2019, series-2020, series-2021", "other\tOther\t"
        "no campaigns"]
