"""A campaign's data design: its tables (measures, periods, dimensions, groups) checked, made
the campaign's, and read back as the plain values of a campaign file.

Applying a design to a campaign matches measures, periods, dimensions and groups by key and
categories by label; anything that already has figures is never removed or renamed away
silently: that is refused instead. services.campaigns (a repeat copies its source's design) and
services.design (the campaign file) both build on this module, which imports neither.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from typing import Any, TypeGuard

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foitrack.domain.design import (
    DEFAULT_RATE_BASE,
    DEFAULT_RATE_PER,
    Design,
    DimensionSpec,
    GroupSpec,
    MeasureSpec,
    PeriodGroupSpec,
    PeriodSpec,
)
from foitrack.errors import Conflict, Invalid, Problem
from foitrack.models import (
    Campaign,
    Category,
    CategoryGroup,
    Dimension,
    Figure,
    Measure,
    Period,
    PeriodGroup,
)
from foitrack.models.authority import casefold
from foitrack.services import audit
from foitrack.services.authorities import SLUG_PATTERN

DEFAULT_NOT_RECORDED = "Not recorded"
BASE_PATTERN = SLUG_PATTERN  # a population base's name: "population", "children-0-17"
RESERVED_PERIOD_KEYS = {"all"}
DIMENSION_KEYS = {"key", "label", "categories", "not_recorded", "overlapping", "unit"}
RELEASE_KEYS = {"min_coverage", "min_base"}


# ---- reading the tables ----------------------------------------------------------------------

def read_text(data: dict[str, Any], name: str, where: str, problems: list[Problem],
              required: bool = True, limit: int = 300) -> str:
    """A text setting, stripped; "" with a problem naming ``where`` + ``name`` if it is wrong."""
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
    key = read_text(data, "key", where, problems, limit=80)
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


def _tables(data: dict[str, Any], name: str,
            problems: list[Problem]) -> list[tuple[str, dict[str, Any]]]:
    """Each [[name]] table with the place a problem in it is named by: "name[1]." onwards."""
    return [(f"{name}[{index + 1}].", item)
            for index, item in enumerate(_table_list(data, name, problems))]


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
    design.measures = _parse_measures(data, problems)
    # Periods and period groups share their keys, as do dimensions and groups.
    seen = set(RESERVED_PERIOD_KEYS)
    design.periods = _parse_periods(data, problems, seen)
    design.period_groups = _parse_period_groups(data, problems, seen, design.periods)
    seen = set()
    design.dimensions = _parse_dimensions(data, problems, seen)
    design.groups = _parse_groups(data, problems, seen, design.dimensions)
    threshold = data.get("suppression_threshold")
    if threshold is not None and (not isinstance(threshold, int) or isinstance(threshold, bool)
                                  or not 1 <= threshold <= 1000):
        problems.append(Problem("must be a whole number from 1 to 1000", "suppression_threshold"))
    elif threshold is not None:
        design.suppression_threshold = threshold
    _parse_release(data, design, problems)
    return design


def parse_design_text(text: str) -> Design:
    """The design part of a campaign file from its TOML text, as the design page takes it.

    :raises Invalid: one problem for text that is not TOML, else every problem parse_design found.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Invalid(f"The design is not valid TOML: {error}") from None
    problems: list[Problem] = []
    design = parse_design(data, problems)
    if problems:
        raise Invalid(problems)
    return design


def _parse_measures(data: dict[str, Any], problems: list[Problem]) -> list[MeasureSpec]:
    measures = []
    seen: set[str] = set()
    for where, item in _tables(data, "measures", problems):
        key, label = _key(item, where, problems, seen), read_text(item, "label", where, problems)
        unit = read_text(item, "unit", where, problems, required=False, limit=80)
        measures.append(MeasureSpec(key, label, unit or (label.split()[0].lower()
                                                         if label else "figures"),
                                    *_rate(item, where, problems),
                                    aliases=_aliases(item, where, problems)))
    if not measures and not any(p.field == "measures" for p in problems):
        problems.append(Problem("at least one [[measures]] is needed", "measures"))
    return measures


