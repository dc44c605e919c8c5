"""Campaign files: a campaign and its data design as TOML, read, checked, applied and written.

The format (README, "Campaign files") is what scripts rely on. Applying a design to a campaign
matches measures, periods, dimensions and groups by key and categories by label; anything that
already has figures is never removed or renamed away silently: that is refused instead.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from typing import Any

import tomli_w
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foitrack.errors import Conflict, Invalid, Problem
from foitrack.models import (
    AuditEntry,
    Campaign,
    Category,
    CategoryGroup,
    Dimension,
    Figure,
    Measure,
    Period,
    PeriodGroup,
    User,
)
from foitrack.models.authority import casefold
from foitrack.services import audit
from foitrack.services.authorities import SLUG_PATTERN
from foitrack.services.campaigns import create_campaign, get_campaign
from foitrack.services.locks import hold_campaign_requests

DEFAULT_NOT_RECORDED = "Not recorded"
RESERVED_PERIOD_KEYS = {"all"}
DIMENSION_KEYS = {"key", "label", "categories", "not_recorded", "overlapping", "unit"}
RELEASE_KEYS = {"min_coverage", "min_base"}


@dataclass
class MeasureSpec:
    key: str
    label: str
    unit: str


@dataclass
class PeriodSpec:
    key: str
    label: str
    start: dt.date
    end: dt.date


@dataclass
class PeriodGroupSpec:
    key: str
    label: str
    periods: list[str]


@dataclass
class DimensionSpec:
    key: str
    label: str
    categories: list[str]
    not_recorded: str
    overlapping: bool = False  # a case may count under several categories
    unit: str = ""  # what its counts are called ("instances"); empty: the measure's unit


@dataclass
class GroupSpec:
    key: str
    label: str
    dimension: str
    categories: list[str]


@dataclass
class Design:
    measures: list[MeasureSpec] = field(default_factory=list)
    periods: list[PeriodSpec] = field(default_factory=list)
    period_groups: list[PeriodGroupSpec] = field(default_factory=list)
    dimensions: list[DimensionSpec] = field(default_factory=list)
    groups: list[GroupSpec] = field(default_factory=list)
    suppression_threshold: int | None = None
    min_coverage: float | None = None  # [release]; None: release.DEFAULT_MIN_COVERAGE
    min_base: int | None = None  # [release]; None: release.DEFAULT_MIN_BASE


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


def _text(data: dict[str, Any], name: str, where: str, problems: list[Problem],
          required: bool = True, limit: int = 300) -> str:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(Problem("is required", f"{where}{name}"))
        return ""
    if not isinstance(value, str):
        problems.append(Problem(f"must be text, not {type(value).__name__}", f"{where}{name}"))
        return ""
    if len(value) > limit:
        problems.append(Problem(f"is longer than {limit} characters", f"{where}{name}"))
    return value.strip()


def _key(data: dict[str, Any], where: str, problems: list[Problem], seen: set[str]) -> str:
    key = _text(data, "key", where, problems, limit=80)
    if not key:
        return ""
    if key and not SLUG_PATTERN.match(key):
        problems.append(Problem(f"{key!r} must be lower-case letters, digits and single hyphens",
                                f"{where}key"))
    elif key in seen:
        problems.append(Problem(f"{key!r} is used twice", f"{where}key"))
    seen.add(key)
    return key


def _table_list(data: dict[str, Any], name: str, problems: list[Problem]) -> list[dict[str, Any]]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        problems.append(Problem(f"must be a list of tables, written [[{name}]]", name))
        return []
    return value


def _labels(data: dict[str, Any], name: str, where: str, problems: list[Problem]) -> list[str]:
    value = data.get(name)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip()
                                                           for v in value):
        problems.append(Problem("must be a list of names, e.g. [\"A\", \"B\"]", f"{where}{name}"))
        return []
    labels = [v.strip() for v in value]
    folded = [casefold(label) for label in labels]
    # Compared without case: imports match categories without case, so "A" and "a" would clash.
    for label in sorted({lab for lab, key in zip(labels, folded, strict=True)
                         if folded.count(key) > 1}):
        problems.append(Problem(f"{label!r} is listed twice", f"{where}{name}"))
    return labels


def parse_design(data: dict[str, Any], problems: list[Problem]) -> Design:
    """The design part of a campaign file, checked; problems are added, naming each place."""
    design = Design()
    seen: set[str] = set()
    for index, item in enumerate(_table_list(data, "measures", problems)):
        where = f"measures[{index + 1}]."
        key, label = _key(item, where, problems, seen), _text(item, "label", where, problems)
        unit = _text(item, "unit", where, problems, required=False, limit=80)
        design.measures.append(MeasureSpec(key, label, unit or (label.split()[0].lower()
                                                                if label else "figures")))
    if not design.measures and not any(p.field == "measures" for p in problems):
        problems.append(Problem("at least one [[measures]] is needed", "measures"))
    seen = set(RESERVED_PERIOD_KEYS)
    for index, item in enumerate(_table_list(data, "periods", problems)):
        where = f"periods[{index + 1}]."
        if item.get("key") in RESERVED_PERIOD_KEYS:
            problems.append(Problem(f"{item['key']!r} is reserved", f"{where}key"))
        key, label = _key(item, where, problems, seen), _text(item, "label", where, problems)
        start, end = item.get("start"), item.get("end")
        dates_ok = True
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                dates_ok = False
                problems.append(Problem("must be a date written like 2018-04-01 (no quotes, "
                                        "no time)", f"{where}{name}"))
        if dates_ok and end < start:
            problems.append(Problem(f"ends ({end}) before it starts ({start})", f"{where}end"))
        elif dates_ok:
            design.periods.append(PeriodSpec(key, label, start, end))
    if not design.periods and not any(p.field and p.field.startswith("periods") for p in problems):
        problems.append(Problem("at least one [[periods]] is needed", "periods"))
    periods = {p.key: p for p in design.periods}
    for index, item in enumerate(_table_list(data, "period_groups", problems)):
        where = f"period_groups[{index + 1}]."
        key, label = _key(item, where, problems, seen), _text(item, "label", where, problems)
        members = _labels(item, "periods", where, problems)
        unknown = [m for m in members if m not in periods]
        if unknown:
            problems.append(Problem(f"no period {', '.join(map(repr, unknown))}", f"{where}periods"))
        chosen = sorted((periods[m] for m in members if m in periods), key=lambda p: p.start)
        for earlier, later in zip(chosen, chosen[1:], strict=False):
            if later.start <= earlier.end:
                problems.append(Problem(f"{earlier.key!r} and {later.key!r} overlap, so adding them "
                                        "would count some figures twice", f"{where}periods"))
        design.period_groups.append(PeriodGroupSpec(key, label, members))
    seen = set()
    for index, item in enumerate(_table_list(data, "dimensions", problems)):
        where = f"dimensions[{index + 1}]."
        key, label = _key(item, where, problems, seen), _text(item, "label", where, problems)
        categories = _labels(item, "categories", where, problems)
        not_recorded = _text(item, "not_recorded", where, problems, required=False, limit=200)
        overlapping = item.get("overlapping", False)
        if not isinstance(overlapping, bool):
            problems.append(Problem("must be true or false (no quotes)", f"{where}overlapping"))
            overlapping = False
        unit = _text(item, "unit", where, problems, required=False, limit=80)
        for name in sorted(set(item) - DIMENSION_KEYS):
            problems.append(Problem("unknown setting; known ones are "
                                    + ", ".join(sorted(DIMENSION_KEYS)), f"{where}{name}"))
        design.dimensions.append(DimensionSpec(key, label, categories,
                                               not_recorded or DEFAULT_NOT_RECORDED,
                                               overlapping, unit))
    dimensions = {d.key: d for d in design.dimensions}
    for index, item in enumerate(_table_list(data, "groups", problems)):
        where = f"groups[{index + 1}]."
        key, label = _key(item, where, problems, seen), _text(item, "label", where, problems)
        dimension = _text(item, "dimension", where, problems, limit=80)
        members = _labels(item, "categories", where, problems)
        if dimension and dimension not in dimensions:
            problems.append(Problem(f"no dimension {dimension!r}", f"{where}dimension"))
        elif dimension:
            spec = dimensions[dimension]
            unknown = [m for m in members if m not in spec.categories]
            if unknown:
                problems.append(Problem(f"{', '.join(map(repr, unknown))} not among the categories of "
                                        f"{dimension!r}", f"{where}categories"))
            if spec.not_recorded in members:
                problems.append(Problem("a group cannot include the not-recorded category",
                                        f"{where}categories"))
            # A group is a set: kept in the dimension's order, however it was listed.
            members = sorted(members, key=lambda m: spec.categories.index(m)
                             if m in spec.categories else len(spec.categories))
        design.groups.append(GroupSpec(key, label, dimension, members))
    threshold = data.get("suppression_threshold")
    if threshold is not None and (not isinstance(threshold, int) or isinstance(threshold, bool)
                                  or not 1 <= threshold <= 1000):
        problems.append(Problem("must be a whole number from 1 to 1000", "suppression_threshold"))
    elif threshold is not None:
        design.suppression_threshold = threshold
    _parse_release(data, design, problems)
    return design


def _parse_release(data: dict[str, Any], design: Design, problems: list[Problem]) -> None:
    """The [release] table: the thresholds below which a national line is not written."""
    release = data.get("release", {})
    if not isinstance(release, dict):
        problems.append(Problem("must be a table, written [release]", "release"))
        return
    for name in sorted(set(release) - RELEASE_KEYS):
        problems.append(Problem(f"unknown setting; known ones are {', '.join(sorted(RELEASE_KEYS))}",
                                f"release.{name}"))
    coverage = release.get("min_coverage")
    if coverage is not None:
        if isinstance(coverage, bool) or not isinstance(coverage, int | float) \
                or not 0 < coverage <= 1:
            problems.append(Problem("must be a fraction above 0 and at most 1, e.g. 0.5",
                                    "release.min_coverage"))
        else:
            design.min_coverage = float(coverage)
    base = release.get("min_base")
    if base is not None:
        if isinstance(base, bool) or not isinstance(base, int) or not 1 <= base <= 1_000_000:
            problems.append(Problem("must be a whole number from 1 to 1000000", "release.min_base"))
        else:
            design.min_base = base


def parse_campaign_file(text: str) -> CampaignFile:
    """Read a campaign file. :raises Invalid: naming each problem's place in the file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Invalid(f"the file is not valid TOML: {error}") from None
    problems: list[Problem] = []
    known = {"slug", "title", "authorities", "request_text", "subject", "embargo_until", "notes",
             "repeat_of", "suppression_threshold", "measures", "periods", "period_groups",
             "dimensions", "groups", "release"}
    for name in sorted(set(data) - known):
        problems.append(Problem(f"unknown setting; known ones are {', '.join(sorted(known))}", name))
    slug = _text(data, "slug", "", problems, limit=80)
    title = _text(data, "title", "", problems)
    request_text = _text(data, "request_text", "", problems, limit=100_000)
    authorities = data.get("authorities")
    if not (isinstance(authorities, str) and authorities.strip()) and not (
        isinstance(authorities, list) and authorities and all(isinstance(a, str) for a in authorities)
    ):
        problems.append(Problem('must be a set name or a list of authority codes', "authorities"))
    embargo = data.get("embargo_until")
    if embargo is not None and not isinstance(embargo, dt.date):
        problems.append(Problem("must be a date like 2019-10-01 (no quotes)", "embargo_until"))
    design = parse_design(data, problems)
    if problems:
        raise Invalid(problems)
    return CampaignFile(
        slug=slug, title=title, authorities=authorities, request_text=request_text,
        subject=_text(data, "subject", "", problems, required=False) or None,
        embargo_until=embargo, notes=_text(data, "notes", "", problems, False, 20000) or None,
        repeat_of=_text(data, "repeat_of", "", problems, required=False, limit=80) or None,
        design=design,
    )


