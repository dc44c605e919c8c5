"""Data in and out in the browser: templates, uploads with preview, downloads, trackers."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from tests.factories import make_campaign, make_user
from tests.pages import csrf_token, sign_in


@pytest.fixture
def researcher(client, session):
    make_campaign(session)
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def test_upload_filled_templates_preview_then_confirm(client, researcher):
    response = client.get("/campaigns/grooming-2019/requests/kent/template.xlsx")
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="grooming-2019-kent.xlsx"'
    book = load_workbook(io.BytesIO(response.data))
    book["Figures"]["E13"] = 200
    filled = io.BytesIO()
    book.save(filled)
    url = "/campaigns/grooming-2019/templates/import"
    page = client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "file": [(io.BytesIO(filled.getvalue()), "kent.xlsx")]},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "1 file: 1 new, 0 changed, 0 unchanged, 0 changing a checked figure." in page
    import html
    import re

    files = html.unescape(re.search(r'name="files" type="hidden" value="([^"]+)"', page).group(1))
    response = client.post("/campaigns/grooming-2019/templates/confirm",
                           data={"csrf_token": csrf_token(client, url), "files": files})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Imported 1 templates: 1 new, 0 changed, 0 unchanged." in page


def test_a_bad_template_is_reported_by_cell(client, researcher):
    url = "/campaigns/grooming-2019/templates/import"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "file": [(io.BytesIO(b"not a workbook"), "reply.xlsx")]},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "reply.xlsx: is not an XLSX workbook" in response.get_data(as_text=True)


def test_every_blank_template_in_one_zip(client, researcher):
    response = client.get("/campaigns/grooming-2019/templates.zip")
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert len(names) == 43 and "grooming-2019-west-mercia.xlsx" in names


@pytest.mark.parametrize(("path", "kind", "name"), [
    ("export.csv?table=tracker", "text/csv", "grooming-2019-tracker-"),
    ("export.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     "grooming-2019-"),
    ("export.json", "application/json", "grooming-2019-"),
    ("export.zip", "application/zip", "grooming-2019-datapackage-"),
])
def test_downloads_carry_a_sensible_name(client, researcher, path, kind, name):
    response = client.get(f"/campaigns/grooming-2019/{path}")
    assert response.status_code == 200 and response.mimetype == kind
    assert f'filename="{name}' in response.headers["Content-Disposition"]
    assert len(response.data) > 200  # a real file, not an empty or error body


def test_the_campaign_page_offers_the_changes_csv(client, researcher):
    page = client.get("/campaigns/grooming-2019").get_data(as_text=True)
    assert 'href="/campaigns/grooming-2019/export.csv?table=changes">changes CSV</a>' in page
    changes = client.get("/campaigns/grooming-2019/export.csv?table=changes")
    assert 'filename="grooming-2019-changes-' in changes.headers["Content-Disposition"]
    assert changes.get_data(as_text=True).startswith(
        "\ufeffmeasure,from_period,to_period,dimension,category,level,from_total,to_total,change,")


def test_tracker_import_page_previews_then_records(client, researcher):
    url = "/campaigns/grooming-2019/tracker/import"
    text = b"Force,Date sent\nW Mercia Police,01/05/2019\n"
    page = client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "file": (io.BytesIO(text), "t.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "West Mercia Police" in page and "close to" in page
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "confirmed": "1",
                                      "file": (io.BytesIO(text), "t.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert "Recorded 1 requests from t.csv." in client.get(response.location).get_data(as_text=True)


def test_uploaded_names_with_commas_and_accents_survive_the_confirmation(client, researcher):
    import html
    import re

    response = client.get("/campaigns/grooming-2019/requests/kent/template.xlsx")
    url = "/campaigns/grooming-2019/templates/import"
    page = client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "file": [(io.BytesIO(response.data), "Kent, réponse.xlsx")]},
                       content_type="multipart/form-data").get_data(as_text=True)
    files = html.unescape(re.search(r'name="files" type="hidden" value="([^"]+)"', page).group(1))
    confirmed = client.post("/campaigns/grooming-2019/templates/confirm",
                            data={"csrf_token": csrf_token(client, url), "files": files})
    assert confirmed.status_code == 302
