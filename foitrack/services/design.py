"""Campaign files: a campaign and its data design as TOML, read, checked, applied and written.

The format (README, "Campaign files") is what scripts rely on. The design's tables are read
and applied by services.data_design (re-exported here, where callers have always found them);
this module adds the campaign's own settings, which need services.campaigns.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from typing import Any

import tomli_w
from sqlalchemy import select
from sqlalchemy.orm import Session

from foitrack.domain.design import (
    Design,
    DimensionSpec,
    GroupSpec,
    MeasureSpec,
    PeriodGroupSpec,
    PeriodSpec,
)
from foitrack.domain.limits import MAX_NOTE
from foitrack.domain.roll_forward import DEFAULT_CADENCE_MONTHS
from foitrack.errors import Conflict, Invalid, Problem
from foitrack.models import AuditEntry, Campaign, User
from foitrack.services import audit, series
from foitrack.services.campaigns import create_campaign, get_campaign, update_campaign
from foitrack.services.data_design import (
    DEFAULT_NOT_RECORDED,
    DIMENSION_KEYS,
    RELEASE_KEYS,
    RESERVED_PERIOD_KEYS,
    apply_design,
    design_dict,
    parse_design,
    parse_design_text,
    read_text,
)
from foitrack.services.locks import hold_campaign_requests
from foitrack.services.requests import campaign_requests

__all__ = [
    "DEFAULT_NOT_RECORDED", "DIMENSION_KEYS", "RELEASE_KEYS", "RESERVED_PERIOD_KEYS",
    "CampaignFile", "Design", "DesignChanged", "DimensionSpec", "GroupSpec", "MeasureSpec",
    "PeriodGroupSpec", "PeriodSpec", "apply_design", "campaign_file", "create_from_file",
    "design_dict", "design_toml", "last_design_change", "parse_campaign_file", "parse_design",
    "parse_design_text",
    "save_design",
]


@dataclass
class CampaignFile:
    """Everything in a campaign file: the campaign's own fields and its design."""

    slug: str
    title: str
    authorities: str | list[str]
    request_text: str
    subject: str | None
    embargo_until: dt.date | None
    notes: str | None
    repeat_of: str | None
    design: Design
    send_on: dt.date | None = None
    cadence_months: int | None = None  # None: the default, 12 (a yearly campaign)


def parse_campaign_file(text: str) -> CampaignFile:
    """Read a campaign file. :raises Invalid: naming each problem's place in the file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Invalid(f"the file is not valid TOML: {error}") from None
    problems: list[Problem] = []
    known = {"slug", "title", "authorities", "request_text", "subject", "embargo_until", "send_on",
             "notes", "cadence_months",
             "repeat_of", "suppression_threshold", "measures", "periods", "period_groups",
             "dimensions", "groups", "release"}
    for name in sorted(set(data) - known):
        problems.append(Problem(f"unknown setting; known ones are {', '.join(sorted(known))}", name))
    slug = read_text(data, "slug", "", problems, limit=80)
    title = read_text(data, "title", "", problems)
    request_text = read_text(data, "request_text", "", problems, limit=100_000)
    authorities = _authorities(data.get("authorities"), problems)
    embargo, send_on = data.get("embargo_until"), data.get("send_on")
    for name, value in (("embargo_until", embargo), ("send_on", send_on)):
        # A TOML date, not a date and time (nor a string): tomllib's datetime is a date too.
        if value is not None and (not isinstance(value, dt.date) or isinstance(value, dt.datetime)):
            problems.append(Problem("must be a date like 2019-10-01 (no quotes)", name))
    cadence = data.get("cadence_months")
    if cadence is not None and (isinstance(cadence, bool) or not isinstance(cadence, int)
                                or not 1 <= cadence <= 120):
        problems.append(Problem("must be a whole number of months from 1 to 120 (12: yearly)",
                                "cadence_months"))
    design = parse_design(data, problems)
    if problems:
        raise Invalid(problems)
    return CampaignFile(
        slug=slug, title=title, authorities=authorities, request_text=request_text,
        subject=read_text(data, "subject", "", problems, required=False) or None,
        embargo_until=embargo, notes=read_text(data, "notes", "", problems, False, MAX_NOTE) or None,
        repeat_of=read_text(data, "repeat_of", "", problems, required=False, limit=80) or None,
        design=design, send_on=send_on, cadence_months=cadence,
    )


class DesignChanged(Conflict):
    """The design changed since the form being saved was loaded: saving it would undo that."""

    def __init__(self, based_on: int, current: int, change: AuditEntry | None) -> None:
        self.based_on, self.current, self.change = based_on, current, change
        who = f" by {change.actor}" if change is not None else ""
        super().__init__(f"the data design was changed{who} after you opened it")


def last_design_change(session: Session, campaign: Campaign) -> AuditEntry | None:
    """Who last changed the campaign's design, and when (its audit entry)."""
    return session.scalar(select(AuditEntry).where(
        AuditEntry.entity_type == "campaign", AuditEntry.entity_id == str(campaign.id),
        AuditEntry.action == "design").order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1))