def create_from_file(session: Session, actor: audit.Actor, text: str,
                     owner: User | None = None) -> Campaign:
    """A new campaign and its design from a campaign file. :raises Invalid:"""
    spec = parse_campaign_file(text)
    repeat_of = get_campaign(session, spec.repeat_of) if spec.repeat_of else None
    is_set = isinstance(spec.authorities, str)
    campaign = create_campaign(
        session, actor, title=spec.title, slug=spec.slug, request_text=spec.request_text,
        subject=spec.subject, set_slug=spec.authorities if is_set else None,
        authority_keys=[] if is_set else spec.authorities, owner=owner,
        embargo_until=spec.embargo_until, notes=spec.notes, repeat_of=repeat_of,
    )
    apply_design(session, actor, campaign, spec.design)
    return campaign


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


def _figure_count(session: Session, column: Any, value: int) -> int:
    return session.scalar(select(func.count()).select_from(Figure).where(column == value)) or 0


def _sync(session: Session, items: list[Any], specs: list[Any], make: Any, update: Any,
          figure_column: Any, what: str, problems: list[str]) -> None:
    """Match ``items`` to ``specs`` by key: update, add, and remove those without figures."""
    by_key = {item.key: item for item in items}
    for position, spec in enumerate(specs):
        item = by_key.pop(spec.key, None) or make(key=spec.key)
        update(item, spec, position)
        if item not in items:
            items.append(item)
    for gone in by_key.values():
        if _figure_count(session, figure_column, gone.id):
            problems.append(f"{what} {gone.key!r} has figures")
        else:
            items.remove(gone)


