"""`foitrack partners`: private links that show an embargoed release to named newsrooms
before its embargo (foitrack.services.partners): made, listed, revoked, and their access log.

A group of its own rather than `foitrack publish partners`: `foitrack publish CAMPAIGN` takes
the campaign as its first argument, so a subcommand there would shadow a campaign of that name.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from foitrack.cli.context import (
    config,
    needs_current_schema,
    plainly,
    refused_naming,
    system_actor,
    unit_of_work,
    with_appcontext,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from foitrack.models import PublishedRelease

# The service's field names as this command's options, so a refusal names what to fix.
OPTIONS = {"name": "--name", "email": "--email"}

version_option = click.option(
    "--version", "version", type=click.IntRange(min=1),
    help="The release's version number (default: the campaign's latest).")


@click.group("partners")
def partners_group() -> None:
    """Partners' private links to an embargoed release: add, list, revoke, and the log of what
    each opened."""


def _now() -> dt.datetime:
    """Now in UTC, or the app's fixed NOW (as the portal reads it)."""
    fixed: dt.datetime | None = config().get("NOW")
    return fixed if fixed is not None else dt.datetime.now(dt.UTC)


def _release(session: Session, slug: str, version: int | None) -> PublishedRelease:
    from foitrack.errors import NotFound
    from foitrack.services import campaigns, publishing

    campaign = campaigns.get_campaign(session, slug)
    if version is not None:
        return publishing.get_release(session, campaign, version)
    latest = publishing.latest(session, campaign)
    if latest is None:
        raise NotFound(f"{campaign.slug} has no published release")
    return latest


def _stamp(when: dt.datetime | None) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if when else ""


@partners_group.command("add")
@click.argument("campaign")
@version_option
@click.option("--name", required=True, help='Who the link is for, e.g. "BBC Shared Data Unit".')
@click.option("--email", help="Whom to write to at the partner (kept with the link; nothing "
                              "is sent).")
@with_appcontext
@needs_current_schema
def partners_add(campaign: str, version: int | None, name: str, email: str | None) -> None:
    """Make a private link to CAMPAIGN's embargoed release for one partner, and print it.

    The link alone goes to standard output, once: only its hash is kept, so copy it now.
    Anyone holding it sees the release before its embargo, until it is revoked.
    """
    from foitrack.services import partners

    with unit_of_work(refused_naming(OPTIONS, "no link was made")) as session:
        release = _release(session, campaign, version)
        link, token = partners.add(session, system_actor(), release, name=name, email=email,
                                   now=_now())
        made = (f"Made partner link {link.id} for {link.name} to {release.campaign.slug} "
                f"version {release.version}, embargoed until {_stamp(release.embargo_until)}. "
                "Copy it now: it will not be shown again.")
    url = partners.link_url(config().get("BASE_URL"), token)
    # Only once committed: a link printed for a rolled-back row would never open.
    click.echo(made, err=True)
    click.echo(url)


@partners_group.command("list")
@click.argument("campaign")
@version_option
@with_appcontext
@needs_current_schema
def partners_list(campaign: str, version: int | None) -> None:
    """Every link made to CAMPAIGN's release, revoked ones too, with how often each was used."""
    from foitrack.services import partners

    with unit_of_work(plainly) as session:
        release = _release(session, campaign, version)
        made = partners.links(session, release)
        used: dict[int, int] = {}
        for access in partners.accesses(session, release):
            used[access.partner_id] = used.get(access.partner_id, 0) + 1
        rows = [(str(link.id), link.name, link.email or "", _stamp(link.created_at),
                 link.created_by, str(used.get(link.id, 0)),
                 f"revoked {_stamp(link.revoked_at)} by {link.revoked_by}"
                 if link.revoked_at else "open") for link in made]
        heading = f"{release.campaign.slug} version {release.version}"
        session.rollback()
    if not rows:
        click.echo(f"No partner links to {heading}.")
        return
    click.echo("\t".join(("id", "name", "email", "created", "by", "opened", "state")))
    for row in rows:
        click.echo("\t".join(row))


@partners_group.command("revoke")
@click.argument("link_id", metavar="ID", type=int)
@with_appcontext
@needs_current_schema
def partners_revoke(link_id: int) -> None:
    """Close partner link ID at once: from its next use it is a 404, like an unknown one."""
    from foitrack.services import partners

    with unit_of_work() as session:
        link = partners.revoke(session, system_actor(), link_id, _now())
        said = f"Revoked partner link {link.id} ({link.name})."
    click.echo(said)


@partners_group.command("log")
@click.argument("campaign")
@version_option
@with_appcontext
@needs_current_schema
def partners_log(campaign: str, version: int | None) -> None:
    """Every page and file the links to CAMPAIGN's release served, the first first: when,
    which link, for whom, and the address below the link."""
    from foitrack.services import partners

    with unit_of_work(plainly) as session:
        release = _release(session, campaign, version)
        rows = [(_stamp(a.at), str(a.partner_id), a.partner.name, a.path)
                for a in partners.accesses(session, release)]
        heading = f"{release.campaign.slug} version {release.version}"
        session.rollback()
    if not rows:
        click.echo(f"Nothing opened through a partner link to {heading}.")
        return
    click.echo("\t".join(("at", "link", "name", "path")))
    for row in rows:
        click.echo("\t".join(row))
