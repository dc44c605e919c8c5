"""The public data portal (/data/): published releases past their embargo, and nothing else,
for signed-out visitors and signed-in users alike."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from foitrack.models import AuditEntry, Figure, PublishedRelease, StoredFile
from foitrack.services import publishing
from foitrack.services.figures import import_csv
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, make_user
from tests.pages import sign_in
from tests.test_publish import answered_campaign

TODAY = dt.date(2019, 6, 10)
PUBLISHED = dt.datetime(2019, 6, 10, 9, 30, tzinfo=dt.UTC)
# 00:01 UK time on 20 September 2019 (summer time): 23:01 UTC the day before.
EMBARGO = "2019-09-20 00:01"
LIFTED = dt.datetime(2019, 9, 19, 23, 1, tzinfo=dt.UTC)
SLUG = "grooming-2019"
WHO = ["signed-out", "viewer", "admin"]


@pytest.fixture
def campaign(app, session):
    made = answered_campaign(session)  # as the publishing tests' campaign
    # Every figure has a reply document; only the first is ticked for publication.
    for figure in session.scalars(select(Figure).order_by(Figure.id)):
        data = f"reply {figure.id}".encode()
        figure.source_file = StoredFile(sha256=store(app).put(data),
                                        filename=f"reply-{figure.id}.xlsx", size=len(data),
                                        content_type="application/octet-stream",
                                        created_by="tests")
    session.commit()
    return made


def publish(app, session, campaign, **options):
    """Publish as `foitrack publish` does: the release, then its files in the instance."""
    options.setdefault("title", "Online grooming: 2018/19")
    release = publishing.publish(session, TEST_ACTOR, campaign, today=TODAY, now=PUBLISHED,
                                 **options)
    publishing.write_files(release, publishing.release_folder(
        Path(app.instance_path) / "releases", release), store(app))
    session.commit()
    return release


def store(app):
    return FileStore(app.config["STORAGE_PATH"])


def client_for(app, session, who):
    client = app.test_client()
    if who != "signed-out":
        assert sign_in(client, make_user(session, role=who).email).status_code == 302
    return client


def addresses(version=1, authority="west-mercia", name="SHA256SUMS"):
    return ["/data/", f"/data/{SLUG}/", f"/data/{SLUG}/v{version}/",
            f"/data/{SLUG}/v{version}/{authority}", f"/data/{SLUG}/v{version}/files/{name}",
            f"/data/{SLUG}/corrections"]


def status(client, url):
    response = client.get(url)
    response.get_data()
    response.close()
    return response.status_code


@pytest.fixture
def embargoed(app, session, campaign):
    """Version 1 under embargo, the clock before it lifts."""
    app.config["NOW"] = LIFTED - dt.timedelta(minutes=1)
    publish(app, session, campaign, embargo_until=publishing.parse_embargo(EMBARGO),
            documents=[session.scalars(select(Figure.id).order_by(Figure.id)).first()])
    return campaign


@pytest.mark.parametrize("who", WHO)
def test_an_embargoed_release_is_unknown_everywhere_to_everyone(app, session, embargoed, who):
    client = client_for(app, session, who)
    unknown = client.get("/data/no-such-campaign/").get_data(as_text=True)
    for url in addresses()[1:]:
        response = client.get(url)
        assert response.status_code == 404, (who, url)
        assert response.get_data(as_text=True) == unknown, url  # the same answer as none
    index = client.get("/data/").get_data(as_text=True)
    assert "Online grooming" not in index and "Nothing is published yet." in index


@pytest.mark.parametrize("who", WHO)
def test_the_embargo_lifts_at_its_time_with_nothing_written(app, session, embargoed, who):
    client = client_for(app, session, who)
    rows = session.scalar(select(func.count()).select_from(AuditEntry))
    refused = client.get(f"/data/{SLUG}/v1/")
    assert refused.status_code == 404
    # No cache keeps the 404 past the embargo (a signed-in user's answers are never stored).
    assert refused.headers["Cache-Control"] == ("no-cache" if who == "signed-out" else "no-store")
    app.config["NOW"] = LIFTED  # exactly the embargo time
    for url in addresses():
        assert status(client, url) == 200, (who, url)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == rows
    assert session.scalar(select(func.count()).select_from(PublishedRelease)) == 1


@pytest.fixture
def public(app, session, embargoed):
    app.config["NOW"] = LIFTED + dt.timedelta(days=1)
    return embargoed


@pytest.mark.parametrize("who", WHO)
def test_a_public_release_s_pages(app, session, public, who):
    client = client_for(app, session, who)
    page = client.get(f"/data/{SLUG}/v1/").get_data(as_text=True)
    assert "<h1>Online grooming: 2018/19</h1>" in page
    assert "foitrack (2019). Online grooming: 2018/19, version 1" in page  # the citation
    content = publishing.content_of(publishing.get_release(session, public, 1))
    for line in publishing.table_rows(content, "release_lines"):
        assert str(line["text"]).replace("'", "&#39;") in page
    assert f'href="/data/{SLUG}/v1/west-mercia"' in page and f'href="/data/{SLUG}/v1/kent"' in page
    assert f'href="/data/{SLUG}/corrections"' in page
    # No form, no CSRF token, no signed-in navigation or link into the signed-in pages.
    for private in ("<form", "csrf", "Sign out", 'href="/campaigns', 'href="/auth', 'href="/"'):
        assert private not in page, private
    force = client.get(f"/data/{SLUG}/v1/west-mercia").get_data(as_text=True)
    assert "<h1>West Mercia Police</h1>" in force and "Keyword search" in force
    ticked, unticked = session.scalars(select(Figure.id).order_by(Figure.id)).all()[:2]
    assert f"reply-{ticked}.xlsx" in force and f"reply-{unticked}.xlsx" not in force
    kent = client.get(f"/data/{SLUG}/v1/kent").get_data(as_text=True)
    assert "2019-06-03" in kent  # its response
    assert status(client, f"/data/{SLUG}/v1/no-such-force") == 404
    assert status(client, f"/data/{SLUG}/v1/dorset") == 404  # a force the campaign did not ask
    response = client.get(f"/data/{SLUG}/")  # the latest public version
    assert response.status_code == 200 and "<h1>Online grooming: 2018/19</h1>" in response.text
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("who", WHO)
def test_downloads_are_the_release_s_files_with_their_sizes_and_hashes(app, session, public, who):
    client = client_for(app, session, who)
    page = client.get(f"/data/{SLUG}/v1/").get_data(as_text=True)
    release = publishing.get_release(session, public, 1)
    folder = publishing.release_folder(Path(app.instance_path) / "releases", release)
    names = publishing.release_file_names(publishing.content_of(release))
    for name in names:
        data = (folder / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() in page and f"{len(data):,}" in page
        response = client.get(f"/data/{SLUG}/v1/files/{name}")
        assert response.status_code == 200 and response.data == data, name
    xlsx = client.get(f"/data/{SLUG}/v1/files/{SLUG}-v1.xlsx")
    assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx.headers["Content-Disposition"].startswith("attachment")
    csv = client.get(f"/data/{SLUG}/v1/files/datapackage/data/figures.csv")
    assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
    assert client.get(f"/data/{SLUG}/v1/files/methods.html").mimetype == "text/html"


@pytest.mark.parametrize("who", WHO)
def test_no_file_outside_the_release_s_list_is_served(app, session, public, who):
    client = client_for(app, session, who)
    release = publishing.get_release(session, public, 1)
    folder = publishing.release_folder(Path(app.instance_path) / "releases", release)
    (folder / "notes.txt").write_text("left here by someone")  # not the release's
    (folder.parent / "secret.txt").write_text("outside the folder")
    unticked = session.scalars(select(Figure.id).order_by(Figure.id)).all()[1]
    unknown = client.get(f"/data/{SLUG}/v9/").get_data(as_text=True)
    for name in ("notes.txt", "../secret.txt", "..%2Fsecret.txt", "datapackage/../SHA256SUMS",
                 "%2e%2e/secret.txt", "/etc/passwd", "datapackage", f"reply-{unticked}.xlsx",
                 "datapackage/data/nothing.csv", ".SHA256SUMS.part"):
        # (Werkzeug merges the doubled slash of "files//etc" with a redirect first.)
        response = client.get(f"/data/{SLUG}/v1/files/{name}", follow_redirects=True)
        assert response.status_code == 404, name
        assert response.get_data(as_text=True) == unknown, name
    assert status(client, f"/data/{SLUG}/v1/../v1/files/../../secret.txt") == 404


@pytest.mark.parametrize("who", WHO)
def test_a_correction_is_a_new_version_in_the_log_once_public(app, session, public, who):
    change = (b"authority,measure,period,dimension,category,value,caveat,source\n"
              b"E23000016,offences,2018-19,,,130,Keyword search,letter p.2\n")
    import_csv(session, TEST_ACTOR, public, io.BytesIO(change))
    session.commit()
    later = LIFTED + dt.timedelta(days=10)
    publish(app, session, public, note="West Mercia corrected its total from 122 to 130.",
            embargo_until=later)
    client = client_for(app, session, who)
    # Version 2 under its own embargo: unknown, and the log and latest page still say 1.
    assert status(client, f"/data/{SLUG}/v2/") == 404
    assert status(client, f"/data/{SLUG}/v2/files/SHA256SUMS") == 404
    log = client.get(f"/data/{SLUG}/corrections").get_data(as_text=True)
    assert "Version 1" in log and "Version 2" not in log and "122 to 130" not in log
    assert "<dd>1 (the latest" in client.get(f"/data/{SLUG}/").get_data(as_text=True)
    app.config["NOW"] = later
    log = client.get(f"/data/{SLUG}/corrections").get_data(as_text=True)
    assert "Version 2" in log and "West Mercia corrected its total from 122 to 130." in log
    assert "Version 1" in log  # both stay available
    assert "130" in client.get(f"/data/{SLUG}/v2/west-mercia").get_data(as_text=True)
    assert "122" in client.get(f"/data/{SLUG}/v1/west-mercia").get_data(as_text=True)
    assert "<dd>2 (the latest" in client.get(f"/data/{SLUG}/").get_data(as_text=True)
    assert status(client, f"/data/{SLUG}/v3/") == 404  # an unknown version


@pytest.mark.parametrize("who", WHO)
def test_a_campaign_with_nothing_published_is_unknown(app, session, campaign, who):
    client = client_for(app, session, who)
    for url in addresses()[1:]:
        assert status(client, url) == 404, url


def test_the_portal_serves_exactly_the_names_the_release_writes(session, campaign, tmp_path):
    release = publishing.publish(session, TEST_ACTOR, campaign, title="T", today=TODAY,
                                 now=PUBLISHED)
    written = publishing.write_files(release, tmp_path)
    assert publishing.release_file_names(publishing.content_of(release)) == [
        item.path.relative_to(tmp_path).as_posix() for item in written]
