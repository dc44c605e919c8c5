"""The methods note (issue 14, point 7): written for the authorities a release covers, counting
authorities rather than cells, naming who did not reply, refused or answered only after an
internal review, saying how many figures were checked, with dates written for print."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import event, select

from foitrack.domain.clock import ClockSettings
from foitrack.models import Authority, Figure, Request
from foitrack.services import checks, figures, requests
from foitrack.services.design import create_from_file
from foitrack.services.methods import methods_note
from tests.factories import TEST_ACTOR, load_forces, make_user

FIXTURES = Path(__file__).parent.parent / "fixtures"

TODAY = dt.date(2020, 10, 1)
D = dt.date.fromisoformat

CAMPAIGN = '''
slug = "grooming-south"
title = "Sexual communication with a child, southern forces"
authorities = ["kent", "surrey", "sussex", "thames-valley", "dorset", "gwent", "wiltshire"]
request_text = """Dear {{ authority.name }}, ..."""
[[measures]]
key = "offences"
label = "Offences of sexual communication with a child recorded"
[[periods]]
key = "2017-18"
label = "2017/18"
start = 2017-04-01
end = 2018-03-31
[[periods]]
key = "2018-19"
label = "2018/19"
start = 2018-04-01
end = 2019-03-31
[[dimensions]]
key = "platform"
label = "Communication method"
categories = ["Instagram", "Snapchat", "Other"]
not_recorded = "Not recorded"
[[dimensions]]
key = "age"
label = "Victim age"
categories = ["0-11", "12-17"]
not_recorded = "Not recorded"
'''

# 28 figures from four forces. Surrey and Sussex do not record the platform (9 cells between
# them); Dorset did not record one age band; Kent suppressed one figure; Sussex withheld one.
FIGURES = """authority,measure,period,dimension,category,value,caveat,source
kent,offences,2017-18,,,40,,letter
kent,offences,2018-19,,,50,,letter
kent,offences,2018-19,platform,Instagram,<5,Numbers under 5 suppressed.,table 2
kent,offences,2018-19,platform,Snapchat,20,,table 2
kent,offences,2018-19,platform,Other,10,,table 2
kent,offences,2018-19,platform,Not recorded,18,,table 2
surrey,offences,2017-18,,,30,,letter
surrey,offences,2018-19,,,35,,letter
sussex,offences,2017-18,,,25,,letter
sussex,offences,2018-19,,,28,,letter
sussex,offences,2018-19,age,0-11,withheld s.40(2),,letter
dorset,offences,2017-18,,,20,Figures from a keyword search of crime records.,letter
dorset,offences,2018-19,,,22,Figures from a keyword search of crime records.,letter
dorset,offences,2018-19,platform,Instagram,5,,table
dorset,offences,2018-19,platform,Snapchat,8,,table
dorset,offences,2018-19,platform,Other,4,,table
dorset,offences,2018-19,platform,Not recorded,5,,table
dorset,offences,2018-19,age,0-11,5,,table
dorset,offences,2018-19,age,12-17,not recorded,,table
""" + "".join(
    f"{force},offences,{period},platform,{category},not recorded,,letter\n"
    for force, periods in (("surrey", ("2017-18", "2018-19")), ("sussex", ("2018-19",)))
    for period in periods for category in ("Instagram", "Snapchat", "Other")
)


def add(session, slug, kind, on, **kw):
    request = requests.get_request(session, "grooming-south", slug)
    requests.add_event(session, TEST_ACTOR, request, kind, D(on), today=TODAY, **kw)


@pytest.fixture
def campaign(session):
    """Seven forces asked between 1 and 3 April 2019. Gwent and Wiltshire never replied; Thames
    Valley refused under s.12; Sussex answered in part (s.40(2)); Dorset refused, asked for an
    internal review, and gave its figures after it."""
    load_forces(session)
    found = create_from_file(session, TEST_ACTOR, CAMPAIGN)
    figures.import_csv(session, TEST_ACTOR, found, io.BytesIO(FIGURES.encode()))
    for slug in ("kent", "surrey", "sussex", "thames-valley", "dorset"):
        add(session, slug, "sent", "2019-04-01")
    add(session, "gwent", "sent", "2019-04-02")
    add(session, "wiltshire", "sent", "2019-04-03")
    add(session, "kent", "response", "2019-04-25", outcome="provided")
    add(session, "surrey", "response", "2019-04-26", outcome="provided")
    add(session, "sussex", "response", "2019-04-26", outcome="part_provided", exemptions="s.40(2)")
    add(session, "thames-valley", "response", "2019-04-29", outcome="refused", exemptions="s.12")
    add(session, "dorset", "response", "2019-04-29", outcome="refused", exemptions="s.12")
    add(session, "dorset", "internal_review_requested", "2019-05-07")
    add(session, "dorset", "internal_review_outcome", "2019-05-28", outcome="overturned")
    add(session, "dorset", "response", "2019-06-04", outcome="provided")
    session.commit()
    return found


def ids_of(session, *slugs):
    return list(session.scalars(select(Authority.id).where(Authority.slug.in_(slugs))))


def test_forces_that_do_not_record_a_breakdown_are_counted_not_their_cells(session, campaign):
    note = methods_note(session, campaign, TODAY)
    assert "2 forces do not record the communication method." in note
    # Dorset recorded ages but not one band: said, but not as "does not record the victim age".
    assert "Some other figures were not recorded by 1 force." in note
    assert not any("victim age" in line for line in note)
    assert not any(re.match(r"\d+ figures? w(as|ere) not recorded", line) for line in note)


def test_suppressed_and_withheld_figures_are_counted_by_force_with_the_section(session, campaign):
    note = methods_note(session, campaign, TODAY)
    assert ("Figures were suppressed (small numbers) by 1 force: totals leave them out, and the "
            "bounds give the range they could add.") in note
    assert "Figures were withheld by 1 force (s.40(2))." in note


def test_forces_that_did_not_reply_are_named_a_shared_word_once(session, campaign):
    note = methods_note(session, campaign, TODAY)
    assert "5 replied, 5 of them by the due date (the 20th working day after receipt)." in note
    assert "Had not replied by 1 October 2020: Gwent and Wiltshire Police." in note


def test_refusals_are_named_with_their_sections(session, campaign):
    note = methods_note(session, campaign, TODAY)
    # Dorset's s.12 refusal was overturned on review: it is not a refusal any more.
    assert "Refused: Thames Valley Police (s.12)." in note
    assert "Refused in part: Sussex Police (s.40(2))." in note


def test_a_refusal_upheld_on_internal_review_says_so(session, campaign):
    add(session, "thames-valley", "internal_review_requested", "2019-05-02")
    add(session, "thames-valley", "internal_review_outcome", "2019-05-30", outcome="upheld")
    session.commit()
    note = methods_note(session, campaign, TODAY)
    assert "Refused: Thames Valley Police (s.12; upheld on internal review)." in note


def test_forces_whose_figures_came_only_after_internal_review_are_named(session, campaign):
    note = methods_note(session, campaign, TODAY)
    assert "Gave figures only after an internal review: Dorset Police." in note


def test_dates_are_written_for_print(session, campaign):
    note = methods_note(session, campaign, TODAY, ClockSettings())  # positional, as before
    assert ("Freedom of Information requests were sent to 7 forces between 1 April 2019 and "
            "3 April 2019.") in note
    assert not any(re.search(r"\d{4}-\d\d-\d\d", line) for line in note)


def test_the_note_says_how_many_figures_a_second_person_checked(session, campaign):
    kent = session.scalars(select(Figure).join(Request).join(Authority)
                           .where(Authority.slug == "kent")).all()
    figures.check_figures(session, TEST_ACTOR, kent, make_user(session))
    session.commit()
    note = methods_note(session, campaign, TODAY)
    assert "6 of the 28 figures were checked by a second person." in note
    assert "4 of the 7 forces gave usable figures." in note


def test_a_checked_only_note_counts_only_checked_figures_and_says_so(session, campaign):
    kent = session.scalars(select(Figure).join(Request).join(Authority)
                           .where(Authority.slug == "kent")).all()
    figures.check_figures(session, TEST_ACTOR, kent, make_user(session))
    session.commit()
    note = methods_note(session, campaign, TODAY, checked_only=True)
    assert "This release counts only the figures a second person checked: 6 of the 28." in note
    assert "1 of the 7 forces gave usable figures." in note
    assert ("Figures were suppressed (small numbers) by 1 force: totals leave them out, and the "
            "bounds give the range they could add.") in note
    # Surrey's and Sussex's unchecked figures say nothing here, nor does Dorset's caveat.
    assert not any("do not record" in line or "withheld" in line or line.startswith("Dorset")
                   for line in note)
    assert "Kent Police: Numbers under 5 suppressed." in note


def test_a_subset_note_is_written_for_the_subset_not_copied_from_the_national_one(session, campaign):
    national = methods_note(session, campaign, TODAY)
    subset = methods_note(session, campaign, TODAY, subject="Surrey, Sussex and Kent",
                          authority_ids=ids_of(session, "surrey", "sussex", "kent"))
    assert subset != national
    assert subset[0] == "This note covers Surrey, Sussex and Kent Police; the campaign asked 7 " \
                        "forces in all."
    assert "Freedom of Information requests were sent to 3 forces on 1 April 2019." in subset
    assert "3 of the 3 forces gave usable figures." in subset
    assert "2 forces do not record the communication method." in subset
    # Only the subset's own refusals, silences, reviews and caveats.
    assert "Refused in part: Sussex Police (s.40(2))." in subset
    assert not any(line.startswith(("Refused:", "Had not replied", "Gave figures only",
                                    "Dorset Police", "Some other figures"))
                   for line in subset)


def test_a_set_title_reads_naturally_in_running_text(session, campaign):
    note = methods_note(session, campaign, TODAY, subject="Police forces of the South East",
                        authority_ids=ids_of(session, "kent", "surrey", "sussex", "thames-valley"))
    assert note[0] == ("This note covers the 4 police forces of the South East; the campaign asked "
                       "7 forces in all.")
    # A subject already written for running text (as release lines name a subset) is kept.
    again = methods_note(session, campaign, TODAY, subject="the 4 police forces of the South East",
                         authority_ids=ids_of(session, "kent", "surrey", "sussex", "thames-valley"))
    assert again[0] == note[0]


def test_the_note_takes_as_many_queries_for_seven_forces_as_for_one(session, campaign, app):
    engine = app.extensions["foitrack.db"].engine
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        session.expire_all()
        methods_note(session, campaign, TODAY, authority_ids=ids_of(session, "kent"))
        one = len(statements)
        statements.clear()
        session.expire_all()
        methods_note(session, campaign, TODAY, authority_ids=ids_of(session, *(
            "kent", "surrey", "sussex", "thames-valley", "dorset", "gwent", "wiltshire")))
        seven = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert one == seven <= 20


def test_with_nothing_to_look_into_the_note_says_no_findings_are_open(session, campaign):
    assert "No consistency findings are open." in methods_note(session, campaign, TODAY)


def test_open_findings_are_listed_and_explained_ones_are_not_counted_as_open(session, campaign):
    # Thames Valley refused, yet figures were entered for it, one of them a jump from 12 to 40.
    thames_valley = requests.get_request(session, "grooming-south", "thames-valley")
    figures.save_figures(session, TEST_ACTOR, thames_valley, [
        figures.Entry("offences", "2017-18", None, None, "12", source="letter"),
        figures.Entry("offences", "2018-19", None, None, "40", source="letter")])
    checks.explain(session, TEST_ACTOR, campaign,
                   "year-on-year-jump|thames-valley|offences|2018-19||",
                   "The force confirmed 40 in its letter.", today=TODAY)
    session.commit()
    note = methods_note(session, campaign, TODAY)
    assert ("2 consistency findings are open (1 more was explained): Thames Valley Police, "
            "offences, 2017/18: 1 figure (total) though the response was 'refused'; Thames Valley "
            "Police, offences, 2018/19: 1 figure (total) though the response was 'refused'.") in note
    # A subset without Thames Valley has none of its findings.
    subset = methods_note(session, campaign, TODAY, authority_ids=ids_of(session, "kent"))
    assert "No consistency findings are open." in subset


def test_many_findings_are_counted_by_check_and_forces(session):
    """The 2019 fixture campaign has figures but no timelines: 86 findings, too many to list."""
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, (FIXTURES / "grooming-2019.toml").read_text())
    figures.import_csv(session, TEST_ACTOR, campaign,
                       io.BytesIO((FIXTURES / "grooming-2019.csv").read_bytes()))
    session.commit()
    note = methods_note(session, campaign, TODAY)
    assert ("86 consistency findings are open: figures recorded for a request with no response on "
            "its timeline (86, from 43 forces).") in note
    assert "5 forces do not record the communication method." in note
