"""Partners' private links (/data/shared/<token>/): an embargoed release's pages and files for
one named newsroom before the embargo, logged, revocable, opening that release only; every
public address the same 404 as before, to everyone, link in hand or not."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from foitrack.models import PartnerAccess, PublishedRelease
from foitrack.services import partners, publishing
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.factories import TEST_ACTOR
from tests.test_publish import FIGURES, SMALL, answered_campaign
from tests.views.test_public_data import EMBARGO, LIFTED, SLUG, WHO, client_for, publish, status

OTHER = "sextortion-2020"
BBC = "BBC Shared Data Unit"
BANNER = ("Embargoed until 00:01 on 20 September 2019 (UK time); shared with BBC Shared Data "
          "Unit; not for publication before then.")
BEFORE = LIFTED - dt.timedelta(minutes=1)
# Version 2 of the campaign, and the other campaign, each under a later embargo of its own.
LATER = LIFTED + dt.timedelta(days=10)


@dataclass
class Shared:
    v1: str  # BBC's link to grooming-2019 v1
    v2: str  # a link to grooming-2019 v2
    other: str  # a link to the other campaign's v1
    revoked: str  # a link to grooming-2019 v1, revoked


def _link(session, release, name="BBC Shared Data Unit"):
    _, token = partners.add(session, TEST_ACTOR, release, name=name, now=BEFORE)
    return token


@pytest.fixture
def shared(app, session):
    """grooming-2019 v1 and v2 and another campaign's v1, all embargoed; four links."""
    app.config["NOW"] = BEFORE
    campaign = answered_campaign(session)
    session.commit()
    v1 = publish(app, session, campaign, embargo_until=publishing.parse_embargo(EMBARGO))
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,,,130,Keyword search,letter p.2\n"))
    session.commit()
    v2 = publish(app, session, campaign, note="West Mercia corrected its total to 130.",
                 embargo_until=LATER)
    other = create_from_file(session, TEST_ACTOR, SMALL.replace(SLUG, OTHER))
    import_csv(session, TEST_ACTOR, other, io.BytesIO(FIGURES))
    session.commit()
    other_v1 = publish(app, session, other, title="Sextortion", embargo_until=LATER)
    links = Shared(_link(session, v1, BBC), _link(session, v2, "The Guardian"),
                   _link(session, other_v1, "ITV"), _link(session, v1, "Sky News"))
    revoked = partners.resolve(session, links.revoked)
    partners.revoke(session, TEST_ACTOR, revoked.id, BEFORE)
    session.commit()
    return links


def public_addresses(slug=SLUG, version=1):
    return ["/data/", f"/data/{slug}/", f"/data/{slug}/v{version}/",
            f"/data/{slug}/v{version}/west-mercia", f"/data/{slug}/v{version}/files/SHA256SUMS",
            f"/data/{slug}/corrections"]


def shared_addresses(token):
    return [f"/data/shared/{token}/", f"/data/shared/{token}/west-mercia",
            f"/data/shared/{token}/files/SHA256SUMS", f"/data/shared/{token}/corrections"]


def unknown_page(client):
    return client.get("/data/no-such-campaign/").get_data(as_text=True)


def folder_of(app, session, slug, version):
    release = session.scalar(select(PublishedRelease).join(PublishedRelease.campaign)
                             .where(PublishedRelease.version == version)
                             .filter_by(slug=slug))
    return release, publishing.release_folder(Path(app.instance_path) / "releases", release)