def apply_design(session: Session, actor: audit.Actor, campaign: Campaign, design: Design) -> None:
    """Make the campaign's design match ``design``.

    :raises Conflict: when it would remove a measure, period or category that has figures.
    """
    before = design_dict(campaign)
    problems: list[str] = []

    def set_measure(measure: Measure, spec: MeasureSpec, position: int) -> None:
        measure.label, measure.unit, measure.position = spec.label, spec.unit, position

    def set_period(period: Period, spec: PeriodSpec, position: int) -> None:
        period.label, period.start, period.end, period.position = (
            spec.label, spec.start, spec.end, position)

    _sync(session, campaign.measures, design.measures, Measure, set_measure, Figure.measure_id,
          "measure", problems)
    _sync(session, campaign.periods, design.periods, Period, set_period, Figure.period_id,
          "period", problems)
    by_period_key = {p.key: p for p in campaign.periods}

    dimensions = {d.key: d for d in campaign.dimensions}
    for position, spec in enumerate(design.dimensions):
        dimension = dimensions.pop(spec.key, None) or Dimension(key=spec.key)
        dimension.label, dimension.position = spec.label, position
        dimension.overlapping, dimension.unit = spec.overlapping, spec.unit
        if dimension not in campaign.dimensions:
            campaign.dimensions.append(dimension)
        labels = [label for label in spec.categories if label != spec.not_recorded]
        wanted = [*labels, spec.not_recorded]
        existing = {c.label: c for c in dimension.categories}
        for index, label in enumerate(wanted):
            category = existing.pop(label, None) or Category(label=label)
            category.position, category.is_not_recorded = index, label == spec.not_recorded
            if category not in dimension.categories:
                dimension.categories.append(category)
        for gone in existing.values():
            if gone.id and _figure_count(session, Figure.category_id, gone.id):
                problems.append(f"category {gone.label!r} of {spec.key!r} has figures")
            else:
                dimension.categories.remove(gone)
    for gone in dimensions.values():
        if any(c.id and _figure_count(session, Figure.category_id, c.id) for c in gone.categories):
            problems.append(f"dimension {gone.key!r} has figures")
        else:
            campaign.dimensions.remove(gone)
    if problems:
        raise Conflict("the new design would drop figures already entered: " + "; ".join(problems)
                       + ". Keep those, or delete the figures first")
    session.flush()
    by_dimension_key = {d.key: d for d in campaign.dimensions}

    groups = {g.key: g for g in campaign.groups}
    campaign.groups.clear()
    for position, spec in enumerate(design.groups):
        group = groups.pop(spec.key, None) or CategoryGroup(key=spec.key)
        dimension = by_dimension_key[spec.dimension]
        group.label, group.position, group.dimension = spec.label, position, dimension
        group.categories = [c for c in dimension.categories if c.label in spec.categories]
        campaign.groups.append(group)
    period_groups = {g.key: g for g in campaign.period_groups}
    campaign.period_groups.clear()
    for position, spec in enumerate(design.period_groups):
        period_group = period_groups.pop(spec.key, None) or PeriodGroup(key=spec.key)
        period_group.label, period_group.position = spec.label, position
        period_group.periods = [by_period_key[key] for key in spec.periods]
        campaign.period_groups.append(period_group)
    campaign.suppression_threshold = design.suppression_threshold
    campaign.min_coverage, campaign.min_base = design.min_coverage, design.min_base
    session.flush()
    after = design_dict(campaign)
    if after != before:
        # In SQL, so that two changes made at once both count (save_design holds the campaign).
        campaign.design_version = Campaign.design_version + 1  # type: ignore[assignment]
        session.flush()
        audit.record(session, actor, "campaign", campaign.id, "design", before, after)


