"""Finding and editing authorities."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from foitrack.errors import Invalid, NotFound
from foitrack.models import AuditEntry
from foitrack.services import authorities
from tests.factories import TEST_ACTOR, load_forces


@pytest.fixture
def forces(session):
    load_forces(session)


def names(found):
    return [authority.name for authority in found]


def test_search_matches_names_short_names_codes_and_former_names(session, forces):
    assert names(authorities.find_authorities(session, search="mercia")) == ["West Mercia Police"]
    assert names(authorities.find_authorities(session, search="E23000016")) == ["West Mercia Police"]
    assert names(authorities.find_authorities(session, search="hampshire constabulary")) == [
        "Hampshire and Isle of Wight Constabulary"
    ]


def test_filters_combine(session, forces):
    found = authorities.find_authorities(session, set_slug="england-wales", region="Wales")
    assert names(found) == [
        "Dyfed-Powys Police", "Gwent Police", "North Wales Police", "South Wales Police",
    ]
    assert names(authorities.find_authorities(session, region="Wales", search="north")) == [
        "North Wales Police"
    ]


def test_an_unknown_set_is_named_in_the_error(session, forces):
    with pytest.raises(NotFound, match="no authority set 'england'; known sets: east-midlands"):
        authorities.find_authorities(session, set_slug="england")


def test_editing_records_the_change_and_marks_the_field_local(session, forces):
    force = authorities.get_authority(session, "gwent")
    original = force.foi_email
    changed = authorities.update_authority(
        session, TEST_ACTOR, force, {"foi_email": "foi@example.org", "region": "Wales"}
    )
    session.commit()
    assert changed == ["foi_email"]
    assert force.locally_edited == ["foi_email"]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity_id == str(force.id))
    ).one()
    assert entry.before == {"foi_email": original}
    assert entry.after == {"foi_email": "foi@example.org"}


def test_renaming_by_hand_keeps_the_old_name(session, forces):
    force = authorities.get_authority(session, "sussex")
    authorities.update_authority(session, TEST_ACTOR, force, {"name": "Sussex Constabulary"})
    assert "Sussex Police" in force.former_names


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"foi_email": "nobody"}, "foi_email", "is not an email address"),
        ({"website": "javascript:alert(1)"}, "website", "is not a web address"),
        ({"name": "  "}, "name", "is required"),
        ({"name": "Kent Police"}, "name", "is already used by Kent Police"),
        ({"code": "E23000032"}, "code", "is already used by Kent Police"),
        ({"kind": "Police Force"}, "kind", "lower-case words"),
        ({"short_name": "x" * 101}, "short_name", "longer than 100"),
        ({"slug": "new-slug"}, "slug", "cannot be edited"),
    ],
)
def test_bad_edits_name_the_field_and_change_nothing(session, forces, changes, field, message):
    force = authorities.get_authority(session, "essex")
    before = force.snapshot()
    with pytest.raises(Invalid) as caught:
        authorities.update_authority(session, TEST_ACTOR, force, changes)
    assert any(message in text for text in caught.value.for_field(field)), caught.value
    session.rollback()
    assert authorities.get_authority(session, "essex").snapshot() == before
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).all() == []
