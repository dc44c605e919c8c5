"""Entering, checking, importing and exporting figures."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from foitrack.errors import Forbidden, Invalid
from foitrack.models import AuditEntry, Figure
from foitrack.services import figures, requests
from foitrack.services.design import create_from_file
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user

HEADER = "authority,measure,period,dimension,category,value,caveat,source\n"


@pytest.fixture
def campaign(session):
    load_forces(session)
    found = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace("[[dimensions]]", """
[[periods]]
key = "2017-18"
label = "2017/18"
start = 2017-04-01
end = 2018-03-31
[[dimensions]]"""))
    session.commit()
    return found


def entry(value, category=None, cell="c"):
    return figures.Entry("offences", "2018-19", "platform" if category else None, category, value,
                         cell=cell)


def count(session):
    return session.scalar(select(func.count()).select_from(Figure))


def test_a_grid_is_saved_all_or_nothing(session, campaign):
    request = requests.get_request(session, campaign.slug, "west-mercia")
    with pytest.raises(Invalid) as caught:
        figures.save_figures(session, TEST_ACTOR, request, [
            entry("122", cell="a"), entry("<5", "Instagram", cell="b"), entry("lots", "Snapchat", cell="c"),
            entry("3", "TikTok", cell="d"),
        ])
    assert {p.field for p in caught.value.problems} == {"c", "d"}
    session.rollback()
    assert count(session) == 0
    report = figures.save_figures(session, TEST_ACTOR, request, [
        entry("122"), entry("<5", "instagram"), entry("not recorded", "Snapchat")])
    session.commit()
    assert (report.created, count(session)) == (3, 3)


def test_changing_a_checked_figure_clears_the_check_and_is_recorded(session, campaign):
    enterer, checker = make_user(session), make_user(session)
    request = requests.get_request(session, campaign.slug, "west-mercia")
    figures.save_figures(session, TEST_ACTOR, request, [entry("122")], user=enterer)
    session.commit()
    stored = list(figures.figures_of(session, request).values())
    with pytest.raises(Forbidden, match="a second researcher must check"):
        figures.check_figures(session, TEST_ACTOR, stored, enterer)
    assert figures.check_figures(session, TEST_ACTOR, stored, checker) == 1
    session.commit()
    report = figures.save_figures(session, TEST_ACTOR, request, [entry("123")], user=enterer)
    session.commit()
    assert (report.changed, report.unchecked) == (1, 1)
    assert stored[0].checked_by is None
    update = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "figure",
                                                      AuditEntry.action == "update")).one()
    assert update.before["value"] == "122" and update.after["value"] == "123"


def test_csv_import_finds_authorities_by_any_name(session, campaign):
    text = HEADER + (
        "E23000016,offences,2018-19,,,122,,letter p.2\n"
        "West Midlands Police,offences,2018-19,,,300,,\n"
        "Hampshire Constabulary,offences,2018-19,,,80,,\n"  # a former name
        "Sussex,offences,2018-19,platform,Instagram,<5,Small numbers suppressed,table 2\n"
    )
    report = figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(text.encode()))
    session.commit()
    assert report.created == 4
    rows = figures.export_rows(session, campaign)
    assert [r["authority"] for r in rows] == ["E23000030", "E23000033", "E23000016", "E23000014"]
    assert rows[1]["value"] == "<5" and rows[1]["caveat"] == "Small numbers suppressed"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Atlantis Police,offences,2018-19,,,1,,", "line 3, column authority: 'Atlantis Police' is not"),
        ("Kent,offences,2019-20,,,1,,", "line 3, column period: no period '2019-20'"),
        ("Kent,crimes,2018-19,,,1,,", "line 3, column measure: no measure 'crimes'"),
        ("Kent,offences,2018-19,platform,TikTok,1,,", "line 3, column category: 'TikTok' is not a"),
        ("Kent,offences,2018-19,,,-1,,", "line 3, column value: '-1': a count cannot be negative"),
        ("Kent,offences,2018-19,,,,,", "line 3, column value: is empty"),
        ("E23000016,offences,2018-19,,,5,,", "line 3, column value: the same figure is also on line 2"),
        ("Kent,offences,2018-19,,,1", "line 3: has 6 cells but the header has 8"),
    ],
)
def test_one_bad_row_imports_nothing(session, campaign, line, expected):
    text = HEADER + "E23000016,offences,2018-19,,,122,,\n" + line + "\n"
    with pytest.raises(Invalid) as caught:
        figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(text.encode()))
    assert expected in str(caught.value)
    session.rollback()
    assert count(session) == 0


def test_export_then_import_gives_the_same_figures(session, campaign):
    text = HEADER + (
        "E23000016,offences,2018-19,,,122,\"Keyword search, so may undercount\",letter\n"
        "E23000016,offences,2017-18,,,73,,letter\n"
        "E23000016,offences,2018-19,platform,WhatsApp,1-4,,table\n"
        "E23000016,offences,2018-19,platform,Other,withheld s.40(2),=cmd,table\n"
        "Kent,offences,2018-19,platform,Not recorded,not held,,\n"
    )
    figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(text.encode()))
    session.commit()
    first = figures.export_rows(session, campaign)
    out = io.StringIO()
    figures.write_csv(first, out)
    assert "'=cmd" in out.getvalue()
    report = figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(out.getvalue().encode()))
    assert (report.created, report.changed, report.unchanged) == (0, 0, 5)
    assert figures.export_rows(session, campaign) == first


BATCHED_ROWS = (
    "E23000016,offences,2018-19,,,122,,letter\n"
    "E23000016,offences,2017-18,,,73,,letter\n"
    "Kent,offences,2018-19,platform,Instagram,<5,Small numbers,table 2\n"
    "Kent,offences,2018-19,,,300,,\n"
    "Sussex,offences,2018-19,platform,Other,not recorded,,\n"
)


def test_an_import_written_in_batches_keeps_every_figure_and_its_history(
        session, campaign, monkeypatch):
    monkeypatch.setattr(figures, "_BATCH", 2)
    report = figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        (HEADER + BATCHED_ROWS).encode()))
    session.commit()
    assert (report.created, count(session)) == (5, 5)
    created = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "figure", AuditEntry.action == "create")).all()
    by_figure = {int(e.entity_id): e.after["value"] for e in created}
    assert by_figure == {f.id: f.figure_value.text for f in session.scalars(select(Figure))}
    assert sorted(by_figure.values()) == ["122", "300", "73", "<5", "not recorded"]

    changed = BATCHED_ROWS.replace(",300,", ",301,").replace(",73,", ",74,")
    report = figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        (HEADER + changed).encode()))
    assert (report.created, report.changed, report.unchanged) == (0, 2, 3)
    assert sorted(f.figure_value.text for f in session.scalars(select(Figure))) == [
        "122", "301", "74", "<5", "not recorded"]


def test_a_problem_after_batches_were_written_imports_nothing(session, campaign, monkeypatch):
    monkeypatch.setattr(figures, "_BATCH", 1)
    text = HEADER + BATCHED_ROWS + "Kent,offences,2017-18,,,lots,,\n"
    with pytest.raises(Invalid) as caught:
        figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(text.encode()))
    assert str(caught.value.problems[0]).startswith("line 7, column value: 'lots'")
    session.rollback()
    assert count(session) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "figure")) == 0


def test_a_figure_given_three_times_names_the_line_before_each(session, campaign):
    text = HEADER + ("Kent,offences,2018-19,platform,Instagram,1,,\n"
                     "Kent,offences,2018-19,platform,instagram,2,,\n"
                     "Kent,offences,2018-19,platform,INSTAGRAM,3,,\n")
    with pytest.raises(Invalid) as caught:
        figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(text.encode()))
    assert [str(p) for p in caught.value.problems] == [
        "line 3, column value: the same figure is also on line 2",
        "line 4, column value: the same figure is also on line 3",
    ]


def test_a_file_with_old_mac_line_endings_imports(session, campaign):
    text = (HEADER + BATCHED_ROWS).replace("\n", "\r")
    report = figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(text.encode()))
    assert report.created == 5


def test_a_byte_that_is_not_utf8_is_named_and_nothing_imported(session, campaign):
    data = (HEADER + BATCHED_ROWS).encode() + b"Kent,offences,2017-18,,,1,caf\xe9,\n"
    with pytest.raises(Invalid, match=rf"byte {len((HEADER + BATCHED_ROWS).encode()) + 30}\)"):
        figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(data))
    session.rollback()
    assert count(session) == 0


def test_an_imported_figure_is_stored_as_a_saved_one(session, campaign):
    """The import writes through the driver; its rows must hold exactly what SQLAlchemy would
    write (timestamps' text on SQLite, JSON null, the kind), as a figure saved from the grid."""
    from sqlalchemy import text

    request = requests.get_request(session, campaign.slug, "kent")
    figures.save_figures(session, TEST_ACTOR, request, [entry("5")])
    figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        (HEADER + "E23000016,offences,2018-19,,,7,,\n").encode()))
    session.commit()
    raw = session.execute(text(
        "SELECT f.kind, f.entered_at, f.updated_at, a.at, a.before, a.after FROM figure f "
        "JOIN audit_entry a ON a.entity_id = CAST(f.id AS VARCHAR(100)) "
        "AND a.entity_type = 'figure' ORDER BY f.value")).all()
    saved, imported = raw

    def shape(value):
        return (type(value), len(value), "+" in value) if isinstance(value, str) else type(value)

    assert [shape(v) for v in imported[:5]] == [shape(v) for v in saved[:5]]
    assert imported[0] == saved[0] == "exact"
    assert session.scalars(select(AuditEntry.after).order_by(AuditEntry.id)).all()[-1] == {
        "value": "7", "caveat": None, "source": None, "checked_by": None}
