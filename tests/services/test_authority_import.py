"""Importing authorities and sets from CSV: all or nothing, errors by line and column."""

from __future__ import annotations

import io
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from foitrack.errors import Invalid
from foitrack.models import AuditEntry, Authority, AuthoritySet
from foitrack.services import authorities
from foitrack.services.authority_import import import_authorities
from tests.factories import TEST_ACTOR, load_forces

COUNCILS = (
    "name,kind,code,short_name,country,region,foi_email,website,sets,former_names\n"
    "Birmingham City Council,council,E08000025,Birmingham,England,West Midlands,"
    "foi@birmingham.example.org,https://www.birmingham.gov.uk/,west-midlands-councils,\n"
    "Coventry City Council,council,E08000026,Coventry,England,West Midlands,,,"
    "west-midlands-councils | big-cities,Coventry Council\n"
)


def run(session, text: str | bytes):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return import_authorities(session, TEST_ACTOR, BytesIO(data))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_import_creates_authorities_and_sets(session):
    report = run(session, COUNCILS)
    session.commit()
    assert report.created == ["birmingham-city-council", "coventry-city-council"]
    assert report.sets_created == ["west-midlands-councils", "big-cities"]
    assert report.memberships_added == 3
    coventry = authorities.get_authority(session, "coventry-city-council")
    assert coventry.former_names == ["Coventry Council"]
    assert coventry.source == "import"
    found = authorities.find_authorities(session, set_slug="west-midlands-councils")
    assert [a.name for a in found] == ["Birmingham City Council", "Coventry City Council"]
    assert count(session, AuditEntry) == 2 + 2 + 3


def test_importing_the_same_file_again_changes_nothing(session):
    run(session, COUNCILS)
    session.commit()
    entries = count(session, AuditEntry)
    report = run(session, COUNCILS)
    session.commit()
    assert report.created == [] and report.updated == []
    assert report.unchanged == ["birmingham-city-council", "coventry-city-council"]
    assert count(session, AuditEntry) == entries


def test_a_matching_row_updates_only_the_cells_it_fills(session):
    load_forces(session)
    original = authorities.get_authority(session, "kent").snapshot()
    report = run(session, "name,kind,foi_email\nKent Police,territorial-police,new.foi@example.org\n")
    session.commit()
    assert report.updated == ["kent"]
    kent = authorities.get_authority(session, "kent")
    assert kent.foi_email == "new.foi@example.org"
    assert kent.website == original["website"] and kent.code == original["code"]
    assert kent.locally_edited == ["foi_email"]
    load_forces(session)
    session.expire_all()
    assert authorities.get_authority(session, "kent").foi_email == "new.foi@example.org"


