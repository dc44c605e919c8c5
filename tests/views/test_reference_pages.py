"""Official figures for context on the pages: imported by researchers (all or nothing, audited),
shown beside the aggregate, never in its totals (issue 18, section 3)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from foitrack.models import AuditEntry
from tests.factories import enter_figures, make_campaign, make_user
from tests.pages import csrf_token, sign_in

URL = "/campaigns/grooming-2019/reference-figures"
AGGREGATE = "/campaigns/grooming-2019/aggregate"
HEADER = b"measure,period,area,value,source,url\n"
ONS = (b"child sexual offences with an online element,October 2017 to September 2018,"
       b'England and Wales,"9,000",ONS,https://www.ons.gov.uk/online-csa\n')
BESIDE = b"offences,2018-19,England and Wales,4100,Home Office,\n"


@pytest.fixture
def campaign(session):
    found = make_campaign(session)
    enter_figures(session, found, ("E23000016", "2018-19", "", "", 122))
    return found


def _post(client, data: bytes, replace: bool = False):
    form = {"csrf_token": csrf_token(client, URL), "file": (io.BytesIO(data), "ref.csv")}
    if replace:
        form["replace"] = "1"
    return client.post(URL, data=form, content_type="multipart/form-data")


def _table(page: str, table_id: str) -> list[list[str]]:
    body = page[page.index(f'id="{table_id}"'):]
    body = body[:body.index("</table>")]
    rows = [[re.sub(r"<[^>]+>", "", cell).strip() for cell in
             re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]
    return [row for row in rows if row]


def test_a_researcher_imports_them_and_the_aggregate_page_shows_them(client, session, campaign):
    user = make_user(session)
    sign_in(client, user.email)
    response = _post(client, HEADER + ONS + BESIDE)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{AGGREGATE}#context")
    page = client.get(AGGREGATE).get_data(as_text=True)
    assert _table(page, "context-beside") == [[
        "Offences of sexual communication with a child recorded", "2018/19", "England and Wales",
        "4,100", "122 (1 of 43)", "Home Office"]]
    assert _table(page, "context-other") == [[
        "child sexual offences with an online element", "October 2017 to September 2018",
        "England and Wales", "9,000", "ONS"]]
    assert '<a href="https://www.ons.gov.uk/online-csa" rel="noopener noreferrer">ONS</a>' in page
    # The FOI total is the FOI figures' alone.
    aggregate_table = _table(page, "aggregate")
    assert aggregate_table[0][3] == "122"
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "reference_figure")).all()
    assert [(e.action, e.actor) for e in entries] == [("create", user.email)] * 2


def test_a_bad_file_is_refused_with_every_problem_and_nothing_imported(client, session, campaign):
    sign_in(client, make_user(session).email)
    response = _post(client, HEADER + ONS + b"offences,2018-19,Wales,16%,ONS,\n")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "line 3, column value: &#39;16%&#39; is not a plain number" in page
    assert "None yet." in client.get(AGGREGATE).get_data(as_text=True)


def test_replace_and_delete(client, session, campaign):
    sign_in(client, make_user(session).email)
    _post(client, HEADER + ONS + BESIDE)
    assert _post(client, HEADER + BESIDE, replace=True).status_code == 302
    page = client.get(URL).get_data(as_text=True)
    assert [row[0] for row in _table(page, "reference-figures")] == [
        "Offences of sexual communication with a child recorded"]
    chosen = re.search(r'name="id" value="(\d+)"', page).group(1)
    assert client.post(f"{URL}/delete", data={"csrf_token": csrf_token(client, URL),
                                              "id": chosen}).status_code == 302
    assert 'id="reference-figures"' not in client.get(URL).get_data(as_text=True)


def test_viewers_see_them_but_may_not_import(client, session, campaign):
    from foitrack.services import reference_figures
    from tests.factories import TEST_ACTOR

    reference_figures.import_csv(session, TEST_ACTOR, campaign, HEADER + ONS)
    session.commit()
    sign_in(client, make_user(session, role="viewer").email)
    page = client.get(AGGREGATE).get_data(as_text=True)
    assert "9,000" in page and "Import or delete reference figures" not in page
    assert client.get(URL).status_code == 403