def _rate(item: dict[str, Any], where: str, problems: list[Problem]) -> tuple[int, str]:
    """A measure's ``rate_per`` (0: no rate) and ``rate_base``, defaults where not given."""
    per = item.get("rate_per", DEFAULT_RATE_PER)
    if isinstance(per, bool) or not isinstance(per, int) or not 0 <= per <= 10_000_000:
        problems.append(Problem("must be a whole number such as 100000 (0: no rate)",
                                f"{where}rate_per"))
        per = DEFAULT_RATE_PER
    base = read_text(item, "rate_base", where, problems, required=False, limit=50)
    if base and not BASE_PATTERN.fullmatch(base):
        problems.append(Problem("must be a base's name in lower case, letters, digits and "
                                "hyphens, such as population or children-0-17",
                                f"{where}rate_base"))
    return per, base or DEFAULT_RATE_BASE


def _parse_periods(data: dict[str, Any], problems: list[Problem],
                   seen: set[str]) -> list[PeriodSpec]:
    periods = []
    for where, item in _tables(data, "periods", problems):
        if item.get("key") in RESERVED_PERIOD_KEYS:
            problems.append(Problem(f"{item['key']!r} is reserved", f"{where}key"))
        key, label = _key(item, where, problems, seen), read_text(item, "label", where, problems)
        start, end = _dates(item, where, problems)
        aliases = _aliases(item, where, problems)
        if start is not None and end is not None:
            periods.append(PeriodSpec(key, label, start, end, aliases))
    if not periods and not any(p.field and p.field.startswith("periods") for p in problems):
        problems.append(Problem("at least one [[periods]] is needed", "periods"))
    return periods


def _dates(item: dict[str, Any], where: str,
           problems: list[Problem]) -> tuple[dt.date | None, dt.date | None]:
    """A period's start and end, or None, None when either is missing, wrong or backwards."""
    start, end = item.get("start"), item.get("end")
    for name, value in (("start", start), ("end", end)):
        if not _is_date(value):
            problems.append(Problem("must be a date written like 2018-04-01 (no quotes, "
                                    "no time)", f"{where}{name}"))
    if not _is_date(start) or not _is_date(end):
        return None, None
    if end < start:
        problems.append(Problem(f"ends ({end}) before it starts ({start})", f"{where}end"))
        return None, None
    return start, end


def _is_date(value: Any) -> TypeGuard[dt.date]:
    """A date and nothing more: TOML's datetimes are dates too, to Python."""
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _parse_period_groups(data: dict[str, Any], problems: list[Problem], seen: set[str],
                         known: list[PeriodSpec]) -> list[PeriodGroupSpec]:
    periods = {p.key: p for p in known}
    groups = []
    for where, item in _tables(data, "period_groups", problems):
        key, label = _key(item, where, problems, seen), read_text(item, "label", where, problems)
        members = _labels(item, "periods", where, problems)
        unknown = [m for m in members if m not in periods]
        if unknown:
            problems.append(Problem(f"no period {', '.join(map(repr, unknown))}", f"{where}periods"))
        chosen = sorted((periods[m] for m in members if m in periods), key=lambda p: p.start)
        for earlier, later in zip(chosen, chosen[1:], strict=False):
            if later.start <= earlier.end:
                problems.append(Problem(f"{earlier.key!r} and {later.key!r} overlap, so adding them "
                                        "would count some figures twice", f"{where}periods"))
        groups.append(PeriodGroupSpec(key, label, members))
    return groups


