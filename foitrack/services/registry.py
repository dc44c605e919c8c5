"""The shipped UK police force registry and the built-in sets made from it.

Loading is idempotent and respects local edits: a field a user changed by hand
(``Authority.locally_edited``) is never overwritten by a reload. The forces' ONS population
estimates (services.population) are loaded with them, so every way forces arrive (`make run`,
`foitrack authorities load`, the tests' factories) brings the populations rates need.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from foitrack.errors import Invalid, Problem
from foitrack.models import Authority, AuthoritySet
from foitrack.paths import DATA_DIR
from foitrack.services import audit, population
from foitrack.services.authorities import (
    check_values,
    clean_text,
    remember_former_name,
    slugify,
    split_names,
)

REGISTRY_FILE = DATA_DIR / "police-forces.csv"
REGISTRY_COLUMNS = (
    "slug",
    "code",
    "name",
    "short_name",
    "former_names",
    "kind",
    "country",
    "region",
    "foi_email",
    "website",
    "note",
)
# Registry fields copied onto the authority (slug is the key, never copied).
LOADED_FIELDS = REGISTRY_COLUMNS[1:]
TERRITORIAL = "territorial-police"


@dataclass(frozen=True)
class SetRule:
    slug: str
    title: str
    description: str
    includes: Callable[[dict[str, Any]], bool]


BUILTIN_SETS = (
    SetRule(
        "england-wales",
        "Territorial police forces of England and Wales",
        "The 43 territorial police forces of England and Wales.",
        lambda row: row["kind"] == TERRITORIAL and row["country"] in ("England", "Wales"),
    ),
    SetRule(
        "uk-territorial",
        "Territorial police forces of the UK",
        "The 45 territorial forces: England and Wales's 43, Police Scotland and the PSNI.",
        lambda row: row["kind"] == TERRITORIAL,
    ),
    SetRule(
        "uk-police",
        "All UK police forces",
        "The territorial forces and the special police forces (British Transport Police, "
        "Ministry of Defence Police, Civil Nuclear Constabulary).",
        lambda row: row["kind"] in (TERRITORIAL, "special-police"),
    ),
)


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_local: dict[str, list[str]] = field(default_factory=dict)
    sets_changed: list[str] = field(default_factory=list)
    populations: population.LoadReport = field(default_factory=population.LoadReport)

    def summary(self) -> str:
        kept = sum(len(fields) for fields in self.kept_local.values())
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged; {kept} locally edited fields kept; "
            f"{len(self.sets_changed)} sets created or changed"
        )


def read_registry(path: Path = REGISTRY_FILE) -> list[dict[str, Any]]:
    """The registry rows as authority field values. :raises Invalid: on a malformed file."""
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != REGISTRY_COLUMNS:
            raise Invalid(f"{path.name}: header must be {','.join(REGISTRY_COLUMNS)}")
        for raw in reader:
            row: dict[str, Any] = {key: clean_text(raw[key]) for key in REGISTRY_COLUMNS}
            row["former_names"] = split_names(raw["former_names"] or "")
            for problem in check_values(row):
                problems.append(Problem(problem.message, problem.field, reader.line_num))
            rows.append(row)
    if problems:
        raise Invalid(problems)
    return rows


def _region_rule(region: str) -> SetRule:
    return SetRule(
        slugify(region),
        f"{region} police forces",
        f"The territorial police forces of the {region} region (Home Office police statistics regions).",
        lambda row: row["region"] == region,
    )


def _sync_authority(
    session: Session, actor: audit.Actor, row: dict[str, Any], report: LoadReport
) -> Authority:
    authority = session.scalar(
        select(Authority).where(Authority.slug == row["slug"]).options(selectinload(Authority.sets))
    )
    if authority is None:
        authority = Authority(slug=row["slug"], source="registry", locally_edited=[], active=True)
        for name in LOADED_FIELDS:
            setattr(authority, name, row[name])
        session.add(authority)
        session.flush()
        audit.record(session, actor, "authority", authority.id, "create", None, authority.snapshot())
        report.created.append(authority.slug)
        return authority
    before = authority.snapshot()
    kept = [name for name in LOADED_FIELDS if name in (authority.locally_edited or [])]
    renamed_from = None
    for name in LOADED_FIELDS:
        if name in kept:
            continue
        if name == "name" and row["name"] != authority.name:
            renamed_from = authority.name
        setattr(authority, name, row[name])
    if renamed_from and "former_names" not in kept:
        remember_former_name(authority, renamed_from)
    old, new = audit.changed_fields(before, authority.snapshot())
    kept_differing = [name for name in kept if getattr(authority, name) != row[name]]
    if kept_differing:
        report.kept_local[authority.slug] = kept_differing
    if new:
        session.flush()
        audit.record(session, actor, "authority", authority.id, "update", old, new)
        report.updated.append(authority.slug)
    else:
        report.unchanged.append(authority.slug)
    return authority


def _sync_set(
    session: Session,
    actor: audit.Actor,
    rule: SetRule,
    members: list[Authority],
    report: LoadReport,
) -> None:
    found = session.scalar(
        select(AuthoritySet)
        .where(AuthoritySet.slug == rule.slug)
        .options(selectinload(AuthoritySet.members))
    )
    wanted = sorted(members, key=lambda authority: authority.name)
    after = {
        "title": rule.title,
        "description": rule.description,
        "members": [authority.slug for authority in wanted],
    }
    if found is None:
        found = AuthoritySet(
            slug=rule.slug, title=rule.title, description=rule.description, builtin=True
        )
        found.members = wanted
        session.add(found)
        session.flush()
        audit.record(session, actor, "authority_set", found.id, "create", None, after)
        report.sets_changed.append(rule.slug)
        return
    before = {
        "title": found.title,
        "description": found.description,
        "members": sorted(authority.slug for authority in found.members),
    }
    after["members"] = sorted(after["members"])
    old, new = audit.changed_fields(before, after)
    if new:
        found.title, found.description, found.builtin = rule.title, rule.description, True
        found.members = wanted
        session.flush()
        audit.record(session, actor, "authority_set", found.id, "update", old, new)
        report.sets_changed.append(rule.slug)


def load_registry(session: Session, actor: audit.Actor, path: Path = REGISTRY_FILE) -> LoadReport:
    """Create or refresh the police forces, the built-in sets and the forces' shipped population
    estimates (imported estimates are kept); safe to run any number of times.

    :raises Invalid: when the registry file is malformed or a name clashes with an authority
        a user added; nothing is changed then.
    """
    rows = read_registry(path)
    clashes = []
    for line, row in enumerate(rows, start=2):
        same_identity = [Authority.name == row["name"], Authority.slug == row["slug"]]
        if row["code"]:
            same_identity.append(Authority.code == row["code"])
        for other in session.scalars(select(Authority).where(or_(*same_identity))):
            if other.slug == row["slug"] and other.source == "registry":
                continue  # the force itself, loaded before
            clashes.append(
                Problem(
                    f"{row['name']} clashes with the authority {other.name!r} ({other.slug}) "
                    "added locally; rename it or change its slug or code first",
                    field="name",
                    line=line,
                )
            )
    regions = sorted({row["region"] for row in rows if row["region"]})
    rules = [*BUILTIN_SETS, *(_region_rule(region) for region in regions)]
    for rule in rules:
        taken = session.scalar(
            select(AuthoritySet).where(AuthoritySet.slug == rule.slug, AuthoritySet.builtin.is_(False))
        )
        if taken is not None:
            clashes.append(
                Problem(f"the built-in set {rule.slug!r} is already the name of a set made by "
                        "users; rename that set first", field="sets")
            )
    if clashes:
        raise Invalid(clashes)
    report = LoadReport()
    authorities = [(row, _sync_authority(session, actor, row, report)) for row in rows]
    for rule in rules:
        members = [authority for row, authority in authorities if rule.includes(row)]
        _sync_set(session, actor, rule, members, report)
    report.populations = population.load_shipped(session, actor)
    return report
