"""`foitrack campaigns`: one question sent to many authorities."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from foitrack.cli.context import (
    clock_settings,
    iso_date,
    needs_current_schema,
    plainly,
    system_actor,
    today,
    unit_of_work,
    with_appcontext,
)


@click.group("campaigns")
def campaigns_group() -> None:
    """Campaigns: one question sent to many authorities."""


@campaigns_group.command("create")
@click.option("--from", "from_file", type=click.File("r", encoding="utf-8"),
              help="A campaign file (TOML) with the campaign and its data design.")
@click.option("--title", help="The campaign's title.")
@click.option("--slug", help="Short name for URLs and commands (default: from the title).")
@click.option("--text-file", type=click.File("r", encoding="utf-8"),
              help="The request text (a template: {{ authority.name }}, {{ salutation }}).")
@click.option("--subject", help="Email subject (default: 'Freedom of Information request: TITLE').")
@click.option("--set", "set_slug", help="Send to this set, e.g. england-wales.")
@click.option("--authorities", help="Or to these authorities: slugs or codes, comma-separated.")
@click.option("--owner", help="Email of the owning user.")
@click.option("--embargo-until", callback=iso_date, help="Embargo date (YYYY-MM-DD).")
@click.option("--repeat-of", help="Slug of an earlier campaign this one repeats: the same "
              "targets and design, its periods and the years in its wording moved on by its "
              "cadence (12 months unless set).")
@click.option("--keep-wording", is_flag=True,
              help="With --repeat-of: keep the earlier wording as it was (no years moved).")
@click.option("--send-on", callback=iso_date,
              help="With --repeat-of: email the request on this day (YYYY-MM-DD), by the "
                   "scheduler or `foitrack mail send --due`.")
@with_appcontext
@needs_current_schema
def campaigns_create(from_file: Any, title: str | None, slug: str | None, text_file: Any,
                     subject: str | None, set_slug: str | None, authorities: str | None,
                     owner: str | None, embargo_until: dt.date | None,
                     repeat_of: str | None, keep_wording: bool, send_on: dt.date | None) -> None:
    """Create a draft campaign with one request per authority.

    Either from a campaign file (--from), or from options: --title with --set or --authorities
    and --text-file, or --title with --repeat-of. A repeat prints the periods moved on and the
    changes made to the wording (a diff); --text-file gives the wording instead.
    """
    from foitrack.services import campaigns, design
    from foitrack.services.users import find_by_email

    if (keep_wording or send_on) and not repeat_of:
        raise click.UsageError("--keep-wording and --send-on go with --repeat-of")
    if keep_wording and text_file is not None:
        raise click.UsageError("give --keep-wording or --text-file, not both")
    report: list[str] = []
    with unit_of_work() as session:
        owner_user = None
        if owner:
            owner_user = find_by_email(session, owner)
            if owner_user is None:
                raise click.ClickException(f"no user {owner!r}")
        if from_file is not None:
            campaign = design.create_from_file(session, system_actor(), from_file.read(),
                                               owner=owner_user)
        elif not title:
            raise click.ClickException("give --from FILE.toml, or --title")
        elif repeat_of:
            source = campaigns.get_campaign(session, repeat_of)
            proposal = campaigns.propose_repeat(source)
            wording = (source.current_version.request_text if keep_wording
                       else text_file.read() if text_file is not None else None)
            campaign = campaigns.repeat_campaign(
                session, system_actor(), source, title=title, slug=slug, owner=owner_user,
                today=today(), request_text=wording, send_on=send_on,
            )
            report = _repeat_report(source, proposal, campaign)
        else:
            if text_file is None:
                raise click.ClickException("give --text-file with the request text")
            campaign = campaigns.create_campaign(
                session, system_actor(), title=title, slug=slug,
                request_text=text_file.read(), subject=subject, set_slug=set_slug,
                authority_keys=(authorities or "").split(",") if authorities else (),
                owner=owner_user, embargo_until=embargo_until,
            )
        created = (f"Created campaign {campaign.slug}: {len(campaign.requests)} requests, "
                   f"not yet sent.")
    click.echo(created)
    for line in report:
        click.echo(line)


def _repeat_report(source: Any, proposal: Any, campaign: Any) -> list[str]:
    """What a repeat moved on, for the researcher to check: periods, the wording's diff, and
    what was left as written."""
    from foitrack.domain.roll_forward import wording_diff

    lines = []
    if proposal.rolled is not None:
        lines += [f"Period {p.old_label} ({p.old_key}, {p.old_start} to {p.old_end}) -> "
                  f"{p.label} ({p.key}, {p.start} to {p.end})" for p in proposal.rolled.periods]
    diff = wording_diff(source.current_version.request_text,
                        campaign.current_version.request_text)
    if diff:
        lines += ["The wording, changed from last time's:", *diff.splitlines()]
    elif proposal.rolled is not None:
        lines.append("The wording is as last time's.")
    lines += [f"Left as written: {line}" for line in proposal.unmoved]
    if campaign.send_on:
        lines.append(f"It will be emailed on {campaign.send_on.isoformat()}.")
    return lines


@campaigns_group.command("schedule")
@click.argument("campaign")
@click.argument("day", required=False, callback=iso_date)
@click.option("--clear", is_flag=True, help="Send it by hand after all: no day.")
@with_appcontext
@needs_current_schema
def campaigns_schedule(campaign: str, day: dt.date | None, clear: bool) -> None:
    """Have CAMPAIGN's request emailed on DAY (YYYY-MM-DD) by the scheduler (`foitrack
    scheduler`, or the worker `foitrack serve` starts; else `foitrack mail send --due` from
    cron), to every authority not yet sent to. Its owner is reminded 5 working days before."""
    from foitrack.services import campaigns as service
    from foitrack.services import membership

    if (day is None) == (not clear):
        raise click.UsageError("give a DAY, or --clear")
    with unit_of_work() as session:
        found = service.get_campaign(session, campaign)
        service.update_campaign(session, system_actor(), found, {"send_on": day},
                                by=membership.OPERATOR)
    click.echo(f"{campaign} will be emailed on {day.isoformat()}." if day else
               f"{campaign} is no longer scheduled: send it with `foitrack mail send`.")


@campaigns_group.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write the campaign file (default: standard output).")
@with_appcontext
@needs_current_schema
def campaigns_export(slug: str, output: Any) -> None:
    """Write campaign SLUG as a campaign file (TOML): `campaigns create --from` reads it back."""
    from foitrack.services import campaigns, design

    with unit_of_work(plainly) as session:
        text = design.campaign_file(session, campaigns.get_campaign(session, slug))
    output.write(text)


@campaigns_group.command("members")
@click.argument("slug")
@click.option("--add", "add", multiple=True, metavar="EMAIL",
              help="Let this account see the campaign while it is under embargo (repeatable).")
@click.option("--remove", "remove", multiple=True, metavar="EMAIL",
              help="Take this account out of the campaign's members (repeatable).")
@with_appcontext
@needs_current_schema
def campaigns_members(slug: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """List campaign SLUG's members, after adding and removing any given; all or nothing."""
    from foitrack.domain.email_addresses import email_key
    from foitrack.errors import NotFound
    from foitrack.services import campaigns, membership
    from foitrack.services.users import find_by_email

    actor = system_actor()
    with unit_of_work() as session:
        campaign = campaigns.get_campaign(session, slug)
        for email in add:
            membership.add_member(session, actor, membership.OPERATOR, campaign, email)
        for email in remove:
            user = find_by_email(session, email)
            if user is None:
                raise NotFound(f"no account with the address {email_key(email)!r}")
            membership.remove_member(session, actor, membership.OPERATOR, campaign, user.id)
        owner = campaign.owner.email if campaign.owner else "nobody"
        lines = [f"owner: {owner}"] + [
            f"member: {member.user.email} ({member.user.role.value})"
            for member in membership.members(session, campaign)
        ]
    for line in lines:
        click.echo(line)


@campaigns_group.command("list")
@with_appcontext
@needs_current_schema
def campaigns_list() -> None:
    """List campaigns with their progress."""
    from foitrack.services import campaigns
    from foitrack.services.requests import campaign_progress

    with unit_of_work(plainly) as session:
        found = campaigns.list_campaigns(session)
        progress = campaign_progress(session, found, today(), clock_settings())
        click.echo(f"{'SLUG':<28} {'STATUS':<7} {'REQ':>4} {'SENT':>4} {'ANS':>4} {'LATE':>4}  TITLE")
        for campaign in found:
            p = progress[campaign.id]
            click.echo(f"{campaign.slug:<28} {campaign.status.value:<7} {p.total:>4} {p.sent:>4} "
                       f"{p.answered:>4} {p.overdue:>4}  {campaign.title}")
