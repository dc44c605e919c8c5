"""After the first reply (issue 17, "Wrong today"), through the services: the tracker export,
the methods note and the coverage table follow the decision that stands, and a reply not yet
read is not chased."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from foitrack.services import aggregate, datasets, figures, mail, requests
from foitrack.services.design import create_from_file
from foitrack.services.methods import methods_note
from tests.factories import EXAMPLE_DESIGN, FIGURES_HEADER, TEST_ACTOR, load_forces

D = dt.date.fromisoformat
TODAY = D("2019-12-31")
FORCES = ["metropolitan", "kent", "surrey", "sussex"]


@pytest.fixture
def campaign(session):
    """Four forces asked on 1 April 2019 (due 30 April). Kent gave its figure; Surrey refused
    under s.12; the Met refused under s.31, and its internal review partly overturned that;
    Sussex never replied."""
    load_forces(session)
    found = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', f"authorities = {FORCES!r}".replace("'", '"')))
    figures.import_csv(session, TEST_ACTOR, found, io.BytesIO(
        (FIGURES_HEADER + "kent,offences,2018-19,,,50,,letter\n").encode()))
    for slug in FORCES:
        add(session, slug, "sent", "2019-04-01")
    add(session, "kent", "response", "2019-04-25", outcome="provided")
    add(session, "surrey", "response", "2019-04-26", outcome="refused", exemptions="s.12")
    add(session, "metropolitan", "response", "2019-04-29", outcome="refused", exemptions="s.31")
    add(session, "metropolitan", "internal_review_requested", "2019-05-07")
    add(session, "metropolitan", "internal_review_outcome", "2019-05-28",
        outcome="partly_overturned")
    session.commit()
    return found


def add(session, slug, kind, on, **kw):
    request = requests.get_request(session, "grooming-2019", slug)
    return requests.add_event(session, TEST_ACTOR, request, kind, D(on), today=TODAY, **kw)


def test_the_tracker_export_gives_the_outcome_the_review_left_and_keeps_the_first(session,
                                                                                  campaign):
    """FOIA s.45 Code of Practice: the review's decision replaces the response's; the tracker's
    outcome is what stands, first_outcome and outcome_from the history (columns added last)."""
    row = datasets.tracker_row(requests.get_request(session, "grooming-2019", "metropolitan"),
                               TODAY)
    assert (row["outcome"], row["exemptions"]) == ("part_provided", "s.31")
    assert (row["first_outcome"], row["outcome_from"]) == ("refused", "internal_review_outcome")
    names = [column.name for column in datasets.TRACKER_COLUMNS]
    assert names[13:15] == ["first_outcome", "outcome_from"]  # later columns follow them
    assert names.index("last_chased") == 12  # the columns scripts rely on stay where they were


def test_the_methods_note_no_longer_calls_a_partly_overturned_refusal_refused(session, campaign):
    """FOIA s.45 Code of Practice: after the review the Met refused only in part."""
    note = methods_note(session, campaign, TODAY)
    assert "Refused: Surrey Police (s.12)." in note
    assert ("Refused in part: Metropolitan Police Service (s.31; refused at first, partly "
            "overturned on internal review).") in note


def test_a_refusal_wholly_overturned_is_said_once_not_as_a_refusal(session, campaign):
    """FOIA s.45 Code of Practice: a review overturning the refusal leaves none standing."""
    add(session, "surrey", "internal_review_requested", "2019-05-02")
    add(session, "surrey", "internal_review_outcome", "2019-05-30", outcome="overturned")
    session.commit()
    note = methods_note(session, campaign, TODAY)
    assert not any(line.startswith("Refused: ") for line in note)
    assert "Refusal overturned on internal review: Surrey Police." in note


def test_the_coverage_table_counts_a_refusal_as_a_reply(session, campaign):
    """FOIA s.17: a refusal notice is a reply. Of the three forces with no figure, only Sussex
    did not reply; Surrey refused (the Met's refusal stands only in part)."""
    result = aggregate.build(session, campaign)
    row = result.row("offences", "2018-19")
    assert (row.asked, row.with_figure, row.no_figure) == (4, 1, 3)
    assert (row.no_reply, row.refused) == (1, 1)
    coverage = datasets.campaign_dataset(session, campaign, TODAY).table("coverage")
    total, = coverage.rows()
    assert (total["no_reply"], total["refused"]) == (1, 1)


def complain(session, outcome, **kw):
    """Surrey's s.12 refusal taken to the ICO, and the decision notice."""
    add(session, "surrey", "ico_complaint", "2019-05-10")
    add(session, "surrey", "ico_decision", "2019-09-02", outcome=outcome, **kw)
    session.commit()


def test_a_complaint_partly_upheld_with_no_steps_leaves_the_refusal_counted(session, campaign):
    """FOIA s.50(4): a decision notice specifies the steps to be taken and the period for
    taking them. Recording none (a complaint partly upheld for a late reply, the exemption
    upheld), it disclosed nothing: Surrey still refused, in the tracker and the count."""
    complain(session, "partly_upheld")
    row = datasets.tracker_row(requests.get_request(session, "grooming-2019", "surrey"), TODAY)
    assert (row["outcome"], row["outcome_from"]) == ("refused", "ico_decision")
    assert aggregate.build(session, campaign).row("offences", "2018-19").refused == 1


def test_a_complaint_partly_upheld_with_steps_leaves_part_provided(session, campaign):
    """FOIA s.50(4): a decision notice ordering steps orders the authority to disclose, so the
    refusal stands only in part, and is no longer counted as refused."""
    complain(session, "partly_upheld", steps_ordered="Disclose the 2018-19 figure")
    row = datasets.tracker_row(requests.get_request(session, "grooming-2019", "surrey"), TODAY)
    assert (row["outcome"], row["outcome_from"]) == ("part_provided", "ico_decision")
    assert aggregate.build(session, campaign).row("offences", "2018-19").refused == 0


def test_the_methods_note_tells_a_complaint_upheld_without_steps_as_no_overturning(session,
                                                                                  campaign):
    """FOIA s.50(4): a decision notice specifies the steps to be taken; with none recorded the
    refusal was not overturned, and the note says what the Commissioner decided instead."""
    complain(session, "upheld")
    note = methods_note(session, campaign, TODAY)
    assert not any("Refusal overturned" in line for line in note)
    assert ("Refused: Surrey Police (s.12; Commissioner's decision: complaint upheld (no steps "
            "recorded)).") in note


def test_a_reply_not_yet_read_is_not_chased(session, campaign, tmp_path: Path):
    """No Act: a reply filed but not classified may be the answer; FOIA s.10(1) keeps the
    request late by the clock, but it is not chased until someone reads it."""
    late = D("2019-06-10")
    assert [row.authority_slug for row in requests.chase_list(session, late)] == ["sussex"]
    add(session, "sussex", "reply_received", "2019-06-05")
    session.commit()
    assert requests.chase_list(session, late) == []
    sussex = requests.get_request(session, "grooming-2019", "sussex")
    assert requests.state_of(sussex, late).reply_to_read_on == D("2019-06-05")
    settings = mail.MailSettings(mail_from="research@charity.example", smtp_host=None,
                                 smtp_port=0, smtp_starttls=False, throttle_seconds=0,
                                 outbox=tmp_path / "outbox")
    queued, skipped = mail.queue_chasers(session, TEST_ACTOR, settings, late,
                                         request_ids=[sussex.id])
    assert queued == []
    assert skipped == ["Sussex Police (grooming-2019): reply received 2019-06-05: to read"]