def save_design(session: Session, actor: audit.Actor, campaign: Campaign, design: Design,
                based_on: int) -> None:
    """The design page's save: ``design`` replaces the design the page showed, version
    ``based_on``, unless someone changed it since.

    Holds the campaign (its row and its requests, as an import does) before comparing, so that
    of two saves from the same version the second waits and is then refused, and a grid save
    cannot add a figure to a category this save is removing.

    :raises DesignChanged: if the design is no longer at ``based_on``; nothing is changed.
    :raises Conflict: when it would remove a measure, period or category that has figures.
    """
    hold_campaign_requests(session, campaign)
    if session.get_bind().dialect.name != "sqlite":  # SQLite's write lock is held already
        session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    session.expire(campaign)  # read again under the hold: what a colleague saved is seen
    if campaign.design_version != based_on:
        raise DesignChanged(based_on, campaign.design_version, last_design_change(session, campaign))
    apply_design(session, actor, campaign, design)


def _authorities(value: Any, problems: list[Problem]) -> str | list[str]:
    """The campaign's targets as written: a set's name or a list of authority codes."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(a, str) for a in value):
        return value
    problems.append(Problem('must be a set name or a list of authority codes', "authorities"))
    return []


def create_from_file(session: Session, actor: audit.Actor, text: str,
                     owner: User | None = None) -> Campaign:
    """A new campaign and its design from a campaign file. :raises Invalid:"""
    spec = parse_campaign_file(text)
    repeat_of = get_campaign(session, spec.repeat_of) if spec.repeat_of else None
    campaign = create_campaign(
        session, actor, title=spec.title, slug=spec.slug, request_text=spec.request_text,
        subject=spec.subject,
        set_slug=spec.authorities if isinstance(spec.authorities, str) else None,
        authority_keys=[] if isinstance(spec.authorities, str) else spec.authorities, owner=owner,
        embargo_until=spec.embargo_until, notes=spec.notes, repeat_of=repeat_of,
    )
    apply_design(session, actor, campaign, spec.design)
    changes: dict[str, Any] = {}
    if spec.send_on is not None:
        changes["send_on"] = spec.send_on
    if spec.cadence_months is not None:
        changes["cadence_months"] = spec.cadence_months
    if changes:
        update_campaign(session, actor, campaign, changes)
    if repeat_of is not None:
        # A repeat named in the file is a repeat like any other: it joins its source's series.
        series.attach_repeat(session, repeat_of, campaign, actor)
    return campaign


def design_toml(campaign: Campaign) -> str:
    """The design part of the campaign file, as the data design page edits it: the threshold,
    each [[table]] of the design, then [release]."""
    design = design_dict(campaign)
    text = ""
    if "suppression_threshold" in design:
        text += tomli_w.dumps({"suppression_threshold": design["suppression_threshold"]})
    # Written by hand around tomli_w, so each item gets its own [[table]] as in the README
    # (tomli_w inlines short ones); every value is still escaped by tomli_w.
    for section in ("measures", "periods", "period_groups", "dimensions", "groups"):
        for table in design.get(section, []):
            text += f"\n[[{section}]]\n" + tomli_w.dumps(table)
    if "release" in design:
        text += "\n[release]\n" + tomli_w.dumps(design["release"])
    return text


def campaign_file(session: Session, campaign: Campaign, with_repeat_of: bool = True) -> str:
    """The campaign file for ``campaign``: create --from it to make the same campaign again.

    ``with_repeat_of`` False leaves out the campaign it repeats (one hidden from the reader).
    """
    targets = [r.authority for r in campaign_requests(session, campaign)]
    if campaign.target_set and {a.id for a in campaign.target_set.members if a.active} == {
        a.id for a in targets
    }:
        authorities: str | list[str] = campaign.target_set.slug
    else:
        authorities = [a.code or a.slug for a in targets]
    version = campaign.current_version
    data: dict[str, Any] = {"slug": campaign.slug, "title": campaign.title,
                            "authorities": authorities}
    if version.subject != f"Freedom of Information request: {campaign.title}":
        data["subject"] = version.subject
    data["request_text"] = version.request_text
    if campaign.embargo_until:
        data["embargo_until"] = campaign.embargo_until
    if campaign.send_on:
        data["send_on"] = campaign.send_on
    if campaign.notes:
        data["notes"] = campaign.notes
    if campaign.cadence_months and campaign.cadence_months != DEFAULT_CADENCE_MONTHS:
        data["cadence_months"] = campaign.cadence_months
    if campaign.repeat_of and with_repeat_of:
        data["repeat_of"] = campaign.repeat_of.slug
    return tomli_w.dumps(data, multiline_strings=True) + design_toml(campaign)
