"""The acceptance story (DOMAIN.md, "Figures our users published"): two campaigns of 43 forces
whose invented per-force figures add up to what the charity published. The campaign files and
figures go in through the same services as the CLI, and the published lines come out."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from foitrack.services import aggregate, release
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.factories import TEST_ACTOR, load_forces

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2020, 10, 1)


@pytest.fixture
def campaigns(session):
    load_forces(session)
    made = {}
    for name in ("grooming-2019", "lockdown-2020"):
        campaign = create_from_file(session, TEST_ACTOR, (FIXTURES / f"{name}.toml").read_text())
        import_csv(session, TEST_ACTOR, campaign, io.BytesIO((FIXTURES / f"{name}.csv").read_bytes()))
        made[name] = campaign
    session.commit()
    return made


@pytest.fixture
def national(session, campaigns):
    return aggregate.build(session, campaigns["grooming-2019"])


def lines(release_):
    return [line.text for line in release_.lines]


def test_4373_offences_up_a_third_from_3217(national):
    assert national.row("offences", "2018-19").total == 4373
    assert national.row("offences", "2017-18").total == 3217
    assert national.row("offences", "2018-19").coverage == "43 of 43"
    change = national.change("offences", "2017-18", "2018-19")
    assert change.change == 1156 and round(change.change_ratio - 1, 3) == 0.359
    assert (change.panel_size, change.panel_from, change.panel_to) == (43, 3217, 4373)


def test_one_in_five_victims_aged_11_or_younger_where_age_was_given(national):
    row = national.row("offences", "2018-19", "aged-11-or-under")
    assert (row.total, row.denominator) == (510, 2500)
    assert round(row.share_where_recorded, 3) == 0.204
    assert row.coverage == "25 of 43"
    assert row.counts["withheld"] == 1  # Sussex withheld its ages under s.40(2)


def test_instagram_more_than_doubled(national):
    change = national.change("offences", "2017-18", "2018-19", "Instagram")
    assert (change.from_total, change.to_total) == (380, 860)


def test_over_two_years_facebook_owned_and_snapchat_over_70_and_instagram_over_a_quarter(national):
    both = national.row("offences", "two-years", "facebook-owned-and-snapchat")
    instagram = national.row("offences", "two-years", "Instagram")
    assert (both.total, both.denominator) == (3548, 4900)
    assert both.share_where_recorded > 0.70
    assert (instagram.total, round(instagram.share_where_recorded, 4)) == (1240, 0.2531)


def test_suppressed_figures_widen_the_bounds_not_the_total(national):
    whatsapp = national.row("offences", "2017-18", "WhatsApp")
    # Warwickshire gave "<5" (0-4), Gloucestershire "1-4".
    assert (whatsapp.total, whatsapp.lower_bound, whatsapp.upper_bound) == (120, 121, 128)
    assert whatsapp.counts["suppressed"] == 2 and whatsapp.coverage == "33 of 43"


def test_west_mercia_122_against_73_up_67(national):
    rows = {r.cell.period: r for r in national.for_authority("west-mercia") if r.cell.level == "total"}
    assert (rows["2017-18"].value, rows["2018-19"].value) == (73, 122)
    assert rows["2018-19"].rank == 14 and rows["2018-19"].ranked == 43


def test_the_national_release_lines(session, campaigns, national):
    text = lines(release.national_release(session, campaigns["grooming-2019"], national, TODAY))
    assert text[0] == "More than 4,300 offences of sexual communication with a child recorded in 2018/19."
    assert text[1] == (
        "4,373 offences of sexual communication with a child recorded in 2018/19, up 36% from "
        "3,217 in 2017/18: a rise of more than a third. From FOI responses of 43 of the 43 forces "
        "asked."
    )
    assert ("Aged 11 or younger accounted for one in five (20.4%) of the 2,500 offences where the "
            "victim age was recorded in 2018/19 (figures from 25 of the 43 asked).") in text
    # The platform is an overlapping breakdown: its counts are instances, never offences; a
    # group over the two years counts the forces that gave both, and carries its WhatsApp
    # figures' suppressed range.
    assert ("Facebook-owned apps and Snapchat accounted for more than 70% (72.4%) of the 4,900 "
            "instances where the communication method was recorded in the two years (between "
            "3,549 and 3,556 instances counting suppressed figures; figures from the 33 of the 43 "
            "forces asked that gave figures for both 2017/18 and 2018/19).") in text
    assert ("Instagram accounted for more than a quarter (25.3%) of the 4,900 instances where the "
            "communication method was recorded in the two years (figures from the 33 of the 43 "
            "forces asked that gave figures for both 2017/18 and 2018/19).") in text
    assert ("Recorded instances of Instagram in 2018/19 were more than double those of 2017/18 "
            "(860 against 380).") in text


def test_the_west_mercia_fact_sheet(session, campaigns, national):
    sheet = lines(release.fact_sheet(session, campaigns["grooming-2019"], national, "E23000016",
                                     TODAY))
    # The rate first (issue 18): a count says more about a force's size than its risk.
    assert sheet[0] == ("West Mercia Police recorded 122 offences of sexual communication with a "
                        "child in 2018/19, 9.5 per 100,000 people, the 20th highest rate of the "
                        "42 forces with a population of 100,000 or more that gave a figure (the "
                        "rate across the forces that gave a figure was 7.4).")
    assert sheet[1] == "That was up 67% from 73 in 2017/18."
    # Durham also recorded 122: a tie is said to be one.
    assert sheet[2] == ("By number of offences, it was the joint 14th highest of the 43 forces "
                        "that gave a figure.")
    assert sheet[3] == "Across the forces that answered, 4,373 were recorded in 2018/19, up 36%."
    assert ("Facebook-owned apps and Snapchat accounted for more than two thirds (68.0%) of the 100 "
            "instances where the communication method was recorded in the two years.") in sheet
    assert ("Instagram accounted for a quarter (25.0%) of the 100 instances where the communication "
            "method was recorded in the two years.") in sheet


def test_april_to_june_2020_more_than_1200_from_38_forces(session, campaigns):
    lockdown = campaigns["lockdown-2020"]
    result = aggregate.build(session, lockdown)
    assert result.row("offences", "2020-q1").total == 1220
    assert result.row("offences", "2020-q1").coverage == "38 of 43"
    assert result.row("offences", "2020-q1").no_reply == 5
    text = lines(release.national_release(session, lockdown, result, TODAY))
    # 38 of 43 answered: the line most copied says so itself.
    assert text[0] == ("More than 1,200 online grooming crimes recorded in April to June 2020, from "
                       "the 38 of the 43 forces that gave figures.")
    # A quarter is not compared with a year: no "down 73%".
    assert text[1] == ("1,220 online grooming crimes recorded in April to June 2020. From FOI "
                       "responses of 38 of the 43 forces asked.")
    assert ("Facebook-owned apps accounted for more than half (51.0%) of the 1,000 crimes where "
            "the platform was recorded in April to June 2020 (figures from 38 of the 43 asked).") in text
    assert ("Snapchat accounted for one in five (20.0%) of the 1,000 crimes where the platform was "
            "recorded in April to June 2020 (figures from 38 of the 43 asked).") in text


def test_surrey_sussex_and_kent_together(session, campaigns):
    ids, names = aggregate.subset_ids(session, "E23000031,E23000033,E23000032")
    result = aggregate.build(session, campaigns["lockdown-2020"], ids)
    assert result.row("offences", "2020-q1").total == 114
    text = lines(release.subset_release(session, campaigns["lockdown-2020"], ids,
                                        names.split(", "), TODAY))
    assert text[0] == ("114 online grooming crimes recorded in Surrey, Sussex and Kent Police "
                       "together in April to June 2020. From FOI responses of 3 of the 3 forces "
                       "asked.")


def test_sussex_instagram_36_against_29_over_the_previous_three_years(session, campaigns):
    lockdown = campaigns["lockdown-2020"]
    lockdown.min_base = 20  # the charity published shares of Sussex's 25 cases
    session.commit()
    national = aggregate.build(session, lockdown)
    sheet = lines(release.fact_sheet(session, lockdown, national, "sussex", TODAY))
    assert ("Instagram accounted for more than a third (36.0%) of the 25 crimes where the platform "
            "was recorded in April to June 2020, against 29.0% in the previous three years.") in sheet


def test_sussex_instagram_on_a_base_under_min_base_is_a_count(session, campaigns):
    lockdown = campaigns["lockdown-2020"]
    national = aggregate.build(session, lockdown)
    sheet = lines(release.fact_sheet(session, lockdown, national, "sussex", TODAY))
    assert ("Instagram accounted for 9 of the 25 crimes where the platform was recorded in April to "
            "June 2020, against 58 of the 200 in the previous three years.") in sheet
    assert not any("36.0%" in line or "a third" in line for line in sheet)


def test_checked_only_leaves_out_unchecked_figures(session, campaigns):
    from sqlalchemy import select

    from foitrack.models import Figure, Request

    west_mercia = session.scalars(
        select(Figure).join(Request).where(Request.campaign_id == campaigns["grooming-2019"].id,
                                           Figure.category_id.is_(None))).all()[:3]
    for figure in west_mercia:
        figure.checked_by = "checker@example.org"
    session.commit()
    result = aggregate.build(session, campaigns["grooming-2019"], checked_only=True)
    assert sum(r.with_figure for r in result.rows if r.cell.level == "total"
               and r.cell.period in ("2017-18", "2018-19")) == 3


def test_the_methods_note(session, campaigns):
    note = release.methods_note(session, campaigns["grooming-2019"], TODAY)
    # Authorities, not cells (issue 14, point 7).
    assert ("Figures were suppressed (small numbers) by 2 forces: totals leave them out, and the "
            "bounds give the range they could add.") in note
    assert "Figures were withheld by 1 force (s.40(2))." in note
    assert "Dorset Police: Figures from a keyword search of crime records." in note


@pytest.fixture
def three_missing(session):
    """The 2019 campaign with Cleveland, Durham and Northumbria missing their 2017/18 totals."""
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, (FIXTURES / "grooming-2019.toml").read_text())
    missing = {"E23000013", "E23000008", "E23000007"}
    lines_ = (FIXTURES / "grooming-2019.csv").read_text().splitlines()
    kept = [line for line in lines_ if not (line.split(",")[0] in missing
                                            and line.split(",")[2] == "2017-18"
                                            and line.split(",")[3] == "")]
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO("\n".join(kept).encode()))
    session.commit()
    return campaign


def test_a_change_is_only_stated_for_the_forces_that_gave_both_years(session, three_missing):
    national = aggregate.build(session, three_missing)
    before = national.row("offences", "2017-18")
    assert before.coverage == "40 of 43"
    change = national.change("offences", "2017-18", "2018-19")
    text = lines(release.national_release(session, three_missing, national, TODAY))
    # No "up 60%" from comparing 40 forces with 43.
    assert text[1] == ("4,373 offences of sexual communication with a child recorded in 2018/19. "
                       "From FOI responses of 43 of the 43 forces asked.")
    assert text[2] == (
        f"Among the 40 forces that gave figures for both 2017/18 and 2018/19: "
        f"{change.panel_to:,} against {change.panel_from:,}, "
        f"up {round((change.panel_to / change.panel_from - 1) * 100)}% "
        "(2017/18: figures from 40 of 43 asked)."
    )


def test_a_period_group_covers_only_forces_usable_in_every_period(session, three_missing):
    national = aggregate.build(session, three_missing)
    assert national.row("offences", "two-years").coverage == "40 of 43"
    assert national.row("offences", "2018-19").coverage == "43 of 43"
