"""`foitrack jobs`: what is queued, running and done, and `jobs cancel` (issue 21, point 2)."""

from __future__ import annotations

import json

from foitrack.models import JobKind, JobState
from foitrack.services import jobs
from tests.commands import invoke
from tests.factories import TEST_ACTOR, design_for, load_forces, make_campaign


def _campaign(session):
    return make_campaign(session, design_for(["kent", "sussex"]))


def test_jobs_lists_the_unfinished_and_with_all_the_finished(runner, session):
    campaign = _campaign(session)
    waiting = jobs.create(session, TEST_ACTOR, JobKind.send, campaign)
    done = jobs.create(session, TEST_ACTOR, JobKind.digest, finished="nothing to send")
    session.commit()
    listed = invoke(runner, "jobs")
    assert listed.exit_code == 0, listed.output
    assert f"{waiting.id:>5}  send    queued" in listed.output and "grooming-2019" in listed.output
    assert f"{done.id:>5}  digest" not in listed.output
    everything = invoke(runner, "jobs", "--all", "--format", "json")
    rows = {row["id"]: row for row in json.loads(everything.output)}
    assert rows[done.id]["state"] == "done" and rows[done.id]["summary"] == "nothing to send"
    assert rows[waiting.id]["campaign"] == "grooming-2019"
    assert {"id", "kind", "state", "done", "total", "failed", "left"} <= set(rows[waiting.id])


def test_jobs_says_so_when_there_are_none(runner, app):
    assert invoke(runner, "jobs").output == "No jobs queued or running.\n"


def test_jobs_cancel_stops_a_queued_job_and_refuses_a_finished_or_unknown_one(runner, session):
    campaign = _campaign(session)
    job = jobs.create(session, TEST_ACTOR, JobKind.send, campaign)
    session.commit()
    result = invoke(runner, "jobs", "cancel", str(job.id))
    assert (result.exit_code, result.output) == (0, f"Job {job.id}: cancelled.\n")
    session.expire_all()
    assert jobs.get_job(session, job.id).state is JobState.cancelled
    again = invoke(runner, "jobs", "cancel", str(job.id))
    assert again.exit_code == 1 and "has already finished (cancelled)" in again.output
    missing = invoke(runner, "jobs", "cancel", "424242")
    assert missing.exit_code == 1 and "no job 424242" in missing.output


def test_a_campaign_is_scheduled_from_its_file_the_command_line_and_cleared(runner, session,
                                                                             tmp_path):
    load_forces(session)
    source = tmp_path / "campaign.toml"
    source.write_text(design_for(["kent"], settings="send_on = 2026-12-10"))
    assert invoke(runner, "campaigns", "create", "--from", str(source)).exit_code == 0
    exported = invoke(runner, "campaigns", "export", "grooming-2019").output
    assert "send_on = 2026-12-10" in exported  # round-trips with the file
    moved = invoke(runner, "campaigns", "schedule", "grooming-2019", "2026-12-11")
    assert moved.output == "grooming-2019 will be emailed on 2026-12-11.\n"
    from foitrack.services.campaigns import get_campaign

    session.expire_all()
    assert get_campaign(session, "grooming-2019").send_on.isoformat() == "2026-12-11"
    cleared = invoke(runner, "campaigns", "schedule", "grooming-2019", "--clear")
    assert cleared.exit_code == 0
    session.expire_all()
    assert get_campaign(session, "grooming-2019").send_on is None
    bad = tmp_path / "bad.toml"
    bad.write_text(design_for(slug="x", settings='send_on = "soon"'))
    refused = invoke(runner, "campaigns", "create", "--from", str(bad))
    assert refused.exit_code == 1 and "send_on: must be a date like 2019-10-01" in refused.output
