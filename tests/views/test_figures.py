"""Figures in the browser: design, grid entry with coded values, check, aggregate, release."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_campaign, make_user
from tests.pages import cell_names, csrf_token, seen, sign_in

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def researcher(client, session):
    make_campaign(session)
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def test_entering_figures_in_the_grid(client, researcher):
    url = "/campaigns/grooming-2019/requests/west-mercia/figures"
    page = client.get(url).get_data(as_text=True)
    names = cell_names(page)
    total = names["Offences of sexual communication with a child recorded, 2018/19, total"]
    instagram = names["Offences of sexual communication with a child recorded, 2018/19, Instagram"]
    snapchat = names["Offences of sexual communication with a child recorded, 2018/19, Snapchat"]
    data = {"csrf_token": csrf_token(client, url), total: "122", instagram: "<5",
            snapchat: "lots", "source": "Reply of 20 May, table 1",
            **{f"base-{name}": "" for name in (total, instagram, snapchat)}}
    response = client.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was saved: 1 cell needs correcting." in page
    assert f'id="{snapchat}-error">&#39;lots&#39; is not a figure' in page
    assert 'value="lots"' in page  # what was typed is kept
    data[snapchat] = "not recorded"
    assert client.post(url, data=data).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Saved figures for West Mercia Police: 3 new, 0 changed, 0 unchanged." in page
    assert f'name="{instagram}" value="&lt;5"' in page


def test_a_second_researcher_checks_the_figures(app, client, researcher, session):
    url = "/campaigns/grooming-2019/requests/west-mercia/figures"
    names = cell_names(client.get(url).get_data(as_text=True))
    total = names["Offences of sexual communication with a child recorded, 2018/19, total"]
    client.post(url, data={"csrf_token": csrf_token(client, url), total: "122", f"base-{total}": ""})
    client.post(f"{url}/check", data={"csrf_token": csrf_token(client, url), **seen(client, url)})
    assert "Not checked: a second researcher must check a figure" in client.get(url).get_data(as_text=True)
    other = app.test_client()
    checker = make_user(session, role="researcher")
    sign_in(other, checker.email)
    other.post(f"{url}/check", data={"csrf_token": csrf_token(other, url), **seen(other, url)})
    page = other.get(url).get_data(as_text=True)
    assert "Marked 1 figures checked." in page and f'title="checked by {checker.email}"' in page


def test_a_figure_changed_since_the_checkers_page_was_drawn_is_not_checked(app, client, researcher,
                                                                            session):
    url = "/campaigns/grooming-2019/requests/west-mercia/figures"
    names = cell_names(client.get(url).get_data(as_text=True))
    total = names["Offences of sexual communication with a child recorded, 2018/19, total"]
    client.post(url, data={"csrf_token": csrf_token(client, url), total: "122", f"base-{total}": ""})
    other = app.test_client()
    sign_in(other, make_user(session, role="researcher").email)
    looked_at = seen(other, url)
    assert list(looked_at.values()) == ["122"]
    # The enterer corrects the figure while the checker reads the reply.
    form = {"csrf_token": csrf_token(client, url), total: "112", f"base-{total}": "122"}
    assert client.post(url, data=form).status_code == 302
    refused = other.post(f"{url}/check", data={"csrf_token": csrf_token(other, url), **looked_at},
                         follow_redirects=True).get_data(as_text=True)
    assert "Not checked: 1 figure changed or came in since your page was drawn" in refused
    assert "(now 112)" in refused
    assert "Marked" not in refused
    # Looking again, they check what they now see.
    other.post(f"{url}/check", data={"csrf_token": csrf_token(other, url), **seen(other, url)})
    assert "Marked 1 figures checked." in other.get(url).get_data(as_text=True)


def test_the_aggregate_page_links_every_number_to_its_figures(client, researcher, session):
    from foitrack.services.campaigns import get_campaign

    import_csv(session, TEST_ACTOR, get_campaign(session, "grooming-2019"), io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,,,122,Keyword search,letter p.2\n"
        b"E23000032,offences,2018-19,,,200,,letter\n"
        b"E23000033,offences,2018-19,,,<5,,letter\n"))
    session.commit()
    page = client.get("/campaigns/grooming-2019/aggregate").get_data(as_text=True)
    link = re.search(r'<a href="(/campaigns/grooming-2019/aggregate/cell\?measure=offences&amp;'
                     r'period=2018-19)">322</a>', page)
    assert link, page
    assert "322–326" in page and "3 of 43" in page
    cell = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "the exact ones add up to <strong id=\"cell-sum\">322</strong>" in cell
    assert "Keyword search" in cell and "letter p.2" in cell
    subset = client.get("/campaigns/grooming-2019/aggregate?authorities=E23000016,E23000032")
    assert "322" in subset.get_data(as_text=True) and "2 of 2" in subset.get_data(as_text=True)
    assert client.get("/campaigns/grooming-2019/aggregate?authorities=nowhere").status_code == 400


def test_release_and_fact_sheet_pages(client, session):
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, (FIXTURES / "grooming-2019.toml").read_text())
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO((FIXTURES / "grooming-2019.csv").read_bytes()))
    session.commit()
    viewer = make_user(session, role="viewer")
    sign_in(client, viewer.email)
    page = client.get("/campaigns/grooming-2019/release").get_data(as_text=True)
    assert ('<a href="/campaigns/grooming-2019/aggregate/cell?measure=offences&amp;period=2018-19">'
            '4,373</a>') in page
    assert "a rise of more than a third" in page
    assert 'data-copy="release-text"' in page and "copy.js" in page
    sheet = client.get("/campaigns/grooming-2019/fact-sheets/west-mercia").get_data(as_text=True)
    assert ('West Mercia Police recorded <a href="/campaigns/grooming-2019/aggregate/cell?measure='
            'offences&amp;period=2018-19&amp;authority=west-mercia">122</a>') in sheet
    assert client.get("/campaigns/grooming-2019/fact-sheets/atlantis").status_code == 404
    listing = client.get("/campaigns/grooming-2019/fact-sheets/").get_data(as_text=True)
    assert listing.count('href="/campaigns/grooming-2019/fact-sheets/') == 43


def test_editing_the_design_in_the_app(client, researcher):
    url = "/campaigns/grooming-2019/design"
    page = client.get(url).get_data(as_text=True)
    assert "[[measures]]" in page
    bad = client.post(url, data={"csrf_token": csrf_token(client, url), "design": "[[measures]]\nkey = 1\n"})
    assert bad.status_code == 400 and "measures[1].key: must be text" in bad.get_data(as_text=True)
    design = EXAMPLE_DESIGN[EXAMPLE_DESIGN.index("[[measures]]"):].replace('"Other"]', '"Other", "TikTok"]')
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    assert client.post(url, data={"csrf_token": csrf_token(client, url), "design": design,
                                  "version": version}).status_code == 302
    assert "TikTok" in client.get(url).get_data(as_text=True)


def test_importing_figures_on_the_page(client, researcher):
    url = "/campaigns/grooming-2019/figures/import"
    bad = io.BytesIO(b"authority,measure,period,dimension,category,value,caveat,source\n"
                     b"Atlantis,offences,2018-19,,,1,,\n")
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "file": (bad, "f.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "line 2, column authority: &#39;Atlantis&#39; is not an authority" in page
    good = io.BytesIO(b"authority,measure,period,dimension,category,value,caveat,source\n"
                      b"Kent,offences,2018-19,,,17,,\n")
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "file": (good, "f.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    csv_text = client.get("/campaigns/grooming-2019/figures.csv").get_data(as_text=True)
    assert csv_text.splitlines()[1] == "E23000032,offences,2018-19,,,17,,"


def test_saving_the_grid_keeps_each_unchanged_figures_caveat_and_source(client, researcher, session):
    from foitrack.services.campaigns import get_campaign
    from foitrack.services.figures import export_rows

    import_csv(session, TEST_ACTOR, get_campaign(session, "grooming-2019"), io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,,,122,Keyword search,letter p.2\n"
        b"E23000016,offences,2018-19,platform,Instagram,17,,table 1\n"))
    session.commit()
    url = "/campaigns/grooming-2019/requests/west-mercia/figures"
    page = client.get(url).get_data(as_text=True)
    names = cell_names(page)
    data = dict(re.findall(r'name="((?:base-)?cell-[0-9-]+)" value="([^"]*)"', page))
    data[names["Offences of sexual communication with a child recorded, 2018/19, Instagram"]] = "18"
    data.update({"csrf_token": csrf_token(client, url), "source": "corrected reply, table 1"})
    assert client.post(url, data=data).status_code == 302
    rows = {r["category"]: r for r in export_rows(session, get_campaign(session, "grooming-2019"))}
    assert (rows[""]["caveat"], rows[""]["source"]) == ("Keyword search", "letter p.2")
    assert (rows["Instagram"]["value"], rows["Instagram"]["source"]) == ("18", "corrected reply, table 1")


def test_a_shares_denominator_link_adds_up_to_the_number(client, researcher, session):
    from foitrack.services.campaigns import get_campaign

    import_csv(session, TEST_ACTOR, get_campaign(session, "grooming-2019"), io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,platform,Instagram,17,,\n"
        b"E23000016,offences,2018-19,platform,Other,3,,\n"
        b"E23000016,offences,2018-19,platform,Not recorded,80,,\n"))
    session.commit()
    page = client.get("/campaigns/grooming-2019/aggregate/cell?measure=offences&period=2018-19"
                      "&dimension=platform").get_data(as_text=True)
    assert 'id="cell-sum">20</strong>' in page  # Instagram and Other; not the 80 unrecorded
