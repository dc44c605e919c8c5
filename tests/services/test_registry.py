"""Loading the shipped police force registry and its built-in sets."""

from __future__ import annotations

import csv
import re
import shutil

import pytest
from sqlalchemy import func, select

from foitrack.errors import Invalid
from foitrack.models import AuditEntry, Authority
from foitrack.services import authorities
from foitrack.services.registry import REGISTRY_FILE, load_registry, read_registry
from tests.factories import TEST_ACTOR, load_forces

REGIONS = {
    "North East": 3, "North West": 5, "Yorkshire and the Humber": 4, "East Midlands": 5,
    "West Midlands": 4, "East of England": 6, "London": 2, "South East": 5, "South West": 5,
    "Wales": 4,
}


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_registry_file_holds_48_forces_with_valid_unique_codes():
    rows = read_registry()
    assert len(rows) == 48
    codes = [row["code"] for row in rows if row["code"]]
    assert len(codes) == 43 == len(set(codes))
    assert all(re.fullmatch(r"E23\d{6}|W15\d{6}", code) for code in codes)
    welsh = sorted(row["name"] for row in rows if row["code"] and row["code"].startswith("W15"))
    assert welsh == ["Dyfed-Powys Police", "Gwent Police", "North Wales Police", "South Wales Police"]
    assert len({row["slug"] for row in rows}) == 48
    assert all(row["website"].startswith("https://") for row in rows)


def test_load_creates_48_forces_and_the_built_in_sets(session):
    report = load_forces(session)
    assert len(report.created) == 48
    assert _count(session, Authority) == 48
    assert len(authorities.find_authorities(session, set_slug="england-wales")) == 43
    assert len(authorities.find_authorities(session, set_slug="uk-territorial")) == 45
    assert len(authorities.find_authorities(session, set_slug="uk-police")) == 48
    for region, size in REGIONS.items():
        slug = authorities.slugify(region)
        members = authorities.find_authorities(session, set_slug=slug)
        assert len(members) == size, region
        assert {member.region for member in members} == {region}
    west_mercia = authorities.get_authority(session, "west-mercia")
    assert (west_mercia.code, west_mercia.region, west_mercia.country) == (
        "E23000016", "West Midlands", "England",
    )
    scotland = authorities.get_authority(session, "scotland")
    assert scotland.name == "Police Scotland"
    assert {s.slug for s in scotland.sets} == {"uk-territorial", "uk-police"}
    btp = authorities.get_authority(session, "british-transport")
    assert {s.slug for s in btp.sets} == {"uk-police"}


def test_loading_twice_gives_the_same_rows_and_no_new_audit_entries(session):
    load_forces(session)
    before = [a.snapshot() for a in authorities.find_authorities(session)]
    audit_count = _count(session, AuditEntry)
    report = load_forces(session)
    assert report.created == [] and report.updated == [] and report.sets_changed == []
    assert len(report.unchanged) == 48
    assert [a.snapshot() for a in authorities.find_authorities(session)] == before
    assert _count(session, AuditEntry) == audit_count


def test_every_created_force_has_an_audit_entry(session):
    load_forces(session)
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "authority", AuditEntry.action == "create")
    ).all()
    assert len(entries) == 48
    assert all(entry.actor == "tests" and entry.after["name"] for entry in entries)


def test_rolled_back_load_leaves_no_audit_entries(session):
    load_registry(session, TEST_ACTOR)
    session.rollback()
    assert _count(session, Authority) == 0
    assert _count(session, AuditEntry) == 0


def test_a_locally_edited_email_survives_a_reload(session):
    load_forces(session)
    force = authorities.get_authority(session, "west-mercia")
    authorities.update_authority(session, TEST_ACTOR, force, {"foi_email": "foi.team@example.org"})
    session.commit()
    report = load_forces(session)
    assert report.kept_local == {"west-mercia": ["foi_email"]}
    session.expire_all()
    assert authorities.get_authority(session, "west-mercia").foi_email == "foi.team@example.org"


def _edited_registry(tmp_path, change):
    path = tmp_path / "forces.csv"
    shutil.copy(REGISTRY_FILE, path)
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        change(row)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_renamed_force_keeps_its_old_name_as_a_former_name(session, tmp_path):
    load_forces(session)

    def rename(row):
        if row["slug"] == "west-mercia":
            row["name"] = "West Mercia Constabulary"

    report = load_registry(session, TEST_ACTOR, _edited_registry(tmp_path, rename))
    session.commit()
    assert report.updated == ["west-mercia"]
    force = authorities.get_authority(session, "west-mercia")
    assert force.name == "West Mercia Constabulary"
    assert "West Mercia Police" in force.former_names
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity_id == str(force.id))
    ).one()
    assert entry.before["name"] == "West Mercia Police"
    assert entry.after["name"] == "West Mercia Constabulary"