def design_dict(campaign: Campaign) -> dict[str, Any]:
    """The design as the plain values of a campaign file."""
    data: dict[str, Any] = {}
    if campaign.suppression_threshold is not None:
        data["suppression_threshold"] = campaign.suppression_threshold
    data["measures"] = [{"key": m.key, "label": m.label, "unit": m.unit} for m in campaign.measures]
    data["periods"] = [{"key": p.key, "label": p.label, "start": p.start, "end": p.end}
                       for p in campaign.periods]
    if campaign.period_groups:
        data["period_groups"] = [{"key": g.key, "label": g.label,
                                  "periods": [p.key for p in g.periods]}
                                 for g in campaign.period_groups]
    data["dimensions"] = []
    for d in campaign.dimensions:
        not_recorded = d.not_recorded
        dimension: dict[str, Any] = {
            "key": d.key, "label": d.label,
            "categories": [c.label for c in d.categories if not c.is_not_recorded],
            "not_recorded": not_recorded.label if not_recorded else DEFAULT_NOT_RECORDED,
        }
        if d.overlapping:
            dimension["overlapping"] = True
        if d.unit:
            dimension["unit"] = d.unit
        data["dimensions"].append(dimension)
    if campaign.groups:
        data["groups"] = [{"key": g.key, "label": g.label, "dimension": g.dimension.key,
                           "categories": [c.label for c in g.categories]} for g in campaign.groups]
    release = {name: value for name, value in (("min_coverage", campaign.min_coverage),
                                               ("min_base", campaign.min_base))
               if value is not None}
    if release:
        data["release"] = release
    return data


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
    from foitrack.services.requests import campaign_requests

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
    if campaign.notes:
        data["notes"] = campaign.notes
    if campaign.repeat_of and with_repeat_of:
        data["repeat_of"] = campaign.repeat_of.slug
    return tomli_w.dumps(data, multiline_strings=True) + design_toml(campaign)