def _parse_dimensions(data: dict[str, Any], problems: list[Problem],
                      seen: set[str]) -> list[DimensionSpec]:
    dimensions = []
    for where, item in _tables(data, "dimensions", problems):
        key, label = _key(item, where, problems, seen), read_text(item, "label", where, problems)
        categories, aliases = _categories(item, where, problems)
        not_recorded = read_text(item, "not_recorded", where, problems, required=False, limit=200)
        overlapping = item.get("overlapping", False)
        if not isinstance(overlapping, bool):
            problems.append(Problem("must be true or false (no quotes)", f"{where}overlapping"))
            overlapping = False
        unit = read_text(item, "unit", where, problems, required=False, limit=80)
        for name in sorted(set(item) - DIMENSION_KEYS):
            problems.append(Problem("unknown setting; known ones are "
                                    + ", ".join(sorted(DIMENSION_KEYS)), f"{where}{name}"))
        dimensions.append(DimensionSpec(key, label, categories,
                                        not_recorded or DEFAULT_NOT_RECORDED, overlapping, unit,
                                        aliases))
    return dimensions


def _aliases(item: dict[str, Any], where: str, problems: list[Problem]) -> list[str] | None:
    """``aliases = ["..."]``: other names replies use (extraction matches them); None when
    not given, so that applying a design that does not mention them keeps the stored ones."""
    value = item.get("aliases")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() and len(v) <= 300
                                              for v in value):
        problems.append(Problem('must be a list of names, e.g. ["Number of offences"]',
                                f"{where}aliases"))
        return None
    return list(dict.fromkeys(v.strip() for v in value))


def _categories(item: dict[str, Any], where: str,
                problems: list[Problem]) -> tuple[list[str], dict[str, list[str]] | None]:
    """A dimension's categories, each a name or ``{label = "...", aliases = ["..."]}``."""
    value = item.get("categories")
    if not isinstance(value, list) or not any(isinstance(v, dict) for v in value):
        return _labels(item, "categories", where, problems), None
    names: list[Any] = []
    aliases: dict[str, list[str]] = {}
    for index, entry in enumerate(value, start=1):
        if not isinstance(entry, dict):
            names.append(entry)
            continue
        place = f"{where}categories[{index}]."
        unknown = sorted(set(entry) - {"label", "aliases"})
        if unknown:
            problems.append(Problem("unknown setting; known ones are aliases, label",
                                    f"{place}{unknown[0]}"))
        label = entry.get("label")
        names.append(label)
        found = _aliases(entry, place, problems)
        if isinstance(label, str) and label.strip() and found:
            aliases[label.strip()] = found
    return _labels({"categories": names}, "categories", where, problems), aliases


def _parse_groups(data: dict[str, Any], problems: list[Problem], seen: set[str],
                  known: list[DimensionSpec]) -> list[GroupSpec]:
    dimensions = {d.key: d for d in known}
    groups = []
    for where, item in _tables(data, "groups", problems):
        key, label = _key(item, where, problems, seen), read_text(item, "label", where, problems)
        dimension = read_text(item, "dimension", where, problems, limit=80)
        members = _labels(item, "categories", where, problems)
        if dimension and dimension not in dimensions:
            problems.append(Problem(f"no dimension {dimension!r}", f"{where}dimension"))
        elif dimension:
            members = _group_members(dimensions[dimension], members, where, problems)
        groups.append(GroupSpec(key, label, dimension, members))
    return groups


def _group_members(spec: DimensionSpec, members: list[str], where: str,
                   problems: list[Problem]) -> list[str]:
    """A group's categories checked against its dimension's, in the dimension's order."""
    unknown = [m for m in members if m not in spec.categories]
    if unknown:
        problems.append(Problem(f"{', '.join(map(repr, unknown))} not among the categories of "
                                f"{spec.key!r}", f"{where}categories"))
    if spec.not_recorded in members:
        problems.append(Problem("a group cannot include the not-recorded category",
                                f"{where}categories"))
    # A group is a set: kept in the dimension's order, however it was listed.
    return sorted(members, key=lambda m: spec.categories.index(m)
                  if m in spec.categories else len(spec.categories))


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