def test_one_bad_cell_imports_nothing_and_names_line_and_column(session):
    text = COUNCILS + "Solihull Council,council,,,,,not-an-email,,,\n"
    with pytest.raises(Invalid) as caught:
        run(session, text)
    assert [str(p) for p in caught.value.problems] == [
        "line 4, column foi_email: 'not-an-email' is not an email address: "
        "An email address must have an @-sign."
    ]
    session.rollback()
    assert count(session, Authority) == 0
    assert count(session, AuthoritySet) == 0
    assert count(session, AuditEntry) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("name,kind\n", "the file has a header but no rows"),
        ("name,type\nX,council\n", "line 1: unknown column 'type'"),
        ("kind\ncouncil\n", "line 1: the header has no 'name' column"),
        ("name,kind,name\nA,council,B\n", "line 1: column 'name' appears more than once"),
        ("name,kind\nA,council,extra\n", "line 2: has 3 cells but the header has 2"),
        ("name,kind\n,council\n", "line 2, column name: is required"),
        ("name,kind\nA,Big Council\n", "line 2, column kind: 'Big Council' must be lower-case"),
        ("name,kind,website\nA,council,ftp://x\n", "line 2, column website: 'ftp://x' is not a web"),
        ("name,kind\nA,council\nA,council\n", "line 3, column slug: 'a' is also on line 2"),
        ("name,kind\nØ,council\n", "line 2, column slug: no slug can be made from this name"),
        ("name,kind,active\nA,council,maybe\n", "line 2, column active: 'maybe' is not yes or no"),
        ('name,kind,note\nA,council,"two\nlines"\nB,Bad Kind,\n', "line 4, column kind"),
        ("name,kind\nA [_%] council,council\n", None),
        ("name,kind,sets\nA,council,england-wales\n", "line 2, column sets: 'england-wales' is a built-in"),
        ("name,kind,sets\nA,council,Big Set\n", "line 2, column sets: 'Big Set' is not a set name"),
        ("name,kind,code\nA,council,E23000016\n", "line 2, column code: 'E23000016' is already used"),
        ('name,kind\n"A,council\n', "the CSV cannot be read"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(session, text, expected):
    load_forces(session)
    authorities_before = count(session, Authority)
    if expected is None:  # odd but acceptable: imported, and found by a literal search
        run(session, text)
        assert [a.name for a in authorities.find_authorities(session, search="[_%")] == [
            "A [_%] council"
        ]
        assert authorities.find_authorities(session, search="_") == authorities.find_authorities(
            session, search="[_%"
        )
        return
    with pytest.raises(Invalid) as caught:
        run(session, text)
    assert expected in str(caught.value)
    session.rollback()
    assert count(session, Authority) == authorities_before


def test_slugs_of_the_police_registry_are_kept_even_before_it_is_loaded(session):
    with pytest.raises(Invalid, match="line 2, column slug: 'kent' is kept for Kent Police"):
        run(session, "slug,name,kind\nkent,Kent County Council,council\n")


def test_a_file_that_is_not_utf8_is_refused_with_advice(session):
    with pytest.raises(Invalid, match="not UTF-8 text.*CSV UTF-8"):
        run(session, "name,kind\nCaf\u00e9 Council,council\n".encode("cp1252"))


def test_a_byte_order_mark_from_excel_is_accepted(session):
    report = run(session, "\ufeffname,kind\nBristol City Council,council\n")
    assert report.created == ["bristol-city-council"]


def test_accented_names_get_plain_slugs_and_match_searches_without_accents(session):
    report = run(session, "name,kind,former_names\nCyngor Sir Ynys Môn,council,Ynys Môn Council\n")
    assert report.created == ["cyngor-sir-ynys-mon"]
    assert [a.slug for a in authorities.find_authorities(session, search="ynys mon council")] == [
        "cyngor-sir-ynys-mon"
    ]


def test_an_export_imports_back_unchanged(session):
    from foitrack.exporters.authorities import authority_row, write_csv

    load_forces(session)
    run(session, COUNCILS.replace("Coventry City Council,", "=HYPERLINK(\"x\") Council,"))
    session.commit()
    before = [a.snapshot() for a in authorities.find_authorities(session)]
    out = io.StringIO()
    write_csv([authority_row(a) for a in authorities.find_authorities(session)], out)
    assert "'=HYPERLINK" in out.getvalue()  # protected from spreadsheets
    report = run(session, out.getvalue())
    assert report.created == [] and report.updated == []
    assert len(report.unchanged) == 50
    assert [a.snapshot() for a in authorities.find_authorities(session)] == before


cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=cells, kind=cells, email=cells, website=cells)
def test_any_cell_text_either_imports_or_is_refused_cleanly(session, name, kind, email, website):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "kind", "foi_email", "website"])
    writer.writerow([name, kind, email, website])
    try:
        report = run(session, out.getvalue())
    except Invalid as error:
        assert error.problems, "an Invalid must say what is wrong"
        session.rollback()
        assert count(session, Authority) == 0
    else:
        assert len(report.created) == 1
        created = authorities.get_authority(session, report.created[0])
        assert created.slug and created.name == name.strip()
        session.rollback()


def test_a_former_name_is_not_taken_for_a_new_authority(session):
    load_forces(session)
    with pytest.raises(Invalid, match="'Hampshire Constabulary' is a former name of Hampshire and Isle"):
        run(session, "name,kind\nHampshire Constabulary,territorial-police\n")


def test_a_row_with_a_slug_can_rename_an_authority(session):
    load_forces(session)
    report = run(session, "slug,name,kind\nsussex,Sussex Constabulary,territorial-police\n")
    session.commit()
    assert report.updated == ["sussex"]
    sussex = authorities.get_authority(session, "sussex")
    assert sussex.name == "Sussex Constabulary"
    assert "Sussex Police" in sussex.former_names
