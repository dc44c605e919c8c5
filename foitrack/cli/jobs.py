"""`foitrack worker`, `foitrack scheduler` and `foitrack jobs`: the background jobs."""

from __future__ import annotations

import json
from typing import Any

import click

from foitrack.cli.context import (
    config,
    needs_current_schema,
    plainly,
    system_actor,
    unit_of_work,
    with_appcontext,
)


def _celery() -> Any:
    from foitrack import broker

    return broker.app_for(config())


def _schedule_file() -> str:
    from pathlib import Path

    folder = Path(config()["INSTANCE_PATH"])
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "celerybeat-schedule")


def _node_name(name: str | None) -> str:
    import socket

    name = name or "foitrack"
    return name if "@" in name else f"{name}@{socket.gethostname()}"


@click.command("worker")
@click.option("--concurrency", "-c", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Jobs run at once (threads: the work waits on mail servers, not the CPU).")
@click.option("--name", "-n", help="This worker's name, unique per machine (foitrack@HOST); a "
                                   "worker restarted under its name takes up the jobs it was "
                                   "running when it stopped.")
@click.option("--beat", is_flag=True, help="Also run the scheduler in this process (one "
                                           "machine; with several, run `foitrack scheduler` "
                                           "once instead).")
@click.option("--loglevel", "-l", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@with_appcontext
@needs_current_schema
def worker_command(concurrency: int, name: str | None, beat: bool, loglevel: str) -> None:
    """Run background jobs: sends, chases, mailbox fetches, digests and large exports.

    Takes jobs from FOITRACK_BROKER_URL (e.g. redis://127.0.0.1:6379/0) or, when that is unset,
    from the embedded queue in the instance folder (one machine only). Run as many workers as
    you like, on as many machines, against one database and one broker.
    """
    from foitrack import broker

    node = _node_name(name)
    # The tasks build their own app from the same FOITRACK_* settings (foitrack.worker.runtime).
    settings = config()
    where = settings.get("BROKER_URL") or f"the embedded queue in {broker.queue_folder(settings)}"
    click.echo(f"foitrack worker {node}: jobs from {where} (Ctrl+C to stop)")
    argv = ["worker", "--pool", "threads", "--concurrency", str(concurrency), "--hostname", node,
            "--loglevel", loglevel, "--queues", settings.get("QUEUE") or "foitrack",
            "--without-mingle", "--without-gossip"]
    if beat:
        argv += ["--beat", "--schedule", _schedule_file()]
    _celery().worker_main(argv)


@click.command("scheduler")
@click.option("--loglevel", "-l", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@with_appcontext
@needs_current_schema
def scheduler_command(loglevel: str) -> None:
    """Ask for the periodic jobs: every minute the campaigns due to be sent (send_on) and jobs
    whose worker died; the mailbox fetch every FOITRACK_FETCH_MINUTES (when FOITRACK_IMAP_HOST
    is set); the overdue digest at FOITRACK_DIGEST_HOUR; chasers too with FOITRACK_AUTO_CHASE.

    Run exactly one, whatever the number of workers: the workers do the jobs.
    """
    click.echo("foitrack scheduler (Ctrl+C to stop)")
    _celery().start(["beat", "--schedule", _schedule_file(), "--loglevel", loglevel])


@click.group("jobs", invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Finished jobs too (the latest 100).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_context
def jobs_group(ctx: click.Context, show_all: bool, fmt: str) -> None:
    """Background jobs: queued and running ones (with --all, finished ones too), with their
    progress. `foitrack jobs cancel ID` stops one."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(jobs_list, show_all=show_all, fmt=fmt)


@with_appcontext
@needs_current_schema
def jobs_list(show_all: bool, fmt: str) -> None:
    from foitrack.services import jobs

    with unit_of_work(plainly) as session:
        rows = [(job, jobs.progress(session, job)) for job in
                jobs.jobs(session, include_finished=show_all)]
        if fmt == "json":
            click.echo(json.dumps([_as_dict(job, progress) for job, progress in rows], indent=2))
            return
        if not rows:
            click.echo("No jobs queued or running." if not show_all else "No jobs.")
            return
        click.echo(f"{'ID':>5}  {'KIND':<7} {'STATE':<9} {'DONE':>9} {'FAILED':>6}  "
                   f"{'CAMPAIGN':<24} {'ASKED BY':<24} ASKED AT")
        for job, progress in rows:
            click.echo(f"{job.id:>5}  {job.kind.value:<7} {job.state.value:<9} "
                       f"{progress.done:>4}/{progress.total:<4} {progress.failed:>6}  "
                       f"{(job.campaign.slug if job.campaign else '-'):<24} "
                       f"{job.created_by[:24]:<24} {job.created_at:%Y-%m-%d %H:%M}")
            if job.error:
                click.echo(f"       error: {job.error}")


def _as_dict(job: Any, progress: Any) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind.value, "state": job.state.value,
            "campaign": job.campaign.slug if job.campaign else None,
            "done": progress.done, "total": progress.total, "failed": progress.failed,
            "left": progress.left, "summary": job.summary or progress.summary(),
            "error": job.error, "created_by": job.created_by,
            "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


@jobs_group.command("cancel")
@click.argument("job_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
@needs_current_schema
def jobs_cancel(job_id: int) -> None:
    """Stop job JOB_ID: at once if it is queued, else before its next message. Messages not yet
    handed to the mail server are never sent; those sent stay sent."""
    from foitrack.services import jobs

    with unit_of_work() as session:
        job = jobs.cancel(session, system_actor(), jobs.get_job(session, job_id))
        state = job.state
    click.echo(f"Job {job_id}: " + ("cancelled." if state.value == "cancelled" else
                                    "will stop before its next message."))
