"""Issue 16, point 12: the aggregate page's choice of authorities by name. Typing "Kent,Surrey"
gave a 400 headed "Aggregate: nobody"; authorities and sets are now read by name as well as by
slug or code, ticked in a list, and an unknown name is said to be unknown under a heading that
does not pretend to be an aggregate of anyone."""

from __future__ import annotations

import html
import re
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import pytest

from foitrack.errors import Invalid, NotFound
from foitrack.services import aggregate
from foitrack.services.authority_import import import_authorities
from foitrack.services.campaigns import find_authorities_by_keys
from tests.factories import TEST_ACTOR

BASE = "/campaigns/lockdown-2020"
AGGREGATE = f"{BASE}/aggregate"
RELEASE = f"{BASE}/release"
CHART = f"{BASE}/charts/national-total-offences.svg"


def heading(page: str) -> str:
    return html.unescape(re.search(r"<h1>(.*?)</h1>", page, re.S).group(1))


def problem(page: str) -> str:
    found = re.search(r'<div class="error-summary" role="alert">.*?<p>(.*?)</p>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""


def totals(page: str) -> list[str]:
    """The numbers of the aggregate table, which say whose figures were added."""
    return re.findall(r">([\d,]+)</a>", page.split('id="aggregate"', 1)[-1].split("</table>", 1)[0])


def box(page: str, value: str) -> str:
    """The checkbox for ``value`` with its label."""
    found = re.search(rf'<input type="checkbox" id="([^"]+)" name="authorities" value="{value}"'
                      rf'([^>]*)><label for="([^"]+)">([^<]+)</label>', page)
    assert found, value
    assert found.group(1) == found.group(3)  # the label names its box
    return found.group(0)


def get(client, path: str, authorities: str):
    return client.get(path, query_string={"authorities": authorities})


# ---- 1. names, short names and set titles, as well as slugs and codes ----------------------

@pytest.mark.parametrize("typed", ["Kent,Surrey", "kent police, Surrey Police",
                                   " KENT , surrey police "])
def test_authorities_are_chosen_by_name_or_short_name_in_any_case(client, lockdown_viewer, typed):
    by_slug = get(client, AGGREGATE, "kent,surrey").get_data(as_text=True)
    response = get(client, AGGREGATE, typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, problem(page)
    assert heading(page) == "Aggregate: Kent, Surrey"
    assert totals(page) == totals(by_slug) and totals(page)


def test_a_set_is_chosen_by_its_title(client, lockdown_viewer):
    page = get(client, AGGREGATE, "territorial police forces of england and wales")
    assert page.status_code == 200
    assert heading(page.get_data(as_text=True)) == (
        "Aggregate: Territorial police forces of England and Wales")


def test_slugs_and_codes_mean_what_they_meant(session, lockdown_viewer):
    assert aggregate.subset_ids(session, "england-wales")[1] == (
        "Territorial police forces of England and Wales")
    ids, label = aggregate.subset_ids(session, "E23000031,E23000033,E23000032")
    assert label == "Surrey, Sussex, Kent" and len(ids) == 3
    assert aggregate.subset_ids(session, "kent")[1] == "Kent"
    assert aggregate.subset_ids(session, "  ") == (None, None)


def test_names_are_read_in_the_service(session, lockdown_viewer):
    by_name = aggregate.subset_ids(session, "West Mercia Police, kent")
    assert by_name == aggregate.subset_ids(session, "west-mercia,E23000032")
    assert by_name[1] == "West Mercia, Kent"


def test_a_name_of_two_authorities_is_an_error_naming_it(client, session, lockdown_viewer):
    import_authorities(session, TEST_ACTOR,
                       BytesIO(b"name,kind,short_name\nKent County Council,council,Kent\n"))
    session.commit()
    with pytest.raises(NotFound, match="'Kent' names more than one authority: Kent County "
                                       "Council .*, Kent Police"):
        aggregate.subset_ids(session, "Kent,Surrey")
    page = get(client, AGGREGATE, "Kent,Surrey")
    assert page.status_code == 400
    assert "'Kent' names more than one authority" in problem(page.get_data(as_text=True))
    # The slug still chooses the force.
    assert aggregate.subset_ids(session, "kent,surrey")[1] == "Kent, Surrey"


def test_campaign_forms_still_take_only_slugs_and_codes(session, lockdown_viewer):
    """find_authorities_by_keys (new campaigns, adding authorities, the API) is unchanged."""
    assert [a.slug for a in find_authorities_by_keys(session, ["kent", "E23000031"], "f")] == [
        "kent", "surrey"]
    with pytest.raises(Invalid, match="no authority with the slug or code 'Kent Police'"):
        find_authorities_by_keys(session, ["Kent Police"], "authorities")


# ---- 2. a list to tick, by name ---------------------------------------------------------

def test_the_form_lists_the_asked_authorities_and_the_sets_by_name(client, lockdown_viewer):
    page = get(client, AGGREGATE, "").get_data(as_text=True)
    form = page.split('<form method="get"', 1)[1].split("</form>", 1)[0]
    assert "<legend" in form and "Authorities asked (43)" in form
    assert "<legend class=\"label\">Sets</legend>" in form
    assert ">Kent Police</label>" in box(form, "kent")
    assert ">Territorial police forces of England and Wales (43)</label>" in box(form,
                                                                                "england-wales")
    names = re.findall(r'id="authority-[^"]+"[^>]*><label for="[^"]+">([^<]+)</label>', form)
    assert len(names) == 43 and names == sorted(names)
    # The search box is for JavaScript to show; without it the boxes work as they are.
    assert re.search(r'<div class="form-group" data-choice-filter hidden>\s*<label class="label" '
                     r'for="choice-search">', form)
    assert client.get("/static/choice-filter.js").status_code == 200


def test_ticked_boxes_choose_the_same_as_a_typed_list(client, lockdown_viewer):
    ticked = client.get(AGGREGATE, query_string=[("authorities", ""), ("authorities", "kent"),
                                                 ("authorities", "surrey"), ("checked", "1")])
    # One spelling, so the links, the map and the charts read the whole choice.
    assert ticked.status_code == 302
    location = urlsplit(ticked.headers["Location"])
    assert location.path == AGGREGATE
    assert parse_qs(location.query) == {"authorities": ["kent,surrey"], "checked": ["1"]}
    page = client.get(ticked.headers["Location"]).get_data(as_text=True)
    assert heading(page) == "Aggregate: Kent, Surrey"
    # The old single list still answers at once.
    assert get(client, AGGREGATE, "kent,surrey").status_code == 200


def test_a_typed_name_and_a_ticked_set_add_together(client, lockdown_viewer):
    ticked = client.get(AGGREGATE, query_string=[("authorities", "British Transport Police"),
                                                 ("authorities", "south-east")])
    page = client.get(ticked.headers["Location"]).get_data(as_text=True)
    assert "British Transport" in heading(page) and "Kent" in heading(page)


def test_the_chosen_boxes_are_ticked_and_the_rest_left_typed(client, session, lockdown_viewer):
    page = get(client, AGGREGATE, "Kent, British Transport Police").get_data(as_text=True)
    assert " checked>" in box(page, "kent")
    assert " checked>" not in box(page, "surrey")
    # British Transport Police was not asked, so it has no box: it stays in the typed box.
    assert 'name="authorities" value="British Transport Police"' in page
    assert " checked>" in box(get(client, AGGREGATE, "england-wales").get_data(as_text=True),
                              "england-wales")


# ---- 3. never "Aggregate: nobody" --------------------------------------------------------

def test_an_unknown_name_is_named_and_the_page_is_not_of_nobody(client, lockdown_viewer):
    response = get(client, AGGREGATE, "Kent,Nowhere Constabulary")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nobody" not in page
    assert heading(page) == "Aggregate: no authorities chosen"
    assert problem(page) == "no authority or set named 'Nowhere Constabulary'"
    # The form to put it right, with what was typed.
    assert 'id="authorities" name="authorities" value="Kent,Nowhere Constabulary"' in page
    assert "No figures yet" not in page  # no empty tables passing for the figures


def test_the_release_of_an_unknown_name_is_not_the_national_release(client, lockdown_viewer):
    response = get(client, RELEASE, "Nowhere")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "national figures" not in heading(page)
    assert heading(page).endswith(": no authorities chosen")
    assert problem(page) == "no authority or set named 'Nowhere'"
    assert 'id="release-lines"' not in page  # no lines worded from nobody's figures
    assert 'name="authorities" value="Nowhere"' in page


def test_the_release_reads_names(client, lockdown_viewer):
    page = get(client, RELEASE, "Kent, Surrey").get_data(as_text=True)
    assert heading(page).endswith("Kent and Surrey Police together")


# ---- 4. one cache entry per choice, however it is spelt -----------------------------------


def test_names_and_slugs_share_one_chart(client, lockdown_viewer, renders):
    for spelling in ["kent,surrey", "Kent,Surrey", " surrey police , KENT ", "E23000032,surrey"]:
        assert get(client, CHART, spelling).status_code == 200, spelling
    assert len(renders) == 1


def test_a_set_by_title_shares_the_set_by_slug(client, lockdown_viewer, renders):
    for spelling in ["england-wales", "Territorial police forces of England and Wales"]:
        assert get(client, CHART, spelling).status_code == 200, spelling
    assert len(renders) == 1


def test_the_canonical_spelling_is_the_slugs(session, lockdown_viewer):
    assert aggregate.choose_subset(session, "Kent,Surrey").canonical == "kent,surrey"
    assert aggregate.choose_subset(session, "England-Wales").canonical == "england-wales"
