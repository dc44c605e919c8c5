"""The authorities pages: list with filters, an authority's page, editing and importing."""

from __future__ import annotations

import io
import re

import pytest

from foitrack.services import authorities
from tests.factories import TEST_ACTOR, load_forces, make_user
from tests.pages import csrf_token, sign_in


def rows(page: str) -> list[str]:
    body = page.split('<table class="table" id="authorities">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td><a href="/authorities/[^"]+">([^<]+)</a>', body)


@pytest.fixture
def viewer(client, session):
    load_forces(session)
    user = make_user(session, role="viewer")
    sign_in(client, user.email)
    return user


@pytest.fixture
def admin(client, session):
    load_forces(session)
    user = make_user(session, role="admin")
    sign_in(client, user.email)
    return user


def test_the_list_shows_all_48_forces(client, viewer):
    page = client.get("/authorities/").get_data(as_text=True)
    assert len(rows(page)) == 48
    assert "48 authorities" in page


def test_filtering_by_set_region_and_search(client, viewer):
    assert len(rows(client.get("/authorities/?set=england-wales").get_data(as_text=True))) == 43
    assert rows(client.get("/authorities/?region=London").get_data(as_text=True)) == [
        "City of London Police", "Metropolitan Police Service",
    ]
    assert rows(client.get("/authorities/?q=Hampshire+Constabulary").get_data(as_text=True)) == [
        "Hampshire and Isle of Wight Constabulary"
    ]


def test_an_unknown_set_says_so(client, viewer):
    response = client.get("/authorities/?set=nowhere")
    assert response.status_code == 400
    assert "no authority set &#39;nowhere&#39;" in response.get_data(as_text=True)


def test_an_authoritys_page_shows_its_details_and_history(client, viewer):
    page = client.get("/authorities/west-mercia").get_data(as_text=True)
    assert "<h1>West Mercia Police</h1>" in page
    assert "E23000016" in page and "West Midlands" in page
    assert 'href="/authorities/?set=england-wales"' in page
    assert "<td>create</td>" in page
    assert "Edit West Mercia" not in page  # viewers may not edit


def test_an_unknown_authority_is_404(client, viewer):
    assert client.get("/authorities/atlantis").status_code == 404


def test_csv_download_of_the_filtered_list(client, viewer):
    response = client.get("/authorities/export.csv?set=wales")
    assert response.headers["Content-Disposition"] == 'attachment; filename="authorities-wales.csv"'
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffcode,name,short_name,region,country,kind,")
    assert len(text.strip().splitlines()) == 5


def test_admin_edits_an_email_and_it_is_recorded(client, admin, session):
    token = csrf_token(client, "/authorities/gwent/edit")
    form = client.get("/authorities/gwent/edit").get_data(as_text=True)
    assert 'value="Gwent Police"' in form
    version = re.search(r'name="version" type="hidden" value="([^"]+)"', form).group(1)
    data = {
        "csrf_token": token, "version": version, "name": "Gwent Police", "short_name": "Gwent",
        "former_names": "",
        "code": "W15000002", "kind": "territorial-police", "country": "Wales", "region": "Wales",
        "foi_email": "foi.new@example.org", "website": "https://www.gwent.police.uk/", "note": "",
        "active": "y",
    }
    response = client.post("/authorities/gwent/edit", data=data)
    assert response.status_code == 302
    page = client.get("/authorities/gwent").get_data(as_text=True)
    assert "Saved Gwent Police: foi_email changed." in page
    assert "foi.new@example.org" in page
    history = page.split("<h2>History</h2>", 1)[1]
    assert f"<td>{admin.email}</td><td>update</td>" in history
    assert "<dt>FOI email</dt><dd>foi.new@example.org</dd>" in history
    assert "edited here: foi_email" in page


def test_a_stale_edit_form_is_refused_rather_than_undoing_a_newer_change(client, admin, session):
    form = client.get("/authorities/gwent/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="([^"]+)"', form).group(1)
    force = authorities.get_authority(session, "gwent")
    authorities.update_authority(session, TEST_ACTOR, force, {"website": "https://newer.example/"})
    session.commit()
    data = {
        "csrf_token": csrf_token(client, "/authorities/gwent/edit"), "version": version,
        "name": "Gwent Police", "short_name": "Gwent", "kind": "territorial-police",
        "website": "https://www.gwent.police.uk/", "foi_email": "mine@example.org", "active": "y",
    }
    response = client.post("/authorities/gwent/edit", data=data)
    assert response.status_code == 400
    assert "was changed by someone else after you opened this form" in response.get_data(as_text=True)
    session.expire_all()
    assert authorities.get_authority(session, "gwent").website == "https://newer.example/"


def test_a_bad_edit_shows_the_error_and_changes_nothing(client, admin, session):
    before = authorities.get_authority(session, "gwent").snapshot()
    data = {
        "csrf_token": csrf_token(client, "/authorities/gwent/edit"), "name": "Gwent Police",
        "version": authorities.version_of(authorities.get_authority(session, "gwent")),
        "short_name": "Gwent", "kind": "territorial-police", "code": "E23000016",
        "foi_email": "foi@example.org", "website": "ftp://gwent", "active": "y",
    }
    response = client.post("/authorities/gwent/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page
    assert "&#39;E23000016&#39; is already used by West Mercia Police" in page
    assert "is not a web address" in page
    session.expire_all()
    assert authorities.get_authority(session, "gwent").snapshot() == before


def test_script_in_a_field_is_shown_as_text(client, admin, session):
    data = {
        "csrf_token": csrf_token(client, "/authorities/gwent/edit"), "name": "Gwent Police",
        "version": authorities.version_of(authorities.get_authority(session, "gwent")),
        "short_name": "Gwent", "kind": "territorial-police", "active": "y",
        "note": "<script>alert('x')</script>",
    }
    assert client.post("/authorities/gwent/edit", data=data).status_code == 302
    page = client.get("/authorities/gwent").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_admin_imports_a_csv_page(client, admin):
    token = csrf_token(client, "/authorities/import")
    good = io.BytesIO(b"name,kind,sets\nLeeds City Council,council,yorkshire-councils\n")
    response = client.post(
        "/authorities/import", data={"csrf_token": token, "file": (good, "councils.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get("/authorities/?set=yorkshire-councils").get_data(as_text=True)
    assert rows(page) == ["Leeds City Council"]
    assert "Imported councils.csv: 1 created" in page


def test_a_bad_import_lists_every_problem_and_imports_nothing(client, admin, session):
    token = csrf_token(client, "/authorities/import")
    bad = io.BytesIO(b"name,kind,foi_email\nYork Council,council,york\n,council,\n")
    response = client.post(
        "/authorities/import", data={"csrf_token": token, "file": (bad, "bad.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "line 2, column foi_email: &#39;york&#39; is not an email address" in page
    assert "line 3, column name: is required" in page
    assert authorities.find_authorities(session, search="York Council") == []


def test_sets_page_lists_sizes(client, viewer):
    page = client.get("/authorities/sets").get_data(as_text=True)
    assert re.search(r'england-wales</a></td>\s*<td>[^<]+</td>\s*<td class="numeric">43</td>', page)