# ---- applying a design ----------------------------------------------------------------------

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


def _set_measure(measure: Measure, spec: MeasureSpec, position: int) -> None:
    measure.label, measure.unit, measure.position = spec.label, spec.unit, position
    measure.rate_per, measure.rate_base = spec.rate_per, spec.rate_base
    if spec.aliases is not None:  # the design page's form does not carry them: kept as stored
        measure.aliases = spec.aliases or None


def _set_period(period: Period, spec: PeriodSpec, position: int) -> None:
    period.label, period.start, period.end, period.position = (
        spec.label, spec.start, spec.end, position)
    if spec.aliases is not None:
        period.aliases = spec.aliases or None


def apply_design(session: Session, actor: audit.Actor, campaign: Campaign, design: Design) -> None:
    """Make the campaign's design match ``design``.

    :raises Conflict: when it would remove a measure, period or category that has figures.
    """
    before = design_dict(campaign)
    problems: list[str] = []
    _sync(session, campaign.measures, design.measures, Measure, _set_measure, Figure.measure_id,
          "measure", problems)
    _sync(session, campaign.periods, design.periods, Period, _set_period, Figure.period_id,
          "period", problems)
    _sync_dimensions(session, campaign, design.dimensions, problems)
    if problems:
        raise Conflict("the new design would drop figures already entered: " + "; ".join(problems)
                       + ". Keep those, or delete the figures first")
    session.flush()
    _set_groups(campaign, design.groups)
    _set_period_groups(campaign, design.period_groups)
    campaign.suppression_threshold = design.suppression_threshold
    campaign.min_coverage, campaign.min_base = design.min_coverage, design.min_base
    session.flush()
    _record_change(session, actor, campaign, before)


def _has_figures(session: Session) -> Callable[[Category], bool]:
    return lambda category: bool(category.id and _figure_count(session, Figure.category_id,
                                                               category.id))


def _sync_dimensions(session: Session, campaign: Campaign, specs: list[DimensionSpec],
                     problems: list[str]) -> None:
    """Match the dimensions by key and their categories by label, the not-recorded one last;
    a dimension or category with figures is kept, and named in ``problems``."""
    has_figures = _has_figures(session)
    dimensions = {d.key: d for d in campaign.dimensions}
    for position, spec in enumerate(specs):
        dimension = dimensions.pop(spec.key, None) or Dimension(key=spec.key)
        dimension.label, dimension.position = spec.label, position
        dimension.overlapping, dimension.unit = spec.overlapping, spec.unit
        if dimension not in campaign.dimensions:
            campaign.dimensions.append(dimension)
        _sync_categories(dimension, spec, has_figures, problems)
    for gone in dimensions.values():
        if any(has_figures(c) for c in gone.categories):
            problems.append(f"dimension {gone.key!r} has figures")
        else:
            campaign.dimensions.remove(gone)


def _sync_categories(dimension: Dimension, spec: DimensionSpec,
                     has_figures: Callable[[Category], bool], problems: list[str]) -> None:
    labels = [label for label in spec.categories if label != spec.not_recorded]
    wanted = [*labels, spec.not_recorded]
    existing = {c.label: c for c in dimension.categories}
    for index, label in enumerate(wanted):
        category = existing.pop(label, None) or Category(label=label)
        category.position, category.is_not_recorded = index, label == spec.not_recorded
        if spec.aliases is not None:
            category.aliases = spec.aliases.get(label) or None
        if category not in dimension.categories:
            dimension.categories.append(category)
    for gone in existing.values():
        if has_figures(gone):
            problems.append(f"category {gone.label!r} of {spec.key!r} has figures")
        else:
            dimension.categories.remove(gone)


