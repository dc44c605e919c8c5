"""The publish page's Partners part (issue 20): each embargoed version's private links with
their use and access log, the form that makes one (its link shown once, in the answer only),
revoking one, who may do it, and a public version's links shown closed with no form."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select

from foitrack.models import PartnerAccess, ReleasePartner
from foitrack.services import partners, publishing
from foitrack.services.design import create_from_file
from tests.factories import TEST_ACTOR, make_user
from tests.pages import csrf_token, sign_in
from tests.test_publish import SMALL, answered_campaign
from tests.views.test_public_data import EMBARGO, LIFTED, PUBLISHED, SLUG, publish, status

URL = f"/campaigns/{SLUG}/publish"
ADD = f"{URL}/v1/partners"
BBC = "BBC Shared Data Unit"
OTHER = "sextortion-2020"
LINK = re.compile(r'id="partner-link-url"[^>]*value="([^"]+)"')


@pytest.fixture
def release(app, session):
    """Version 1 of grooming-2019, embargoed until 00:01 on 20 September 2019; the clock
    fixed before then."""
    app.config["NOW"] = PUBLISHED
    campaign = answered_campaign(session)
    session.commit()
    return publish(app, session, campaign, embargo_until=publishing.parse_embargo(EMBARGO))


def signed_in(app, session, role="researcher"):
    client = app.test_client()
    assert sign_in(client, make_user(session, role=role).email).status_code == 302
    return client


def add(client, url=ADD, prefix="partner-v1", **fields):
    data = {f"{prefix}-{key}": value for key, value in fields.items()}
    return client.post(url, data={**data, f"{prefix}-csrf_token": csrf_token(client, URL)})


def revoke(client, link_id):
    return client.post(f"{URL}/partners/{link_id}/revoke",
                       data={"csrf_token": csrf_token(client, URL)})


def made(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ReleasePartner))


def page_of(client):
    return html.unescape(client.get(URL).get_data(as_text=True))


def ids_are_unique(page):
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def share(session, release, name=BBC):
    _, token = partners.add(session, TEST_ACTOR, release, name=name, now=PUBLISHED)
    session.commit()
    return token


def test_a_new_link_is_shown_once_and_opens_the_release(app, session, release):
    client = signed_in(app, session)
    page = page_of(client)
    assert 'id="partners-v1"' in page and "No partner has a link to version 1." in page
    assert 'name="partner-v1-name"' in page and "Make a private link to version 1" in page
    response = add(client, name=f"  {BBC} ", email="Data@BBC.co.uk")
    assert response.status_code == 200
    answer = response.get_data(as_text=True)
    url = LINK.search(answer).group(1)
    assert url.startswith("http://localhost/data/shared/") and url.endswith("/")
    assert "it is shown this once" in answer
    assert "no-store" in response.headers["Cache-Control"]  # no cache keeps the answer
    token = url.removeprefix("http://localhost/data/shared/").removesuffix("/")
    session.expire_all()
    link = session.scalars(select(ReleasePartner)).one()
    assert (link.name, link.email) == (BBC, "data@bbc.co.uk")
    assert link.token_sha256 == partners.digest(token)  # the hash kept, never the token
    assert token not in repr([getattr(link, c.key) for c in ReleasePartner.__table__.columns])
    # The partner, signed out, opens the embargoed release through it.
    partner = app.test_client().get(f"/data/shared/{token}/")
    assert partner.status_code == 200 and "shared with BBC Shared Data Unit" in \
        partner.get_data(as_text=True)
    assert status(app.test_client(), f"/data/{SLUG}/v1/") == 404
    # The page again: the link listed, used once, and its token nowhere.
    page = page_of(client)
    assert token not in page and "/data/shared/" not in page
    row = re.search(r'<tr id="partner-link-\d+">.*?</tr>', page, re.S).group(0)
    assert BBC in row and "data@bbc.co.uk" in row and "Live" in row
    assert "10 Jun 2019 10:30 BST by researcher" in row
    assert "1 time, last 10 Jun 2019 10:30 BST" in row
    assert f"Revoke the link for {BBC}" in row


def test_the_link_is_built_on_the_site_s_address_when_it_is_set(app, session, release):
    app.config["BASE_URL"] = "https://foi.example.org"
    response = add(signed_in(app, session), name=BBC)
    assert LINK.search(response.get_data(as_text=True)).group(1).startswith(
        "https://foi.example.org/data/shared/")


@pytest.mark.parametrize(("fields", "anchor", "message"), [
    ({"name": "  "}, "partner-v1-name", "Enter who the link is for"),
    ({"name": "x" * 201}, "partner-v1-name", "200 characters"),
    ({"name": BBC, "email": "not an address"}, "partner-v1-email", "email"),
])
def test_bad_input_names_the_field_and_adds_nothing(app, session, release, fields, anchor,
                                                    message):
    client = signed_in(app, session)
    response = add(client, **fields)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    assert f'href="#{anchor}"' in summary and message.lower() in summary.lower(), summary
    assert f'id="{anchor}"' in page  # the field the summary links to, on the page
    assert page.count('class="error-summary"') == 1
    assert "partner-link-url" not in page
    ids_are_unique(page)
    assert made(session) == 0


def test_revoking_a_link_closes_it_at_once(app, session, release):
    token = share(session, release)
    link_id = partners.resolve(session, token).id
    client = signed_in(app, session)
    assert status(app.test_client(), f"/data/shared/{token}/") == 200
    response = revoke(client, link_id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{URL}#partners-v1")
    assert status(app.test_client(), f"/data/shared/{token}/") == 404
    page = page_of(client)
    assert f"Revoked the link for {BBC} to version 1" in page
    row = re.search(rf'<tr id="partner-link-{link_id}">.*?</tr>', page, re.S).group(0)
    assert "Revoked" in row and "10 Jun 2019 10:30 BST by researcher" in row
    assert "Revoke the link" not in row  # no button on a revoked link
    assert revoke(client, link_id).status_code == 302
    assert "was revoked already" in page_of(client)
    assert revoke(client, 999999).status_code == 302
    assert "Not revoked: no partner link 999999" in page_of(client)


def test_a_version_not_there_is_said_and_nothing_is_added(app, session, release):
    response = add(signed_in(app, session), url=f"{URL}/v9/partners", prefix="partner-v9",
                   name=BBC)
    assert response.status_code == 400
    assert "has no version 9 to share" in response.get_data(as_text=True)
    assert made(session) == 0


def test_a_link_is_revoked_only_through_its_own_campaign_s_page(app, session, release):
    token = share(session, release)
    link_id = partners.resolve(session, token).id
    create_from_file(session, TEST_ACTOR, SMALL.replace(SLUG, OTHER))
    session.commit()
    client = signed_in(app, session)
    assert client.get(f"/campaigns/{OTHER}/publish").status_code == 200
    elsewhere = client.post(f"/campaigns/{OTHER}/publish/partners/{link_id}/revoke",
                            data={"csrf_token": csrf_token(client, URL)})
    assert elsewhere.status_code == 302
    assert f"Not revoked: no partner link {link_id}" in page_of(client)
    assert status(app.test_client(), f"/data/shared/{token}/") == 200


def test_the_log_lists_what_a_link_opened_newest_first(app, session, release):
    token = share(session, release)
    partner = app.test_client()
    for below in ("", "west-mercia", "files/SHA256SUMS"):
        assert status(partner, f"/data/shared/{token}/{below}") == 200, below
    page = page_of(signed_in(app, session))
    log = re.search(r'<details class="details" id="partner-log-\d+">.*?</details>', page,
                    re.S).group(0)
    assert f"What the link for {BBC} opened" in log and token not in log
    paths = re.findall(r"<td><code>([^<]+)</code></td>", log)
    assert paths == ["/files/SHA256SUMS", "/west-mercia", "/"]
    assert "10 Jun 2019 10:30 BST" in log
    assert "3 times, last 10 Jun 2019 10:30 BST" in page


def test_a_long_log_shows_the_newest_and_counts_the_rest(app, session, release):
    token = share(session, release)
    link = partners.resolve(session, token)
    for minute in range(25):
        partners.record_access(session, link, f"/page-{minute}",
                               PUBLISHED + dt.timedelta(minutes=minute))
    session.commit()
    page = page_of(signed_in(app, session))
    paths = re.findall(r"<td><code>(/page-\d+)</code></td>", page)
    assert paths == [f"/page-{minute}" for minute in range(24, 4, -1)]
    assert "(the newest 20 of 25)" in page and "And 5 earlier" in page
    assert "25 times, last 10 Jun 2019 10:54 BST" in page


def test_a_viewer_may_neither_add_nor_revoke(app, session, release):
    token = share(session, release)
    link_id = partners.resolve(session, token).id
    viewer = signed_in(app, session, role="viewer")
    assert viewer.get(URL).status_code == 403
    csrf = csrf_token(viewer, f"/campaigns/{SLUG}")
    assert viewer.post(ADD, data={"partner-v1-name": "ITV", "partner-v1-csrf_token": csrf}
                       ).status_code == 403
    assert viewer.post(f"{URL}/partners/{link_id}/revoke",
                       data={"csrf_token": csrf}).status_code == 403
    assert made(session) == 1
    assert status(app.test_client(), f"/data/shared/{token}/") == 200


def test_a_public_version_shows_its_links_closed_and_offers_no_form(app, session, release):
    token = share(session, release)
    app.config["NOW"] = LIFTED
    client = signed_in(app, session)
    page = page_of(client)
    part = re.search(r'<section class="partners" id="partners-v1".*?</section>', page,
                     re.S).group(0)
    assert "partners' links are closed" in part and "Closed" in part and BBC in part
    assert "partner-v1-name" not in part and "<form" not in part
    assert app.test_client().get(f"/data/shared/{token}/").headers["Location"] == \
        f"/data/{SLUG}/v1/"
    refused = add(client, name="ITV")
    assert refused.status_code == 400 and "is public already" in \
        refused.get_data(as_text=True)
    assert made(session) == 1


def test_the_page_has_no_duplicate_ids(app, session, release):
    campaign = release.campaign
    first, second = share(session, release), share(session, release, "The Guardian")
    partners.revoke(session, TEST_ACTOR, partners.resolve(session, second).id, PUBLISHED)
    session.commit()
    app.test_client().get(f"/data/shared/{first}/")
    publish(app, session, campaign, note="Again.",
            embargo_until=publishing.parse_embargo(EMBARGO))
    share(session, publishing.get_release(session, campaign, 2), "ITV")
    client = signed_in(app, session)
    page = page_of(client)
    assert 'name="partner-v1-name"' in page and 'name="partner-v2-name"' in page
    ids_are_unique(page)
    ids_are_unique(html.unescape(add(client, url=f"{URL}/v2/partners", prefix="partner-v2",
                                     name="").get_data(as_text=True)))
    assert session.scalar(select(func.count()).select_from(PartnerAccess)) == 1
