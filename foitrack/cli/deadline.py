"""`foitrack deadline`: the due date for a request received on a day, with its working."""

from __future__ import annotations

import datetime as dt

import click

from foitrack.cli.context import iso_date


@click.command("deadline")
@click.argument("date", callback=iso_date)
@click.option("--working-days", default=20, show_default=True, type=click.IntRange(0, 400),
              help="How many working days to count.")
@click.option("--regime", type=click.Choice(["foia", "foisa"]), default="foia", show_default=True,
              help="foia: bank holidays anywhere in the UK; foisa: Scottish ones only.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def deadline(date: dt.date, working_days: int, regime: str, as_json: bool) -> None:
    """The due date for a request received on DATE (YYYY-MM-DD), with its working.

    The first line is the due date; the days not counted follow.
    """
    import json

    from foitrack.domain.clock import Regime, add_working_days, explain_count

    count = add_working_days(date, working_days, Regime(regime))
    if as_json:
        click.echo(json.dumps({
            "received": date.isoformat(),
            "due": count.due.isoformat(),
            "working_days": working_days,
            "regime": regime,
            "day_one": count.day_one.isoformat() if count.day_one else None,
            "skipped": [{"date": s.date.isoformat(), "reason": s.reason} for s in count.skipped],
        }, indent=2))
        return
    click.echo(count.due.isoformat())
    for line in explain_count(count):
        click.echo(line)
