"""The publish page (/campaigns/<slug>/publish) and the reply documents a release publishes:
the checklist, the versions with their files, the candidate corrections, the form and its
errors, who may use it, and a ticked document served by the portal (an unticked one never)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from foitrack.errors import Invalid
from foitrack.models import CampaignMember, Figure, PublishedRelease, StoredFile
from foitrack.services import publishing
from foitrack.services.figures import import_csv
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, make_user
from tests.pages import csrf_token, sign_in
from tests.test_publish import answered_campaign

TODAY = dt.date(2019, 6, 10)
SLUG = "grooming-2019"
URL = f"/campaigns/{SLUG}/publish"
# 00:01 UK time on 20 September 2019 (summer time): 23:01 UTC the day before.
LIFTED = dt.datetime(2019, 9, 19, 23, 1, tzinfo=dt.UTC)
WEST_MERCIA_LETTER = b"%PDF-1.4 West Mercia's reply"
KENT_LETTER = b"%PDF-1.4 Kent's reply"


def store(app):
    return FileStore(app.config["STORAGE_PATH"])


def keep(app, data, filename):
    return StoredFile(sha256=store(app).put(data), filename=filename, size=len(data),
                      content_type="application/pdf", created_by="tests")


@pytest.fixture
def campaign(app, session):
    """West Mercia's two figures from one letter, Kent's one from its own letter of the same
    name; the clock fixed before the embargo used below lifts."""
    app.config["TODAY"] = TODAY
    app.config["NOW"] = dt.datetime(2019, 6, 10, 9, 30, tzinfo=dt.UTC)
    made = answered_campaign(session)
    first, second, kent = session.scalars(select(Figure).order_by(Figure.id)).all()
    first.source_file = second.source_file = keep(app, WEST_MERCIA_LETTER, "letter.pdf")
    kent.source_file = keep(app, KENT_LETTER, "Letter.pdf")
    session.commit()
    return made


def signed_in(app, session, role="researcher"):
    client = app.test_client()
    assert sign_in(client, make_user(session, role=role).email).status_code == 302
    return client


def file_ids(session):
    """(West Mercia's letter, Kent's letter) by their stored file ids."""
    rows = session.execute(select(Figure.source_file_id).order_by(Figure.id)).scalars().all()
    return rows[0], rows[2]


def post(client, **fields):
    data = {"title": "Online grooming: 2018/19", "authorities": "all",
            "organisation": "foitrack", "csrf_token": csrf_token(client, URL), **fields}
    return client.post(URL, data=data)


def published(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(PublishedRelease))


def error_summary(page):
    match = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert match, "no error summary"
    return match.group(0)


def test_the_page_lists_what_to_look_at_and_ticks_no_document(app, session, campaign):
    page = signed_in(app, session).get(URL).get_data(as_text=True)
    assert "Nothing published yet." in page and "Publish version 1" in page
    assert "3 figures entered" in page
    assert "3 figures not yet checked by a second researcher" in page
    assert "1 force of 2 not answered: West Mercia Police" in page
    assert re.search(r"\d+ consistency findings? open|No consistency finding open", page)
    assert "RIGHT OF REPLY" not in page  # the lead's place is a comment, not shown
    boxes = re.findall(r'<input[^>]*name="documents"[^>]*>', page)
    assert len(boxes) == 2 and not any("checked" in box for box in boxes)
    assert "West Mercia Police: letter.pdf" in page and "Kent Police: Letter.pdf" in page


def test_publishing_from_the_page_shows_the_new_version_with_its_files(app, session, campaign):
    client = signed_in(app, session)
    response = post(client, **{"embargo_until-day": "20", "embargo_until-month": "9",
                               "embargo_until-year": "2019", "embargo_time": "00:01"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{URL}#version-1")
    session.expire_all()
    release = publishing.get_release(session, campaign, 1)
    assert release.embargo_until == LIFTED  # UK time: 23:01 UTC the day before
    page = client.get(URL).get_data(as_text=True)
    assert 'id="version-1"' in page and "Version 1: Online grooming: 2018/19" in page
    assert "10 Jun 2019 10:30 BST by researcher" in page  # published at NOW, in UK time
    assert "until 20 Sep 2019 00:01 BST" in page and "Embargoed" in page
    assert f'href="/data/{SLUG}/v1/"' not in page  # not public yet: no link
    folder = publishing.release_folder(Path(app.instance_path) / "releases", release)
    for name in publishing.release_file_names(publishing.content_of(release)):
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert f"<td>{name}</td><td><code>{digest}</code></td>" in page, name
    assert "Publish version 2" in page and "No figure differs from the latest version." in page
    app.config["NOW"] = LIFTED
    page = client.get(URL).get_data(as_text=True)
    assert f'href="/data/{SLUG}/v1/"' in page and "Public" in page


def test_a_changed_figure_is_offered_as_a_correction_and_v2_needs_a_note(app, session,
                                                                         campaign):
    client = signed_in(app, session)
    assert post(client).status_code == 302
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,,,130,Keyword search,letter p.2\n"))
    session.commit()
    page = client.get(URL).get_data(as_text=True)
    assert "E23000016 offences 2018-19: value 122 -&gt; 130" in page
    refused = post(client)
    assert refused.status_code == 400
    summary = error_summary(refused.get_data(as_text=True))
    assert 'href="#note"' in summary and "version 2 needs a note" in summary
    assert published(session) == 1
    assert post(client, note="West Mercia corrected its total.").status_code == 302
    page = client.get(URL).get_data(as_text=True)
    assert "West Mercia corrected its total." in page and 'id="version-2"' in page
    assert published(session) == 2


@pytest.mark.parametrize(("fields", "anchor", "message"), [
    ({"title": " "}, "title", "Enter the release&#39;s title"),
    ({"authorities": "codes", "authority_codes": "E99999999"}, "authorities", "E99999999"),
    ({"authorities": "codes"}, "authority_codes", "at least one authority"),
    ({"authorities": "set"}, "authority_set", "Choose a set"),
    ({"embargo_until-day": "31", "embargo_until-month": "2", "embargo_until-year": "2019",
      "embargo_time": "00:01"}, "embargo_until-day", "Embargo date"),
    ({"embargo_until-day": "20", "embargo_until-month": "9", "embargo_until-year": "2019"},
     "embargo_time", "Enter the time the embargo lifts"),
    ({"embargo_until-day": "20", "embargo_until-month": "9", "embargo_until-year": "2019",
      "embargo_time": "25:00"}, "embargo_time", "Enter a time such as 00:01"),
    ({"embargo_time": "00:01"}, "embargo_until-day", "Enter the date the embargo lifts"),
    ({"organisation": ""}, "organisation", "Say who publishes it"),
    ({"documents": "999999"}, "documents", "Reply documents to publish"),
])
def test_bad_input_names_the_field_and_publishes_nothing(app, session, campaign, fields,
                                                         anchor, message):
    client = signed_in(app, session)
    response = post(client, **fields)
    assert response.status_code == 400
    summary = error_summary(response.get_data(as_text=True))
    assert f'href="#{anchor}"' in summary and message in summary, summary
    assert published(session) == 0
    assert not (Path(app.instance_path) / "releases").exists()


def test_a_viewer_may_not_use_the_page(app, session, campaign):
    client = signed_in(app, session, role="viewer")
    assert client.get(URL).status_code == 403
    token = csrf_token(client, f"/campaigns/{SLUG}")
    assert client.post(URL, data={"title": "T", "csrf_token": token}).status_code == 403
    assert published(session) == 0


def test_a_signed_out_visitor_is_sent_to_sign_in(app, session, campaign):
    response = app.test_client().get(URL)
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_an_embargoed_campaign_s_page_is_unknown_to_a_researcher_outside_it(app, session,
                                                                          campaign):
    owner, member = make_user(session), make_user(session)
    campaign.owner_id = owner.id
    campaign.embargo_until = TODAY + dt.timedelta(days=30)
    session.add(CampaignMember(campaign_id=campaign.id, user_id=member.id, added_by="tests"))
    session.commit()
    outsider = signed_in(app, session)
    assert outsider.get(URL).status_code == 404
    token = csrf_token(outsider, "/campaigns/")
    assert outsider.post(URL, data={"title": "T", "csrf_token": token}).status_code == 404
    insider = app.test_client()
    assert sign_in(insider, member.email).status_code == 302
    assert insider.get(URL).status_code == 200


def test_the_campaign_page_s_release_task_links_to_the_page(app, session, campaign):
    page = signed_in(app, session).get(f"/campaigns/{SLUG}").get_data(as_text=True)
    assert f'id="publish-link" href="{URL}"' in page
    viewer = signed_in(app, session, role="viewer").get(f"/campaigns/{SLUG}")
    assert 'id="publish-link"' not in viewer.get_data(as_text=True)


# ---- the reply documents ticked, published with the release ------------------------------

def status(client, url):
    response = client.get(url)
    response.get_data()
    response.close()
    return response.status_code


def test_a_ticked_document_is_served_once_public_and_an_unticked_one_never(app, session,
                                                                         campaign):
    west_mercia, kent = file_ids(session)
    client = signed_in(app, session)
    response = post(client, documents=str(west_mercia),
                    **{"embargo_until-day": "20", "embargo_until-month": "9",
                       "embargo_until-year": "2019", "embargo_time": "00:01"})
    assert response.status_code == 302
    session.expire_all()
    content = publishing.content_of(publishing.get_release(session, campaign, 1))
    assert content["documents"] == [{
        "name": "documents/letter.pdf", "size": len(WEST_MERCIA_LETTER),
        "sha256": hashlib.sha256(WEST_MERCIA_LETTER).hexdigest()}]
    figures = publishing.table_rows(content, "figures")
    assert sorted((row["authority_code"], row["source_document"]) for row in figures) == [
        ("E23000016", "letter.pdf"), ("E23000016", "letter.pdf"), ("E23000032", "")]
    digest = hashlib.sha256(WEST_MERCIA_LETTER).hexdigest()
    assert f"<td>documents/letter.pdf</td><td><code>{digest}</code></td>" in \
        client.get(URL).get_data(as_text=True)
    portal = app.test_client()
    served = f"/data/{SLUG}/v1/files/documents/letter.pdf"
    assert status(portal, served) == 404  # embargoed
    app.config["NOW"] = LIFTED
    response = portal.get(served)
    assert response.status_code == 200 and response.data == WEST_MERCIA_LETTER
    # A download of bytes, whatever the force sent: never a page opened under the site.
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "attachment; filename=letter.pdf"
    for name in ("documents/Letter.pdf", "documents/letter-2.pdf", "Letter.pdf",
                 "documents/" + hashlib.sha256(KENT_LETTER).hexdigest()):
        assert status(portal, f"/data/{SLUG}/v1/files/{name}") == 404, name
    sums = portal.get(f"/data/{SLUG}/v1/files/SHA256SUMS").get_data(as_text=True)
    assert f"{hashlib.sha256(WEST_MERCIA_LETTER).hexdigest()}  documents/letter.pdf\n" in sums
    assert KENT_LETTER not in b"".join(
        p.read_bytes() for p in (Path(app.instance_path) / "releases").rglob("*") if p.is_file())


def test_two_documents_of_one_name_are_both_published_apart(app, session, campaign, tmp_path):
    figure_ids = session.scalars(select(Figure.id).order_by(Figure.id)).all()
    release = publishing.publish(session, TEST_ACTOR, campaign, title="T", today=TODAY,
                                 documents=figure_ids)
    written = publishing.write_files(release, tmp_path, store(app))
    content = publishing.content_of(release)
    # Ignoring case ("Letter.pdf", "letter.pdf"), as a Windows or macOS reader would.
    # The first by SHA-256 keeps its name; the other is numbered.
    kent_first = hashlib.sha256(KENT_LETTER).hexdigest() < hashlib.sha256(
        WEST_MERCIA_LETTER).hexdigest()
    assert sorted(d["name"] for d in content["documents"]) == sorted(
        ["documents/Letter.pdf", "documents/letter-2.pdf"] if kent_first
        else ["documents/Letter-2.pdf", "documents/letter.pdf"])
    by_name = {d["name"]: d["sha256"] for d in content["documents"]}
    for name, digest in by_name.items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest
    names = [item.path.relative_to(tmp_path).as_posix() for item in written]
    assert names == publishing.release_file_names(content)
    sources = {row["authority_code"]: row["source_document"]
               for row in publishing.table_rows(content, "figures")}
    assert by_name[f"documents/{sources['E23000032']}"] == hashlib.sha256(KENT_LETTER).hexdigest()


def test_a_release_with_documents_is_written_again_byte_for_byte(app, session, campaign,
                                                                 tmp_path):
    figure_ids = session.scalars(select(Figure.id).order_by(Figure.id)).all()
    release = publishing.publish(session, TEST_ACTOR, campaign, title="T", today=TODAY,
                                 documents=figure_ids[:1])
    session.commit()
    first = publishing.write_files(release, tmp_path / "first", store(app))
    # The live figure's document is replaced: the release keeps the one it published.
    session.get(Figure, figure_ids[0]).source_file = keep(app, b"another reply", "letter.pdf")
    session.commit()
    session.expire_all()
    again = publishing.write_files(publishing.get_release(session, campaign, 1),
                                   tmp_path / "second", store(app))
    assert [(f.path.name, f.sha256) for f in first] == [(f.path.name, f.sha256) for f in again]
    assert (tmp_path / "second" / "documents" / "letter.pdf").read_bytes() == WEST_MERCIA_LETTER


def test_a_document_lost_from_the_store_or_no_store_writes_nothing_silently(app, session,
                                                                           campaign, tmp_path):
    figure_ids = session.scalars(select(Figure.id).order_by(Figure.id)).all()
    release = publishing.publish(session, TEST_ACTOR, campaign, title="T", today=TODAY,
                                 documents=figure_ids[2:])
    with pytest.raises(Invalid) as refused:
        publishing.write_files(release, tmp_path / "none")
    assert refused.value.problems[0].field == "documents"
    path = Path(app.config["STORAGE_PATH"])
    digest = hashlib.sha256(KENT_LETTER).hexdigest()
    (path / digest[:2] / digest).unlink()
    with pytest.raises(Invalid, match="not in the file store"):
        publishing.write_files(release, tmp_path / "lost", store(app))


def test_a_document_of_an_authority_left_out_of_a_subset_is_not_published(app, session,
                                                                          campaign):
    figure_ids = session.scalars(select(Figure.id).order_by(Figure.id)).all()
    release = publishing.publish(session, TEST_ACTOR, campaign, title="T", today=TODAY,
                                 authorities="E23000032", documents=figure_ids)
    content = publishing.content_of(release)
    assert [d["sha256"] for d in content["documents"]] == [
        hashlib.sha256(KENT_LETTER).hexdigest()]


def test_a_release_of_the_first_format_is_still_read_and_written(app, session, campaign,
                                                                 tmp_path):
    release = publishing.publish(session, TEST_ACTOR, campaign, title="T", today=TODAY)
    content = publishing.content_of(release)
    assert content["format"] == publishing.CONTENT_FORMAT == 3
    # As version 1 of the format froze it: no "documents" key (nor format 3's datacite.json).
    old = {key: value for key, value in content.items() if key != "documents"}
    old["format"] = 1
    older = PublishedRelease(campaign_id=campaign.id, version=1, title="T", content=
                             publishing.canonical_json(old), content_sha256="", created_by="t",
                             checked_only=False)
    written = publishing.write_files(older, tmp_path)  # no store needed
    assert [item.path.relative_to(tmp_path).as_posix() for item in written] == \
        publishing.release_file_names(old)
    assert not any(name.startswith("documents/") for name in publishing.release_file_names(old))
    assert "datacite.json" not in publishing.release_file_names(old)
    assert not (tmp_path / "datacite.json").exists()