def test_a_malformed_registry_changes_nothing(session, tmp_path):
    def break_email(row):
        if row["slug"] == "gwent":
            row["foi_email"] = "not an email"

    with pytest.raises(Invalid, match=r"line 42, column foi_email"):
        load_registry(session, TEST_ACTOR, _edited_registry(tmp_path, break_email))
    assert _count(session, Authority) == 0


@pytest.mark.parametrize(
    "csv_text",
    [
        b"name,kind\nGwent Police,territorial-police\n",  # same name
        b"name,kind,code\nGwent Council,council,W15000002\n",  # same code
    ],
)
def test_the_registry_refuses_to_take_over_an_authority_added_by_hand(session, csv_text):
    from io import BytesIO

    from foitrack.services.authority_import import import_authorities

    import_authorities(session, TEST_ACTOR, BytesIO(csv_text))
    session.commit()
    with pytest.raises(Invalid, match="Gwent Police clashes with the authority"):
        load_registry(session, TEST_ACTOR)
    session.rollback()
    assert _count(session, Authority) == 1


def test_the_registry_refuses_to_take_over_a_set_made_by_users(session):
    from io import BytesIO

    from foitrack.services.authority_import import import_authorities

    import_authorities(session, TEST_ACTOR, BytesIO(b"name,kind,sets\nCamden Council,council,london\n"))
    session.commit()
    with pytest.raises(Invalid, match="the built-in set 'london' is already the name of a set"):
        load_registry(session, TEST_ACTOR)
    session.rollback()
    assert [a.name for a in authorities.find_authorities(session, set_slug="london")] == [
        "Camden Council"
    ]


# The 43 as DOMAIN.md and shared/data/police-forces.csv give them (ONS codes as used by
# GOV.UK's emergency alerts service; Home Office police statistics regions).
EXPECTED_43 = {
    "cleveland": ("E23000013", "North East"), "durham": ("E23000008", "North East"),
    "northumbria": ("E23000007", "North East"), "cheshire": ("E23000006", "North West"),
    "cumbria": ("E23000002", "North West"), "greater-manchester": ("E23000005", "North West"),
    "lancashire": ("E23000003", "North West"), "merseyside": ("E23000004", "North West"),
    "humberside": ("E23000012", "Yorkshire and the Humber"),
    "north-yorkshire": ("E23000009", "Yorkshire and the Humber"),
    "south-yorkshire": ("E23000011", "Yorkshire and the Humber"),
    "west-yorkshire": ("E23000010", "Yorkshire and the Humber"),
    "derbyshire": ("E23000018", "East Midlands"), "leicestershire": ("E23000021", "East Midlands"),
    "lincolnshire": ("E23000020", "East Midlands"),
    "northamptonshire": ("E23000022", "East Midlands"),
    "nottinghamshire": ("E23000019", "East Midlands"),
    "staffordshire": ("E23000015", "West Midlands"), "warwickshire": ("E23000017", "West Midlands"),
    "west-mercia": ("E23000016", "West Midlands"), "west-midlands": ("E23000014", "West Midlands"),
    "bedfordshire": ("E23000026", "East of England"),
    "cambridgeshire": ("E23000023", "East of England"), "essex": ("E23000028", "East of England"),
    "hertfordshire": ("E23000027", "East of England"), "norfolk": ("E23000024", "East of England"),
    "suffolk": ("E23000025", "East of England"), "city-of-london": ("E23000034", "London"),
    "metropolitan": ("E23000001", "London"),
    "hampshire-and-isle-of-wight": ("E23000030", "South East"), "kent": ("E23000032", "South East"),
    "surrey": ("E23000031", "South East"), "sussex": ("E23000033", "South East"),
    "thames-valley": ("E23000029", "South East"),
    "avon-and-somerset": ("E23000036", "South West"),
    "devon-and-cornwall": ("E23000035", "South West"), "dorset": ("E23000039", "South West"),
    "gloucestershire": ("E23000037", "South West"), "wiltshire": ("E23000038", "South West"),
    "dyfed-powys": ("W15000004", "Wales"), "gwent": ("W15000002", "Wales"),
    "north-wales": ("W15000001", "Wales"), "south-wales": ("W15000003", "Wales"),
}


def test_each_of_the_43_has_its_own_code_and_region(session):
    load_forces(session)
    forces = authorities.find_authorities(session, set_slug="england-wales")
    found = {a.slug: (a.code, a.region) for a in forces}
    assert found == EXPECTED_43
