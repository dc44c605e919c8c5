"""Consistency checks before publishing: each check fires, and stays quiet on its near miss."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import event, select

from foitrack.errors import Invalid
from foitrack.models import AuditEntry
from foitrack.services import checks, requests
from foitrack.services.design import create_from_file
from foitrack.services.figures import Entry, import_csv
from tests.factories import (
    CHECKS_DESIGN,
    CHECKS_TODAY,
    FIGURES_HEADER,
    MERCIA,
    TEST_ACTOR,
    enter_figures,
    make_campaign,
    respond,
)

TODAY = CHECKS_TODAY


@pytest.fixture
def campaign(session):
    found = make_campaign(session, CHECKS_DESIGN)
    for slug in ("west-mercia", "sussex"):
        respond(session, "checks", slug)
    return found


def found(session, campaign, check=None):
    return [f for f in checks.findings(session, campaign, today=TODAY)
            if check is None or f.check == check]



# ---- a breakdown against its total --------------------------------------------------------

def test_categories_adding_up_to_more_than_the_total_are_found(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "10"),
                  (MERCIA, "2018-19", "age", "Under 13", "6"), (MERCIA, "2018-19", "age", "13 and over", "5"))
    [finding] = found(session, campaign)
    assert (finding.authority, finding.authority_code, finding.measure, finding.period,
            finding.dimension, finding.category, finding.check) == (
        "west-mercia", MERCIA, "offences", "2018-19", "age", None, "categories-exceed-total")
    # The not-recorded category was not given, so the categories could be more still.
    assert finding.detail == "the categories add up to at least 11, more than the total of 10"
    assert finding.key == "categories-exceed-total|west-mercia|offences|2018-19|age|"
    assert finding.cell == "offences, 2018/19, Victim age"
    assert finding.is_open and finding.explanation is None


def test_the_not_recorded_category_counts_towards_the_total(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "10"),
                  (MERCIA, "2018-19", "age", "Under 13", "6"), (MERCIA, "2018-19", "age", "13 and over", "4"),
                  (MERCIA, "2018-19", "age", "Not recorded", "1"))
    assert [f.detail for f in found(session, campaign)] == [
        "the categories add up to 11, more than the total of 10"]


def test_an_overlapping_dimension_is_never_checked_against_the_total(session, campaign):
    # 133 instances for 124 offences: one offence may involve Instagram and Snapchat.
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "124"),
                  (MERCIA, "2018-19", "platform", "Instagram", "70"),
                  (MERCIA, "2018-19", "platform", "Snapchat", "60"),
                  (MERCIA, "2018-19", "platform", "Not recorded", "3"))
    assert found(session, campaign) == []


def test_a_suppressed_category_counts_at_the_least_it_could_be(session, campaign):
    # <5 is 0 to 4: with 0 the categories make exactly the total, so nothing is wrong for sure.
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "10"),
                  (MERCIA, "2018-19", "age", "Under 13", "<5"),
                  (MERCIA, "2018-19", "age", "13 and over", "9"),
                  (MERCIA, "2018-19", "age", "Not recorded", "1"))
    assert found(session, campaign) == []


def test_a_suppressed_total_counts_at_the_most_it_could_be(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "<5"),
                  (MERCIA, "2018-19", "age", "Under 13", "4"))
    assert found(session, campaign) == []
    enter_figures(session, campaign, (MERCIA, "2018-19", "age", "13 and over", "1"))
    assert [f.detail for f in found(session, campaign)] == [
        "the categories add up to at least 5, more than the total of at most 4 (<5)"]


def test_exact_categories_adding_up_to_less_than_the_total_are_found(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "20"),
                  (MERCIA, "2018-19", "age", "Under 13", "5"),
                  (MERCIA, "2018-19", "age", "13 and over", "10"),
                  (MERCIA, "2018-19", "age", "Not recorded", "3"))
    [finding] = found(session, campaign)
    assert (finding.check, finding.detail) == (
        "categories-differ-from-total", "the categories add up to 18, not the total of 20")


def test_fewer_categories_than_the_total_with_one_suppressed_is_no_finding(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "20"),
                  (MERCIA, "2018-19", "age", "Under 13", "<5"),
                  (MERCIA, "2018-19", "age", "13 and over", "10"),
                  (MERCIA, "2018-19", "age", "Not recorded", "3"))
    assert found(session, campaign) == []


def test_fewer_categories_than_the_total_with_one_missing_is_no_finding(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "20"),
                  (MERCIA, "2018-19", "age", "Under 13", "5"),
                  (MERCIA, "2018-19", "age", "13 and over", "10"))
    assert found(session, campaign) == []


# ---- year on year -------------------------------------------------------------------------

def test_a_jump_beyond_three_times_is_found(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", "8"), (MERCIA, "2018-19", "", "", "31"))
    [finding] = found(session, campaign)
    assert (finding.check, finding.period, finding.dimension, finding.detail) == (
        "year-on-year-jump", "2018-19", None, "check: 8 -> 31 (2017/18 to 2018/19)")
    assert finding.key == "year-on-year-jump|west-mercia|offences|2018-19||"


@pytest.mark.parametrize(("before", "after"), [("0", "12"), ("40", "13"), ("100", "5")])
def test_a_jump_either_way_and_from_none_is_found(session, campaign, before, after):
    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", before), (MERCIA, "2018-19", "", "", after))
    assert [f.detail for f in found(session, campaign, "year-on-year-jump")] == [
        f"check: {before} -> {after} (2017/18 to 2018/19)"]


@pytest.mark.parametrize(("before", "after"), [("8", "24"), ("2", "9"), ("0", "9"), ("39", "13")])
def test_three_times_or_less_or_a_base_under_10_is_no_jump(session, campaign, before, after):
    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", before), (MERCIA, "2018-19", "", "", after))
    assert found(session, campaign) == []


def test_a_quarter_is_not_compared_with_a_year(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "120"), (MERCIA, "q1-2019", "", "", "30"))
    assert found(session, campaign) == []


def test_a_jump_in_a_category_is_found_and_a_suppressed_figure_makes_none(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2017-18", "platform", "Instagram", "3"),
                  (MERCIA, "2018-19", "platform", "Instagram", "30"),
                  (MERCIA, "2017-18", "platform", "Snapchat", "<5"),
                  (MERCIA, "2018-19", "platform", "Snapchat", "40"))
    [finding] = found(session, campaign)
    assert (finding.check, finding.dimension, finding.category, finding.detail) == (
        "year-on-year-jump", "platform", "Instagram", "check: 3 -> 30 (2017/18 to 2018/19)")
    assert finding.cell == "offences, 2018/19, Communication method: Instagram"


# ---- the timeline and the source ----------------------------------------------------------

def test_figures_for_a_request_with_no_response_are_found(session, campaign):
    other = create_from_file(session, TEST_ACTOR, CHECKS_DESIGN.replace('slug = "checks"',
                                                                   'slug = "silent"'))
    session.commit()
    sent = requests.get_request(session, "silent", "west-mercia")
    requests.add_event(session, TEST_ACTOR, sent, "sent", dt.date(2019, 4, 1), today=TODAY)
    session.commit()
    import_csv(session, TEST_ACTOR, other, io.BytesIO((
        FIGURES_HEADER + "E23000016,offences,2018-19,,,50,,Phone call\n"
        "E23000016,offences,2018-19,age,Under 13,not provided,,Phone call\n"
        "E23000033,offences,2018-19,,,not provided,,\n").encode()))
    session.commit()
    [unsourced, finding] = checks.findings(session, other, today=TODAY)
    assert (finding.authority, finding.check, finding.period, finding.dimension) == (
        "west-mercia", "no-response", "2018-19", None)
    assert finding.detail == "1 figure (total) but no response on the request's timeline"
    # A "not provided" alone is what a request with no reply has: not a finding of its own.
    assert (unsourced.authority, unsourced.check) == ("sussex", "no-source")


def test_figures_with_no_source_are_found(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "10"),
                  (MERCIA, "2018-19", "age", "Under 13", "3"), source="")
    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", "10"))
    [finding] = found(session, campaign)
    assert (finding.check, finding.period, finding.detail) == (
        "no-source", "2018-19", "2 figures with no source: total, Under 13 (Victim age)")


def test_a_source_file_is_a_source(session, campaign):
    from foitrack.models import Figure, StoredFile

    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "10"), source="")
    figure = session.scalar(select(Figure))
    figure.source_file = StoredFile(sha256="0" * 64, filename="reply.xlsx", size=1,
                                    content_type="application/octet-stream", created_by="tests")
    session.commit()
    assert found(session, campaign) == []


def test_figures_from_a_full_refusal_are_found(session, campaign):
    other = create_from_file(session, TEST_ACTOR, CHECKS_DESIGN.replace('slug = "checks"',
                                                                   'slug = "refused"'))
    session.commit()
    for slug, outcome, exemptions in (("west-mercia", "refused", "s.12"),
                                      ("sussex", "not_held", "")):
        request = requests.get_request(session, "refused", slug)
        requests.add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 4, 1), today=TODAY)
        requests.add_event(session, TEST_ACTOR, request, "response", dt.date(2019, 4, 20),
                           today=TODAY, outcome=outcome, exemptions=exemptions)
    session.commit()
    import_csv(session, TEST_ACTOR, other, io.BytesIO((
        FIGURES_HEADER + "E23000016,offences,2018-19,,,50,,Reply\n"
        "E23000016,offences,2018-19,age,Under 13,withheld s.40(2),,Reply\n"
        "E23000033,offences,2018-19,,,<5,,Reply\n").encode()))
    session.commit()
    [sussex, mercia] = checks.findings(session, other, today=TODAY)
    assert (sussex.check, sussex.detail) == (
        "not-held-with-figures", "1 figure (total) though the response was 'not held'")
    # The withheld figure is what a refusal gives: only the number is named.
    assert (mercia.check, mercia.detail) == (
        "refused-with-figures", "1 figure (total) though the response was 'refused'")


def test_a_refusal_overturned_on_review_may_have_figures(session, campaign):
    other = create_from_file(session, TEST_ACTOR, CHECKS_DESIGN.replace('slug = "checks"',
                                                                   'slug = "reviewed"'))
    session.commit()
    request = requests.get_request(session, "reviewed", "west-mercia")
    for kind, on, kw in (("sent", dt.date(2019, 4, 1), {}),
                         ("response", dt.date(2019, 4, 20), {"outcome": "ncnd", "exemptions": "s.30"}),
                         ("internal_review_requested", dt.date(2019, 4, 25), {}),
                         ("internal_review_outcome", dt.date(2019, 5, 20), {"outcome": "overturned"})):
        requests.add_event(session, TEST_ACTOR, request, kind, on, today=TODAY, **kw)
    session.commit()
    import_csv(session, TEST_ACTOR, other, io.BytesIO(
        (FIGURES_HEADER + "E23000016,offences,2018-19,,,50,,Review reply\n").encode()))
    session.commit()
    assert checks.findings(session, other, today=TODAY) == []


# ---- the listing, explanations and previews ----------------------------------------------

def test_findings_are_listed_by_authority_then_measure_period_and_check(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", "8"), (MERCIA, "2018-19", "", "", "31"),
                  ("E23000033", "2018-19", "", "", "5"), ("E23000033", "2018-19", "age", "Under 13", "6"))
    enter_figures(session, campaign, (MERCIA, "2017-18", "age", "Under 13", "1"), source="")
    listed = [(f.authority, f.period, f.check) for f in found(session, campaign)]
    assert listed == [("sussex", "2018-19", "categories-exceed-total"),
                      ("west-mercia", "2017-18", "no-source"),
                      ("west-mercia", "2018-19", "year-on-year-jump")]
    only = checks.findings(session, campaign, [requests.get_request(session, "checks", "sussex")
                                               .authority_id], today=TODAY)
    assert [f.authority for f in only] == ["sussex"]


def test_an_explained_finding_stays_listed_but_is_not_open(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", "8"), (MERCIA, "2018-19", "", "", "31"))
    [finding] = found(session, campaign)
    checks.explain(session, TEST_ACTOR, campaign, finding.key,
                   "  The force confirmed 31 in its letter of 2 May.  ", today=TODAY)
    session.commit()
    [again] = found(session, campaign)
    assert (again.explanation, again.explained_by, again.is_open) == (
        "The force confirmed 31 in its letter of 2 May.", "tests", False)
    assert checks.open_findings(session, campaign, today=TODAY) == []
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "explain_finding"))
    assert (entry.entity_type, entry.after["key"]) == ("campaign", finding.key)
    checks.unexplain(session, TEST_ACTOR, campaign, finding.key)
    session.commit()
    assert [f.key for f in checks.open_findings(session, campaign, today=TODAY)] == [finding.key]
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "unexplain_finding"))


def test_an_explanation_follows_the_finding_through_re_entry_and_lapses_with_it(session,
                                                                                campaign):
    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", "8"), (MERCIA, "2018-19", "", "", "31"))
    checks.explain(session, TEST_ACTOR, campaign, found(session, campaign)[0].key, "Confirmed",
                   today=TODAY)
    session.commit()
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "32"))
    assert [(f.detail, f.explanation) for f in found(session, campaign)] == [
        ("check: 8 -> 32 (2017/18 to 2018/19)", "Confirmed")]
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "12"))
    assert found(session, campaign) == []


def test_explaining_refuses_an_unknown_key_and_an_empty_note(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", "8"), (MERCIA, "2018-19", "", "", "31"))
    key = found(session, campaign)[0].key
    with pytest.raises(Invalid) as caught:
        checks.explain(session, TEST_ACTOR, campaign, key.replace("2018-19", "2017-18"), "x",
                       today=TODAY)
    assert [p.field for p in caught.value.problems] == ["key"]
    with pytest.raises(Invalid) as caught:
        checks.explain(session, TEST_ACTOR, campaign, key, "   ", today=TODAY)
    assert [p.field for p in caught.value.problems] == ["note"]
    with pytest.raises(Invalid) as caught:
        checks.explain(session, TEST_ACTOR, campaign, "nonsense", "", today=TODAY)
    assert [p.field for p in caught.value.problems] == ["key", "note"]
    with pytest.raises(Invalid) as caught:
        checks.unexplain(session, TEST_ACTOR, campaign, key)
    assert caught.value.problems[0].field == "key"


def test_warnings_for_entries_not_yet_saved(session, campaign):
    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", "8"), (MERCIA, "2018-19", "", "", "20"))
    request = requests.get_request(session, "checks", "west-mercia")
    assert checks.warnings_for(session, campaign, [request.id], today=TODAY) == []
    entries = {request.id: [Entry("offences", "2018-19", None, None, "31", cell="reply.xlsx E14")]}
    [warning] = checks.warnings_for(session, campaign, [request.id], entries=entries, today=TODAY)
    assert warning.message == ("West Mercia Police, offences, 2018/19, total: check: 8 -> 31 "
                               "(2017/18 to 2018/19) (year-on-year-jump)")
    assert found(session, campaign) == []  # nothing was saved
    cleared = {request.id: [Entry("offences", "2017-18", None, None, "", cell="c")]}
    assert checks.warnings_for(session, campaign, [request.id], entries=cleared, today=TODAY) == []


def test_the_checks_run_a_fixed_number_of_queries(app, session, campaign):
    engine = app.extensions["foitrack.db"].engine
    statements: list[str] = []

    def counted() -> int:
        statements.clear()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            with app.extensions["foitrack.db"].session() as fresh:
                from foitrack.services.campaigns import get_campaign

                checks.findings(fresh, get_campaign(fresh, "checks"), today=TODAY)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", "8"), (MERCIA, "2018-19", "", "", "31"))
    few = counted()
    enter_figures(session, campaign, *((who, period, dimension, category, "7")
                               for who in (MERCIA, "E23000033")
                               for period in ("2017-18", "2018-19", "q1-2019")
                               for dimension, category in (("age", "Under 13"),
                                                           ("platform", "Instagram"),
                                                           ("platform", "Snapchat"))))
    assert counted() == few