@pytest.mark.parametrize("who", WHO)
def test_a_partner_sees_the_release_under_its_banner(app, session, shared, who):
    client = client_for(app, session, who)
    base = f"/data/shared/{shared.v1}/"
    response = client.get(base)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert BANNER in page and "<h1>Online grooming: 2018/19</h1>" in page
    # Every link into the release stays under the link; none to its public 404s.
    assert f'href="{base}west-mercia"' in page and f'href="{base}kent"' in page
    assert f'href="{base}files/SHA256SUMS"' in page and f'href="{base}corrections"' in page
    assert f'href="/data/{SLUG}/v1' not in page and f'href="/data/{SLUG}/"' not in page
    assert "Version</dt><dd>1</dd>" in page.replace("\n", "") or "<dd>1</dd>" in page
    # Kept nowhere: not by a cache, a search engine, or a referrer header.
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    force = client.get(f"{base}west-mercia").get_data(as_text=True)
    assert BANNER in force and "<h1>West Mercia Police</h1>" in force and ">122<" in force
    assert f'href="{base}"' in force  # its breadcrumb back to the release, under the link
    log = client.get(f"{base}corrections").get_data(as_text=True)
    assert BANNER in log and "Version 1" in log and "Version 2" not in log
    release, folder = folder_of(app, session, SLUG, 1)
    for name in publishing.release_file_names(publishing.content_of(release)):
        served = client.get(f"{base}files/{name}")
        assert served.status_code == 200 and served.data == (folder / name).read_bytes(), name
        assert served.headers["Cache-Control"] == "no-store"
    xlsx = client.get(f"{base}files/{SLUG}-v1.xlsx")
    assert xlsx.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("who", [*WHO, "partner"])
def test_every_public_address_stays_unknown_before_the_embargo(app, session, shared, who):
    client = client_for(app, session, "signed-out" if who == "partner" else who)
    if who == "partner":  # a newsroom that has just used its link: no cookie, nothing more
        assert status(client, f"/data/shared/{shared.v1}/") == 200
    unknown = unknown_page(client)
    for slug, version in ((SLUG, 1), (SLUG, 2), (OTHER, 1)):
        for url in public_addresses(slug, version)[1:]:
            for asked in (url, f"{url}?token={shared.v1}"):
                response = client.get(asked)
                assert response.status_code == 404, (who, asked)
                assert response.get_data(as_text=True) == unknown, asked
    index = client.get("/data/").get_data(as_text=True)
    assert "Nothing is published yet." in index and "Online grooming" not in index


@pytest.mark.parametrize("who", WHO)
def test_a_link_opens_its_own_release_only(app, session, shared, who):
    client = client_for(app, session, who)
    unknown = unknown_page(client)
    base = f"/data/shared/{shared.v1}"
    _, other_folder = folder_of(app, session, OTHER, 1)
    assert (other_folder / f"{OTHER}-v1.sqlite").is_file()
    for below in (f"files/{SLUG}-v2.sqlite", f"files/{SLUG}-v2.xlsx", f"files/{OTHER}-v1.sqlite",
                  "files/../v2/SHA256SUMS", "files/../../grooming-2019/v2/files/SHA256SUMS",
                  "files/%2e%2e/v2/SHA256SUMS", "dorset", "no-such-force", "v2",
                  "files/notes.txt"):
        response = client.get(f"{base}/{below}", follow_redirects=True)
        assert response.status_code == 404, below
        assert response.get_data(as_text=True) == unknown, below  # no banner on a 404
    # Addresses no route has (the app's own 404), never another link's or release's page.
    for below in (f"../{shared.v2}/", f"{SLUG}/v2/", f"../../{SLUG}/v2/"):
        assert status(client, f"{base}/{below}") == 404, below
    # Each link its own release: v2's shows the corrected total, the other campaign's its own.
    v2 = client.get(f"/data/shared/{shared.v2}/west-mercia").get_data(as_text=True)
    assert ">130<" in v2 and "shared with The Guardian" in v2
    assert client.get(f"/data/shared/{shared.v2}/files/{SLUG}-v2.sqlite").status_code == 200
    assert status(client, f"/data/shared/{shared.v2}/files/{SLUG}-v1.sqlite") == 404
    # v2's log shows v2 and not v1, which is under its own embargo still.
    log = client.get(f"/data/shared/{shared.v2}/corrections").get_data(as_text=True)
    assert "Version 2" in log and "Version 1" not in log
    other = client.get(f"/data/shared/{shared.other}/").get_data(as_text=True)
    assert "<h1>Sextortion</h1>" in other and "Online grooming" not in other
    assert status(client, f"/data/shared/{shared.other}/files/{SLUG}-v1.sqlite") == 404