def _set_groups(campaign: Campaign, specs: list[GroupSpec]) -> None:
    by_dimension_key = {d.key: d for d in campaign.dimensions}
    groups = {g.key: g for g in campaign.groups}
    campaign.groups.clear()
    for position, spec in enumerate(specs):
        group = groups.pop(spec.key, None) or CategoryGroup(key=spec.key)
        dimension = by_dimension_key[spec.dimension]
        group.label, group.position, group.dimension = spec.label, position, dimension
        group.categories = [c for c in dimension.categories if c.label in spec.categories]
        campaign.groups.append(group)


def _set_period_groups(campaign: Campaign, specs: list[PeriodGroupSpec]) -> None:
    by_period_key = {p.key: p for p in campaign.periods}
    period_groups = {g.key: g for g in campaign.period_groups}
    campaign.period_groups.clear()
    for position, spec in enumerate(specs):
        period_group = period_groups.pop(spec.key, None) or PeriodGroup(key=spec.key)
        period_group.label, period_group.position = spec.label, position
        period_group.periods = [by_period_key[key] for key in spec.periods]
        campaign.period_groups.append(period_group)


def _record_change(session: Session, actor: audit.Actor, campaign: Campaign,
                   before: dict[str, Any]) -> None:
    """A new design version and its audit entry, if the design is not as ``before``."""
    after = design_dict(campaign)
    if after != before:
        # In SQL, so that two changes made at once both count (save_design holds the campaign).
        campaign.design_version = Campaign.design_version + 1
        session.flush()
        audit.record(session, actor, "campaign", campaign.id, "design", before, after)


def design_dict(campaign: Campaign) -> dict[str, Any]:
    """The design as the plain values of a campaign file."""
    data: dict[str, Any] = {}
    if campaign.suppression_threshold is not None:
        data["suppression_threshold"] = campaign.suppression_threshold
    data["measures"] = [_measure_dict(m) for m in campaign.measures]
    data["periods"] = [{"key": p.key, "label": p.label, "start": p.start, "end": p.end,
                        **({"aliases": list(p.aliases)} if p.aliases else {})}
                       for p in campaign.periods]
    if campaign.period_groups:
        data["period_groups"] = [{"key": g.key, "label": g.label,
                                  "periods": [p.key for p in g.periods]}
                                 for g in campaign.period_groups]
    data["dimensions"] = [_dimension_dict(d) for d in campaign.dimensions]
    if campaign.groups:
        data["groups"] = [{"key": g.key, "label": g.label, "dimension": g.dimension.key,
                           "categories": [c.label for c in g.categories]} for g in campaign.groups]
    release = {name: value for name, value in (("min_coverage", campaign.min_coverage),
                                               ("min_base", campaign.min_base))
               if value is not None}
    if release:
        data["release"] = release
    return data


def _measure_dict(m: Measure) -> dict[str, Any]:
    measure: dict[str, Any] = {"key": m.key, "label": m.label, "unit": m.unit}
    # Written only when not the default, so older files round-trip unchanged.
    if m.rate_per is not None and m.rate_per != DEFAULT_RATE_PER:
        measure["rate_per"] = m.rate_per
    if m.rate_base and m.rate_base != DEFAULT_RATE_BASE:
        measure["rate_base"] = m.rate_base
    if m.aliases:
        measure["aliases"] = list(m.aliases)
    return measure


def _dimension_dict(d: Dimension) -> dict[str, Any]:
    not_recorded = d.not_recorded
    dimension: dict[str, Any] = {
        "key": d.key, "label": d.label,
        # A category with aliases as {label, aliases}, as the campaign file may write it.
        "categories": [{"label": c.label, "aliases": list(c.aliases)} if c.aliases else c.label
                       for c in d.categories if not c.is_not_recorded],
        "not_recorded": not_recorded.label if not_recorded else DEFAULT_NOT_RECORDED,
    }
    if d.overlapping:
        dimension["overlapping"] = True
    if d.unit:
        dimension["unit"] = d.unit
    return dimension
