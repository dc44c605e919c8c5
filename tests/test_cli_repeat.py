"""`foitrack campaigns create --repeat-of`: the periods and wording moved on, and the diff
printed for the researcher; --keep-wording keeps last time's words."""

from __future__ import annotations

from sqlalchemy import select

from foitrack.cli import main
from foitrack.models import Campaign
from tests.factories import FIXTURES


def run(runner, *args):
    return runner.invoke(main, list(args), catch_exceptions=False)


def _seed(runner):
    assert run(runner, "authorities", "load").exit_code == 0
    made = run(runner, "campaigns", "create", "--from", str(FIXTURES / "grooming-2019.toml"))
    assert made.exit_code == 0, made.output


def test_a_repeat_prints_the_periods_moved_and_the_wordings_diff(runner, session):
    _seed(runner)
    result = run(runner, "campaigns", "create", "--title", "Grooming 2020", "--repeat-of",
                 "grooming-2019", "--send-on", "2099-04-06")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Created campaign grooming-2020: 43 requests, not yet sent.",
        "Period 2017/18 (2017-18, 2017-04-01 to 2018-03-31) -> 2018/19 (2018-19, 2018-04-01 to "
        "2019-03-31)",
        "Period 2018/19 (2018-19, 2018-04-01 to 2019-03-31) -> 2019/20 (2019-20, 2019-04-01 to "
        "2020-03-31)",
        "The wording, changed from last time's:",
        "--- last time's wording",
        "+++ proposed wording",
        "@@ -2,7 +2,7 @@",
        " ",
        " Under the Freedom of Information Act 2000, please tell me how many offences of sexual",
        " communication with a child (Sexual Offences Act 2003, s.15A) {{ authority.name }} "
        "recorded in",
        "-2017/18 and in 2018/19, with the communication method used and the victim's age band "
        "where",
        "+2018/19 and in 2019/20, with the communication method used and the victim's age band "
        "where",
        " recorded.",
        " ",
        " Yours faithfully,",
        "Left as written: label 'the two years' (two-years): no year of its dates in it, kept as "
        "written",
        "It will be emailed on 2099-04-06.",
    ]
    repeat = session.scalar(select(Campaign).where(Campaign.slug == "grooming-2020"))
    assert "2018/19 and in 2019/20" in repeat.current_version.request_text
    assert repeat.series_id is not None


def test_keep_wording_keeps_last_times_words(runner, session):
    _seed(runner)
    result = run(runner, "campaigns", "create", "--title", "Grooming 2020", "--repeat-of",
                 "grooming-2019", "--keep-wording")
    assert "The wording is as last time's." in result.stdout
    repeat, source = (session.scalar(select(Campaign).where(Campaign.slug == slug))
                      for slug in ("grooming-2020", "grooming-2019"))
    assert repeat.current_version.request_text == source.current_version.request_text
    assert [p.label for p in repeat.periods] == ["2018/19", "2019/20"]  # the periods move all the same
    refused = runner.invoke(main, ["campaigns", "create", "--title", "X", "--keep-wording"])
    assert refused.exit_code == 2 and "--keep-wording and --send-on go with --repeat-of" in \
        refused.output