@pytest.mark.parametrize("who", WHO)
def test_a_revoked_or_unknown_link_is_the_same_404(app, session, shared, who):
    client = client_for(app, session, who)
    unknown = unknown_page(client)
    digest = partners.digest(shared.v1)  # the stored hash opens nothing either
    for token in (shared.revoked, "x" * 43, digest, shared.v1[:-1], shared.v1 + "x", "x" * 500):
        for url in shared_addresses(token):
            response = client.get(url)
            assert response.status_code == 404, url
            assert response.get_data(as_text=True) == unknown, url
    assert status(client, f"/data/shared/{shared.v1}/") == 200
    link = partners.resolve(session, shared.v1)
    partners.revoke(session, TEST_ACTOR, link.id, BEFORE)
    session.commit()
    for url in shared_addresses(shared.v1):  # at once
        assert status(client, url) == 404, url
    app.config["NOW"] = LIFTED  # and after the embargo: no redirect for a revoked link
    assert status(client, f"/data/shared/{shared.revoked}/") == 404


def test_each_page_or_file_served_is_logged(app, session, shared):
    client = app.test_client()
    for url in shared_addresses(shared.v1):
        assert status(client, url) == 200
    assert status(client, f"/data/shared/{shared.v2}/kent") == 200
    for url in shared_addresses(shared.revoked):  # a revoked link logs nothing
        assert status(client, url) == 404
    session.expire_all()
    rows = session.execute(select(PartnerAccess.path, PartnerAccess.at)
                           .order_by(PartnerAccess.id)).all()
    assert [path for path, _ in rows] == ["/", "/west-mercia", "/files/SHA256SUMS",
                                          "/corrections", "/kent"]
    assert {at for _, at in rows} == {BEFORE}
    release, _ = folder_of(app, session, SLUG, 1)
    logged = partners.accesses(session, release)
    assert {access.partner.name for access in logged} == {BBC}
    # The token itself is in no row: only its hash is kept.
    assert shared.v1 not in repr(session.execute(select(PartnerAccess)).all())
    link = partners.resolve(session, shared.v1)
    assert link.token_sha256 == hashlib.sha256(shared.v1.encode()).hexdigest()


@pytest.mark.parametrize("who", WHO)
def test_after_the_embargo_the_link_sends_to_the_public_page(app, session, shared, who):
    client = client_for(app, session, who)
    app.config["NOW"] = LIFTED  # exactly the embargo time
    moved = {f"/data/shared/{shared.v1}/": f"/data/{SLUG}/v1/",
             f"/data/shared/{shared.v1}/west-mercia": f"/data/{SLUG}/v1/west-mercia",
             f"/data/shared/{shared.v1}/files/SHA256SUMS": f"/data/{SLUG}/v1/files/SHA256SUMS",
             f"/data/shared/{shared.v1}/corrections": f"/data/{SLUG}/corrections"}
    for url, public in moved.items():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == public, url
        assert status(client, public) == 200, public
    page = client.get(f"/data/{SLUG}/v1/").get_data(as_text=True)
    assert "Embargoed until" not in page  # the public page, no banner
    assert "Online grooming" in client.get("/data/").get_data(as_text=True)
    assert "<dd>1 (the latest" in client.get(f"/data/{SLUG}/").get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(PartnerAccess.id)) is None  # nothing to log: it is public
    # Version 2 and the other campaign are still under theirs: their links still open them.
    assert status(client, f"/data/{SLUG}/v2/") == 404
    v2 = client.get(f"/data/shared/{shared.v2}/").get_data(as_text=True)
    assert "Embargoed until 00:01 on 30 September 2019" in v2 and "shared with The Guardian" in v2
    # The v2 link's log now lists v1 (public) beside v2, v1 at its public address.
    log = client.get(f"/data/shared/{shared.v2}/corrections").get_data(as_text=True)
    assert "Version 1" in log and f'href="/data/{SLUG}/v1/"' in log and "Version 2" in log
    assert status(client, f"/data/shared/{shared.v2}/files/{SLUG}-v1.sqlite") == 404
    assert status(client, f"/data/shared/{shared.other}/") == 200
    assert status(client, f"/data/{OTHER}/") == 404
