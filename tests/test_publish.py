"""Published releases: frozen, versioned, re-exported byte for byte, corrections offered."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sqlite3
import time
from pathlib import Path

import pytest
from frictionless import validate
from sqlalchemy import select

from foitrack.cli import AppLoader, main
from foitrack.errors import Conflict, Invalid
from foitrack.models import Figure, PublishedRelease, StoredFile
from foitrack.services import publishing
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.services.requests import add_event, get_request
from foitrack.storage import FileStore
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces

TODAY = dt.date(2019, 6, 10)
NOW = dt.datetime(2019, 6, 10, 9, 30, tzinfo=dt.UTC)
SMALL = EXAMPLE_DESIGN.replace('authorities = "england-wales"',
                               'authorities = ["E23000016", "E23000032"]')
FIGURES = (b"authority,measure,period,dimension,category,value,caveat,source\n"
           b"E23000016,offences,2018-19,,,122,Keyword search,letter p.2\n"
           b"E23000016,offences,2018-19,platform,Instagram,<5,,table 1\n"
           b"E23000032,offences,2018-19,,,200,,letter\n")


def answered_campaign(session):
    """Two forces' figures, Kent's request sent and answered; not committed."""
    load_forces(session)
    made = create_from_file(session, TEST_ACTOR, SMALL)
    import_csv(session, TEST_ACTOR, made, io.BytesIO(FIGURES))
    kent = get_request(session, made.slug, "kent")
    add_event(session, TEST_ACTOR, kent, "sent", dt.date(2019, 5, 1), today=TODAY)
    add_event(session, TEST_ACTOR, kent, "response", dt.date(2019, 6, 3), today=TODAY,
              outcome="provided")
    return made


@pytest.fixture
def campaign(session):
    made = answered_campaign(session)
    session.commit()
    return made


def publish(session, campaign, **options):
    options.setdefault("title", "Online grooming: 2018/19")
    options.setdefault("now", NOW)
    release = publishing.publish(session, TEST_ACTOR, campaign, today=TODAY, **options)
    session.commit()
    return release


def hashes(written):
    return {item.path.name: item.sha256 for item in written}


def change_west_mercia_total(session, campaign, value):
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        + f"E23000016,offences,2018-19,,,{value},Keyword search,letter p.2\n".encode()))
    session.commit()


def test_a_release_exported_again_later_is_byte_identical(session, campaign, tmp_path):
    release = publish(session, campaign)
    first = publishing.write_files(release, tmp_path / "first")
    change_west_mercia_total(session, campaign, 130)  # the live data moves on
    # Later by more than a zip's two-second clock: openpyxl stamps the time of saving into the
    # XLSX (its properties, and each entry's date), which the release's files must not show.
    time.sleep(2.1)
    session.expire_all()
    again = publishing.get_release(session, campaign, 1)
    second = publishing.write_files(again, tmp_path / "second")
    assert hashes(first) == hashes(second)
    names = {item.path.relative_to(tmp_path / "first").as_posix() for item in first}
    assert {"grooming-2019-v1.sqlite", "grooming-2019-v1.xlsx", "datapackage/datapackage.json",
            "datapackage/data/figures.csv", "methods.html", "CITATION.cff", "citation.txt",
            "release.json", "SHA256SUMS"} <= names
    for item in second:  # what was printed is what is on disk
        assert hashlib.sha256(item.path.read_bytes()).hexdigest() == item.sha256


def test_the_database_holds_the_frozen_tables(session, campaign, tmp_path):
    release = publish(session, campaign)
    publishing.write_files(release, tmp_path)
    with sqlite3.connect(tmp_path / "grooming-2019-v1.sqlite") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master "
                                                 "WHERE type = 'table'")}
        assert {"figures", "authorities", "requests", "aggregate", "changes",
                "release_lines"} <= tables
        assert db.execute(
            "SELECT value, caveat, source, request_reference FROM figures "
            "WHERE authority_code = 'E23000016' AND category = ''").fetchone() == (
            122, "Keyword search", "letter p.2", "")
        assert db.execute("SELECT sent_on, due, responded_on, days_taken FROM requests "
                          "WHERE authority_code = 'E23000032'").fetchone() == (
            "2019-05-01", "2019-05-31", "2019-06-03", 21)
        assert db.execute("SELECT code, name FROM authorities ORDER BY code").fetchall() == [
            ("E23000016", "West Mercia Police"), ("E23000032", "Kent Police")]
        assert db.execute("SELECT total FROM aggregate WHERE level = 'total'").fetchone() == (322,)


def test_a_figure_changed_after_publication_is_a_candidate_correction(session, campaign):
    publish(session, campaign)
    assert publishing.candidate_corrections(session, campaign, today=TODAY) == []
    change_west_mercia_total(session, campaign, 130)
    corrections = publishing.candidate_corrections(session, campaign, today=TODAY)
    assert [(c.change, c.key["authority_code"], c.fields) for c in corrections] == [
        ("changed", "E23000016", ("value",))]
    assert corrections[0].published["value"] == 122 and corrections[0].live["value"] == 130
    # The published release keeps what was published.
    session.expire_all()
    content = publishing.content_of(publishing.get_release(session, campaign, 1))
    figures = next(t for t in content["tables"] if t["name"] == "figures")
    assert 122 in [row[9] for row in figures["rows"]] and 130 not in [row[9] for row in figures["rows"]]


def test_versions_go_up_and_a_correction_needs_a_note(session, campaign):
    assert publish(session, campaign).version == 1
    change_west_mercia_total(session, campaign, 130)
    with pytest.raises(Invalid) as refused:
        publish(session, campaign)
    assert refused.value.problems[0].field == "note"
    session.rollback()
    second = publish(session, campaign, note="West Mercia corrected its total to 130.")
    assert second.version == 2
    assert publishing.candidate_corrections(session, campaign, today=TODAY) == []
    assert [r.version for r in publishing.releases(session, campaign)] == [1, 2]


def test_a_published_release_is_never_changed(session, campaign):
    release = publish(session, campaign)
    release.title = "Something else"
    with pytest.raises(Conflict):
        session.flush()
    session.rollback()
    assert session.scalar(select(PublishedRelease.title)) == "Online grooming: 2018/19"


def test_a_subset_release_holds_only_its_authorities(session, campaign):
    release = publish(session, campaign, authorities="E23000032")
    content = publishing.content_of(release)
    assert content["authority_codes"] == ["E23000032"]
    figures = next(t for t in content["tables"] if t["name"] == "figures")
    assert {row[0] for row in figures["rows"]} == {"E23000032"}


def test_a_document_is_named_only_when_ticked(session, campaign):
    with_reply, without = session.scalars(select(Figure).order_by(Figure.id)).all()[:2]
    with pytest.raises(Invalid) as refused:
        publish(session, campaign, documents=[without.id])  # it has no reply document
    assert refused.value.problems[0].field == "documents"
    session.rollback()
    for figure in session.scalars(select(Figure)):
        figure.source_file = StoredFile(sha256="0" * 64, filename=f"reply-{figure.id}.xlsx",
                                        size=1, content_type="application/octet-stream",
                                        created_by="tests")
    session.commit()
    content = publishing.content_of(publish(session, campaign, documents=[with_reply.id]))
    figures = next(t for t in content["tables"] if t["name"] == "figures")
    named = [row[-1] for row in figures["rows"] if row[-1]]
    assert named == [f"reply-{with_reply.id}.xlsx"]  # the others stay unpublished


def test_the_data_package_validates(session, campaign, tmp_path):
    release = publish(session, campaign, base_url="https://foi.example.org")
    publishing.write_files(release, tmp_path)
    descriptor = tmp_path / "datapackage" / "datapackage.json"
    report = validate(str(descriptor))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads(descriptor.read_text())
    assert package["version"] == "1.0.0"
    assert package["id"] == "https://foi.example.org/data/grooming-2019/v1/"
    assert package["licenses"][0]["name"] == "OGL-UK-3.0"
    for resource in package["resources"]:
        assert all(f["description"] for f in resource["schema"]["fields"]), resource["name"]
    figures = next(r for r in package["resources"] if r["name"] == "figures")
    assert {"resource": "authorities", "fields": ["code"]} in [
        k["reference"] for k in figures["schema"]["foreignKeys"]]
    cff = (tmp_path / "CITATION.cff").read_text()
    assert 'version: "1"' in cff and "date-released: 2019-06-10" in cff


def invoke(app, runner, *args):
    return runner.invoke(main, ["publish", *args], obj=AppLoader(lambda: app))


def test_the_command_prints_each_file_with_its_hash(app, runner, session, campaign,
                                                   instance_path):
    result = invoke(app, runner, "grooming-2019", "--title", "Online grooming",
                    "--embargo-until", "2019-09-20 00:01")
    assert result.exit_code == 0, result.output
    folder = instance_path / "releases" / "grooming-2019" / "v1"
    printed = dict(reversed(line.split("  ", 1)) for line in result.output.splitlines()[1:])
    assert str(folder / "grooming-2019-v1.sqlite") in printed
    for path, digest in printed.items():
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == digest
    session.expire_all()
    release = session.scalar(select(PublishedRelease))
    # UK time: 00:01 BST is 23:01 UTC the day before.
    assert release.embargo_until == dt.datetime(2019, 9, 19, 23, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(("args", "message"), [
    (["nowhere", "--title", "T"], "nowhere"),
    (["grooming-2019", "--title", "T", "--embargo-until", "20 Sept"], "--embargo-until"),
    (["grooming-2019", "--title", "T", "--authorities", "E99999999"], "--authorities"),
    (["grooming-2019", "--title", " "], "--title"),
    (["grooming-2019", "--title", "T", "--document", "999999"], "--document"),
])
def test_bad_input_names_the_option_and_publishes_nothing(app, runner, session, campaign,
                                                          instance_path, args, message):
    result = invoke(app, runner, *args)
    assert result.exit_code == 1
    assert message in result.output and "nothing was published" in result.output, result.output
    session.expire_all()
    assert session.scalar(select(PublishedRelease)) is None
    assert not (instance_path / "releases").exists()


def test_each_force_has_its_fact_sheet(session, campaign, tmp_path):
    release = publish(session, campaign)
    publishing.write_files(release, tmp_path)
    with sqlite3.connect(tmp_path / "grooming-2019-v1.sqlite") as db:
        lines = db.execute("SELECT text FROM fact_sheets WHERE authority_code = 'E23000032' "
                           "ORDER BY line").fetchall()
    assert lines and "Kent Police" in lines[0][0]


def test_the_command_refuses_a_second_version_without_a_note(app, runner, session, campaign):
    assert invoke(app, runner, "grooming-2019", "--title", "T").exit_code == 0
    result = invoke(app, runner, "grooming-2019", "--title", "T")
    assert result.exit_code == 1 and "--note" in result.output, result.output
    result = invoke(app, runner, "grooming-2019", "--title", "T", "--note", "Kent corrected.")
    assert result.exit_code == 0, result.output
    assert "version 2" in result.output.splitlines()[0]


def test_two_publishers_of_the_same_version_clash(session, campaign, monkeypatch):
    publish(session, campaign)
    # As if another session had read "no release yet" just before this one committed v1.
    monkeypatch.setattr(publishing, "latest", lambda *_: None)
    with pytest.raises(Conflict, match="published at the same time"):
        publish(session, campaign)


@pytest.mark.parametrize(("given", "utc"), [
    ("2019-09-20 00:01", dt.datetime(2019, 9, 19, 23, 1, tzinfo=dt.UTC)),  # BST
    ("2019-12-20 00:01", dt.datetime(2019, 12, 20, 0, 1, tzinfo=dt.UTC)),  # GMT
    # 01:30 happens twice on 27 October 2019: the later one, so nothing is out early.
    ("2019-10-27 01:30", dt.datetime(2019, 10, 27, 1, 30, tzinfo=dt.UTC)),
    ("2019-09-20T00:01+00:00", dt.datetime(2019, 9, 20, 0, 1, tzinfo=dt.UTC)),
])
def test_an_embargo_time_without_an_offset_is_uk_time(given, utc):
    assert publishing.parse_embargo(given) == utc


def test_the_command_publishes_a_ticked_document_as_a_file(app, runner, session, campaign,
                                                          instance_path):
    ticked = session.scalars(select(Figure).order_by(Figure.id)).first()
    data = b"%PDF-1.4 the force's reply"
    ticked.source_file = StoredFile(sha256=FileStore(app.config["STORAGE_PATH"]).put(data),
                                    filename="reply.pdf", size=len(data),
                                    content_type="application/pdf", created_by="tests")
    session.commit()
    result = invoke(app, runner, "grooming-2019", "--title", "Online grooming",
                    "--document", str(ticked.id))
    assert result.exit_code == 0, result.output
    written = instance_path / "releases" / "grooming-2019" / "v1" / "documents" / "reply.pdf"
    assert written.read_bytes() == data
    assert f"{hashlib.sha256(data).hexdigest()}  {written}" in result.output


def test_a_release_carries_datacite_metadata_to_deposit_it_for_a_doi(session, campaign,
                                                                    tmp_path):
    first = publish(session, campaign, base_url="https://foi.example.org",
                    organisation="NSPCC")
    change_west_mercia_total(session, campaign, 130)
    second = publish(session, campaign, base_url="https://foi.example.org",
                     organisation="NSPCC", note="West Mercia corrected its figure")
    written = hashes(publishing.write_files(second, tmp_path))
    assert "datacite.json" in publishing.release_file_names(publishing.content_of(second))
    sums = (tmp_path / "SHA256SUMS").read_text()
    assert f"{written['datacite.json']}  datacite.json\n" in sums
    meta = json.loads((tmp_path / "datacite.json").read_text())
    assert meta["types"]["resourceTypeGeneral"] == "Dataset"
    assert meta["creators"] == [{"name": "NSPCC", "nameType": "Organizational"}]
    assert meta["titles"] == [{"title": "Online grooming: 2018/19"}]
    assert (meta["version"], meta["publicationYear"]) == ("2", "2019")
    assert meta["dates"] == [{"date": "2019-06-10", "dateType": "Issued"}]
    assert meta["url"] == "https://foi.example.org/data/grooming-2019/v2/"
    assert meta["rightsList"][0]["rightsIdentifier"] == "OGL-UK-3.0"
    # The version it corrects, by its stable address.
    assert meta["relatedIdentifiers"] == [{
        "relatedIdentifier": "https://foi.example.org/data/grooming-2019/v1/",
        "relatedIdentifierType": "URL", "relationType": "IsNewVersionOf"}]
    assert {d["descriptionType"] for d in meta["descriptions"]} == {"Abstract", "Methods"}
    first_meta = publishing.write_files(first, tmp_path / "v1")
    assert "relatedIdentifiers" not in json.loads((tmp_path / "v1" / "datacite.json").read_text())
    assert any(item.path.name == "datacite.json" for item in first_meta)
